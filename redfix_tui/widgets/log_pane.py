"""LogPane: a LogView with its search/filter input and a detail line (source and stream state).

The pane owns the stream feeding its spool: :meth:`LogPane.follow_remote` (a
:class:`~redfix_tui.logs.tail.RemoteTail`), :meth:`LogPane.run_remote` (a command whose output
ends) or :meth:`LogPane.open_local` (a local file, re-read as it grows). The view's title says
what the log is, short (``mattermost-lts · rerun log · redfix-mattermost-lts.log``), and how
live it is (``live · last byte 3 s ago``, ``quiet 2 min``, ``reconnecting since 23:41Z``: from the
spool's arrival times, once a second); the detail line under it gives the full path and the
stream's state. The same input serves ``/`` and ``f``, a mark's note (``m``) and the path to
save to (``s``). With :attr:`LogPane.watch_failures` on, failure lines arriving in a followed log
are posted as :class:`LogPane.FailureAppeared`.
"""

from __future__ import annotations

import asyncio
import posixpath
import time

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Input, Static

from redfix_tui.logs.ansi import strip as strip_escapes
from redfix_tui.logs.clock import freshness
from redfix_tui.logs.spool import LogSpool
from redfix_tui.logs.tail import (
    CONNECTED,
    ENDED,
    EXCERPT,
    LOST,
    RECONNECTING,
    RETRYING,
    WAITING,
    Node,
    RemoteCommandStream,
    RemoteTail,
    StreamState,
)
from redfix_tui.safe_text import plain
from redfix_tui.widgets.log_view import LogView, default_save_path

RERUN_LOG = "rerun log"
"""The kind of a recipe's rerun log."""
NODE_LOG = "log"
"""The kind of any other file followed on the node."""
LOCAL_LOG = "local file"
"""The kind of a file on this machine."""
COMMAND = "command output"
"""The kind of a command's output."""


def log_title(kind: str, path: str, recipe: str = "") -> str:
    """What a log is, short: ``mattermost-lts · rerun log · redfix-mattermost-lts.log``
    (the recipe when there is one, the kind, the file's base name)."""
    base = posixpath.basename(path.rstrip("/")) or path
    return " · ".join(part for part in (recipe, kind, base) if part)


