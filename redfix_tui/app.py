"""The Textual application and its factory, shared by the CLI and the tests."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import threading
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState
from textual.worker_manager import WorkerManager

from . import __version__
from .error_log import one_line, record_error
from .notify import Announcement
from .session import Session

EXIT_DEADLINE_S = 1.3
"""A signalled console is gone this long after the signal, whatever its exit path does."""
CLOSE_GRACE_S = 0.6
"""How long a signalled console waits for its node session to close."""


class ReportingWorkerManager(WorkerManager):
    """The app's worker manager: every worker that ends in error is reported.

    Textual sends ``Worker.StateChanged`` only to the node that started the worker, and it does
    not bubble, so no single handler would see them all; every worker, though, is removed from
    this manager when its task is done. Workers with ``exit_on_error`` (the default) still stop
    the app as Textual does; the others are passed to ``on_error``.
    """

    def __init__(self, app: App, on_error: Callable[[Worker], None]) -> None:
        super().__init__(app)
        self._on_error = on_error

    def _remove_worker(self, worker: Worker) -> None:
        super()._remove_worker(worker)
        if worker.state == WorkerState.ERROR and not worker.exit_on_error:
            self._on_error(worker)


def styles_dir() -> Path:
    """The ``styles/`` directory: inside the installed package, else the source checkout's."""
    packaged = Path(__file__).parent / "styles"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "styles"


class RedfixApp(App[None]):
    """The investigation console: one main screen over one node session."""

    TITLE = "redfix-tui"
    SUB_TITLE = __version__
    CSS_PATH = [styles_dir() / "app.tcss"]
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Keys", id="app.help"),
    ]

    def __init__(self, session: Session, *, tick: bool = True, load: bool = True) -> None:
        super().__init__()
        self.session = session
        self.tick = tick
        """Whether clocks tick (off in snapshot tests, so frames are stable)."""
        self.load = load
        """Whether the main screen connects and loads on mount (off for fixed-content tests)."""
        self._reporting_workers = ReportingWorkerManager(self, self.worker_failed)

    @property
    def workers(self) -> WorkerManager:
        """The worker manager (one that reports workers ending in error)."""
        return self._reporting_workers

    def worker_failed(self, worker: Worker) -> None:
        """A worker ended in error: one line for the operator, the traceback in the error log."""
        error = worker.error
        if error is None:
            return
        what = worker.name or worker.group
        try:
            where = f"details in {record_error(what, error)}"
        except OSError as exc:
            where = f"no error log ({exc.strerror or exc})"
        self.notify(
            f"{what} failed: {one_line(error)} — {where}",
            title="Internal error",
            severity="error",
            timeout=20,
        )

    def on_load(self) -> None:
        """Start connecting to the node before the first frame: the SSH handshake runs while
        Textual starts (the main screen's first refresh then finds the connection up, or its
        error). Not for the demo (its server starts with the screen) or a local node."""
        session = self.session
        if not self.load or not session.early or session.local or session.started_early:
            return  # the CLI started already (Session.start_early), or nothing to connect to
        early = getattr(session.node, "connect_early", None)
        if early is not None:
            early()

    def on_mount(self) -> None:
        """Exit cleanly on SIGHUP/SIGTERM (a closed tmux pane) so drafts are saved on the way."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGHUP, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self._on_signal, signum)

    def on_ready(self) -> None:
        """Move start-up's objects out of the collector's way once the first frame is up.

        Full collections otherwise walk every Textual and asyncssh object and took 40–90 ms,
        landing on key presses during a log flood (measured by ``benchmarks/bench_log.py``).
        """
        gc.collect()
        gc.freeze()

    def _on_signal(self, signum: int) -> None:
        """Save every open draft, then shut down (see :meth:`_shut_down`).

        A watchdog thread ends the process :data:`EXIT_DEADLINE_S` after the signal, whatever
        the rest of the exit path does (fails, hangs, or blocks the event loop). Nothing here
        imports a module: a console on a dying terminal or a full disk must still go.
        """
        watchdog = threading.Timer(EXIT_DEADLINE_S, os._exit, args=(128 + signum,))
        watchdog.daemon = True
        watchdog.start()
        for screen in self.screen_stack:
            for editor in screen.query("JournalEditor"):  # by name: it may never be imported
                try:
                    editor.save_draft()  # type: ignore[attr-defined]  # found by name
                except Exception as exc:  # logged; the exit goes on
                    self._log_exit_failure("saving the journal draft", exc)
        asyncio.get_running_loop().create_task(self._shut_down(signum))

    def _log_exit_failure(self, what: str, error: BaseException) -> None:
        """Write a failure of the exit path to the error log (there is no screen to show it)."""
        try:
            record_error(f"on exit, {what}", error)
        except OSError as log_error:
            line = f"redfix-tui: on exit, {what} failed: {one_line(error)} ({log_error})\n"
            with contextlib.suppress(OSError):  # stderr is the last place left (maybe gone)
                os.write(2, line.encode())

    async def _shut_down(self, signum: int) -> None:
        """Close the node session (the demo's commands with it), then leave.

        After SIGHUP the terminal is gone and Textual's orderly exit can wait forever on it, so
        the process ends at once; after SIGTERM it exits normally, the watchdog behind it.
        Reruns on the node are detached and never depend on this process.
        """
        try:
            await asyncio.wait_for(self.session.close(), CLOSE_GRACE_S)
        except Exception as exc:  # logged; the exit goes on
            self._log_exit_failure("closing the node session", exc)
        if signum == signal.SIGHUP:
            os._exit(128 + signum)
        self.exit(return_code=128 + signum)

    def get_default_screen(self) -> Screen:
        """The main screen."""
        from .screens.main import MainScreen

        return MainScreen(self.session, tick=self.tick, load=self.load)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every binding of the focused chain by name, plus Textual's own commands."""
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            yield SystemCommand(
                binding.description,
                f"key {binding.key_display or binding.key}",
                partial(self.run_action, binding.action, active.node),
            )
        extra = getattr(screen, "palette_commands", None)
        if extra is not None:
            for title, help_text, callback in extra():
                if title not in seen:
                    seen.add(title)
                    yield SystemCommand(title, help_text, callback)

    def announce(self, announcement: Announcement | None) -> None:
        """Ring the bell and/or set the terminal (tmux pane) title, as ``announcement`` says.

        The escapes are built (and node text made safe) by :mod:`redfix_tui.notify`.
        """
        if announcement is None or self._driver is None or self.is_headless:
            return
        self._driver.write(announcement.escapes())

    def action_help(self) -> None:
        """Show or hide the key panel."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_help_quit(self) -> None:
        """ctrl+c does not quit: say which key does (Textual's hint is markup, which is off)."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(f"Press {key} to quit the app", title="Do you want to quit?")
                return

    def notify(self, message: str, *, title: str = "", markup: bool = True, **options) -> None:
        """Every notification (widgets' ``notify`` lands here) goes through the node-text gate.

        Messages often carry node text (stderr, process lines, tags), so markup is always off
        and escapes and controls are made visible; newlines are kept. ``markup`` is accepted for
        Textual's signature and ignored.
        """
        from .safe_text import clean

        super().notify(clean(message, newlines=True), title=clean(title), markup=False, **options)

    async def on_unmount(self) -> None:
        """Close the node connection and stop the demo node."""
        await self.session.close()


def create_app(session: Session, *, tick: bool = True, load: bool = True) -> RedfixApp:
    """Build the app for ``session`` (the CLI and the tests both come through here)."""
    return RedfixApp(session, tick=tick, load=load)
