"""The Textual application and its factory, shared by the CLI and the tests."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import threading
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from . import __version__
from .session import Session

SHUTDOWN_GRACE_S = 3.0
"""How long a signalled console may take to close its session and exit."""


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
        """Save every open draft at once, then shut down (see :meth:`_shut_down`)."""
        from .widgets.journal_editor import JournalEditor

        for screen in self.screen_stack:
            for editor in screen.query(JournalEditor):
                with contextlib.suppress(Exception):
                    editor.save_draft()
        asyncio.get_running_loop().create_task(self._shut_down(signum))

    async def _shut_down(self, signum: int) -> None:
        """Close the node session (the demo's commands with it), then leave.

        After SIGHUP the terminal is gone and Textual's orderly exit can wait forever on it, so
        the process ends at once; after SIGTERM it exits normally, with a watchdog behind it.
        Reruns on the node are detached and never depend on this process.
        """
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.session.close(), SHUTDOWN_GRACE_S)
        if signum == signal.SIGHUP:
            os._exit(128 + signum)
        watchdog = threading.Timer(SHUTDOWN_GRACE_S, os._exit, args=(128 + signum,))
        watchdog.daemon = True
        watchdog.start()
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

    def action_help(self) -> None:
        """Show or hide the key panel."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

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