class LogPane(Vertical):
    """A log view, the input for ``/`` and ``f``, and a line with the stream's state."""

    DEFAULT_CSS = """
    LogPane {
        height: 1fr;
        & > #log-find { display: none; height: 3; }
        & > #log-find.-visible { display: block; }
        & > #log-detail { height: 1; padding: 0 1; }
        & #log-source { width: 1fr; height: 1; color: $text-muted; text-wrap: nowrap;
                        text-overflow: ellipsis; }
        & #log-state { width: auto; max-width: 70%; height: 1; padding-left: 2;
                       color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
        & #log-state.-connected { color: $success; }
        & #log-state.-waiting { color: $warning; }
        & #log-state.-reconnecting { color: $warning; text-style: bold; }
        & #log-state.-retrying { color: $error; text-style: bold; }
        & #log-state.-ended { color: $text; text-style: bold; }
        & #log-state.-lost { color: $error; text-style: bold; }
    }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        """Create an empty pane; attach a source with one of the ``open``/``follow`` methods."""
        super().__init__(name=name, id=id, classes=classes)
        self._find_mode = "search"
        self._state: StreamState | None = None
        self._state_text = ""
        self._owned_spool: LogSpool | None = None
        self.title_text = ""
        """What the log is, short (the view's title)."""
        self.source_text = ""
        """Where the log is, in full (``host:path``; the detail line's left part)."""
        self.freshness = ""
        """How live the log is (``live · last byte 3 s ago``), shown beside the title."""
        self.watch_failures = False
        """Post :class:`FailureAppeared` for failure lines arriving in a followed log."""
        self._trouble_since: float | None = None
        self._version_seen = -1
        self.failures_seen: int | None = None
        """Failure lines of the followed log seen by the last scan (None: not scanned yet; the
        first scan of a log sets what counts as new)."""

    class FailureAppeared(Message):
        """A failure line arrived in the followed log (with ``watch_failures`` on)."""

        def __init__(self, where: str, line: str) -> None:
            self.where = where
            """What the log is, short (the title: ``gitea · rerun log · redfix-gitea.log``)."""
            self.line = line
            """The failure line, escapes stripped (node text: untrusted)."""
            super().__init__()

    def compose(self) -> ComposeResult:
        """The view, the (hidden) find input and the detail line (source, state)."""
        yield LogView(id="log-view")
        yield Input(placeholder="regex", id="log-find")
        with Horizontal(id="log-detail"):
            yield Static("", id="log-source")
            yield Static("", id="log-state")

    @property
    def log_view(self) -> LogView:
        """The pane's LogView."""
        return self.query_one("#log-view", LogView)

    def on_mount(self) -> None:
        """Keep a RECONNECTING countdown current."""
        self.set_interval(1.0, self._refresh_state, name="log-state-tick")
        self.set_interval(1.0, self.refresh_freshness, name="log-freshness-tick")

    # -- sources ---------------------------------------------------------------------------

    def _new_spool(self, spool: LogSpool, label: str, host: str = "", title: str = "") -> None:
        self.workers.cancel_group(self, "log-stream")
        if self._owned_spool is not None and self._owned_spool is not spool:
            self._owned_spool.close()
        self._owned_spool = spool
        self._show(spool, label, host, title)

    def _show(self, spool: LogSpool, label: str, host: str, title: str) -> None:
        """Attach ``spool`` to the view; title it and put its full path in the detail line."""
        self.log_view.host = host
        self.log_view.attach(spool, label)
        self.failures_seen = None
        self._trouble_since = None
        self.freshness = ""
        self.title_text = title or label
        self.source_text = f"{host}:{label}" if host else label
        self.show_title()
        try:
            source = self.query_one("#log-source", Static)
        except NoMatches:
            return
        source.update(plain(self.source_text))  # a path from the node: never markup

    def show_title(self) -> None:
        """Put :attr:`title_text` on the view's border."""
        title = plain(self.title_text)  # names from the node: no markup
        if self.freshness:
            title.append(f" · {self.freshness}", style="italic")
        self.log_view.border_title = title

    def refresh_freshness(self) -> None:
        """Bring the title's freshness up to date (and look for new failure lines)."""
        spool = self.log_view.spool
        if spool is None:
            return
        state = self._state
        status = None if state is None or state.status == "LOCAL" else state.status
        arrivals = spool.arrivals
        text = freshness(status, arrivals.last, arrivals.clock(), trouble_since=self._trouble_since)
        if not self.log_view.show_rate and arrivals.clock is time.time:
            text = ""  # time-dependent words hidden with the rate (snapshots), unless injected
        if text != self.freshness:
            self.freshness = text
            self.show_title()
        quiet, self._version_seen = spool.version == self._version_seen, spool.version
        if (
            self.watch_failures
            and status == CONNECTED
            and (quiet or self.failures_seen is not None)
        ):
            # The first scan waits for a tick without new bytes: the catch-up is not news.
            self._failure_worker(spool)

    @work(thread=True, group="log-failures", exclusive=True, name="log-failures")
    def _failure_worker(self, spool: LogSpool) -> None:
        """Scan new lines for failures; the first scan of a log sets what counts as new."""
        markers = self.log_view.finder.markers
        markers.extend(spool)
        count = len(markers.failures)
        seen, self.failures_seen = self.failures_seen, count
        if seen is None or count <= seen or spool is not self.log_view.spool:
            return
        line = strip_escapes(spool.read_line(markers.failures[count - 1], limit=400))
        self.post_message(self.FailureAppeared(self.title_text, line))

    def attach(
        self, spool: LogSpool, source_label: str, *, host: str = "", recipe: str = ""
    ) -> None:
        """Show an existing spool (the caller keeps ownership of it); ``recipe`` when it is that
        recipe's rerun log."""
        self.workers.cancel_group(self, "log-stream")
        kind = RERUN_LOG if recipe else NODE_LOG if host else LOCAL_LOG
        self._show(spool, source_label, host, log_title(kind, source_label, recipe))

    def show_excerpt(self, spool: LogSpool, source_label: str, *, host: str = "") -> None:
        """Show lines read once (cited lines read back): no stream, so no previous stream's
        state or freshness stays beside them (the caller keeps ownership of ``spool``)."""
        self.attach(spool, source_label, host=host)
        self._set_state(StreamState(EXCERPT, message="read once, not followed"))

    def open_local(self, path: str) -> None:
        """Show a local file, following its growth."""
        try:
            spool = LogSpool.open_file(path)
        except OSError as error:
            self.notify(f"cannot open {path}: {error.strerror}", severity="error")
            return
        self._new_spool(spool, path, title=log_title(LOCAL_LOG, path))
        self._set_state(StreamState("LOCAL", message=path))

    def follow_remote(
        self,
        node: Node,
        path: str,
        *,
        recipe: str = "",
        early: tuple[RemoteTail, asyncio.Task[None]] | None = None,
    ) -> RemoteTail:
        """Tail ``path`` on ``node`` (reconnecting and resuming after drops); ``recipe`` when it
        is that recipe's rerun log (the title says so). ``early``: a tail of ``path`` already
        running (begun before the UI, :meth:`Session.start_early`), taken over with its spool."""
        if early is not None:
            tail, task = early
            spool = tail.spool
            tail.watch(self._set_state)
            stream = _adopted(task)
        else:
            spool = LogSpool()
            tail = RemoteTail(node, path, spool, on_state=self._set_state)
            stream = tail.run()
        title = log_title(RERUN_LOG if recipe else NODE_LOG, path, recipe)
        self._new_spool(spool, path, node.host_label, title)
        self.run_worker(stream, group="log-stream", exclusive=True, name="log-tail")
        return tail

    def run_remote(self, node: Node, command: str, label: str) -> RemoteCommandStream:
        """Stream a command's output until it ends (``command`` is quoted by the caller)."""
        spool = LogSpool()
        stream = RemoteCommandStream(node, command, spool, on_state=self._set_state)
        self._new_spool(spool, label, node.host_label, f"{COMMAND} · {label}")
        self.run_worker(stream.run(), group="log-stream", exclusive=True, name="log-command")
        return stream

    def on_unmount(self) -> None:
        """Close a spool the pane created."""
        self.workers.cancel_group(self, "log-stream")
        if self._owned_spool is not None:
            self._owned_spool.close()
            self._owned_spool = None

    # -- state line ------------------------------------------------------------------------

    def _set_state(self, state: StreamState) -> None:
        self._state = state
        if not self._refresh_state():
            return
        if state.status not in (RECONNECTING, RETRYING):
            self._trouble_since = None
        elif self._trouble_since is None and self.log_view.spool is not None:
            self._trouble_since = self.log_view.spool.arrivals.clock()
        self.refresh_freshness()
        if state.status not in (CONNECTED, WAITING):
            # The stream stopped (ended, lost, reconnecting): show its last lines at once.
            self.log_view.flush()

    def _refresh_state(self) -> bool:
        """Show the stream's state; False when the pane is going away (the app is closing)."""
        state = self._state
        try:
            line = self.query_one("#log-state", Static)
        except NoMatches:
            return False  # a stream reporting after the pane's children were removed
        if state is None:
            return True
        text = state.describe(time.monotonic())
        if text != self._state_text:
            # The line sizes to its text: a layout only when the length changes (a layout
            # repaints the whole screen; a countdown's tick keeps the length).
            resized = len(text) != len(self._state_text)
            self._state_text = text
            line.update(plain(text), layout=resized)  # paths, remote errors: never markup
        for status, css in (
            (CONNECTED, "-connected"),
            (WAITING, "-waiting"),
            (RECONNECTING, "-reconnecting"),
            (RETRYING, "-retrying"),
            (ENDED, "-ended"),
            (LOST, "-lost"),
        ):
            line.set_class(state.status == status, css)
        return True

    @property
    def state_text(self) -> str:
        """The state line's current text."""
        return "" if self._state is None else self._state.describe()

    # -- find input ------------------------------------------------------------------------

    def on_log_view_find_requested(self, event: LogView.FindRequested) -> None:
        """Show the input for a search, a filter, a mark's note or the path to save to."""
        event.stop()
        self._find_mode = event.mode
        find = self.query_one("#log-find", Input)
        view = self.log_view
        find.value = ""
        if event.mode == "filter":
            find.placeholder = f"filter regex (±{view.filter_context} lines)"
        elif event.mode == "mark":
            line = (view.cursor_line or 0) + 1
            find.placeholder = f"note for the mark on line {line} (Enter: no note)"
        elif event.mode == "save":
            find.placeholder = "save to (local path)"
            find.value = default_save_path(view.source_label)
        else:
            find.placeholder = "search regex (n / N for next / previous)"
        find.add_class("-visible")
        find.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Search, filter, mark or save as asked, and go back to the view."""
        if event.input.id != "log-find":
            return
        event.stop()
        self._close_find()
        if self._find_mode == "filter":
            self.log_view.set_filter(event.value)
        elif self._find_mode == "mark":
            self.log_view.add_mark(event.value)
        elif self._find_mode == "save":
            if event.value.strip():
                self.log_view.save_to(event.value.strip())
        else:
            self.log_view.search(event.value)

    def _close_find(self) -> None:
        self.query_one("#log-find", Input).remove_class("-visible")
        self.log_view.focus()

    def on_key(self, event) -> None:
        """Escape in the input closes it."""
        if event.key == "escape" and self.query_one("#log-find", Input).has_focus:
            event.stop()
            self._close_find()


async def _adopted(task: asyncio.Task[None]) -> None:
    """Wait for a tail begun before the pane; the worker's cancellation stops it too."""
    try:
        await task
    finally:
        task.cancel()
