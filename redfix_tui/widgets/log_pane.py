"""LogPane: a LogView with its search/filter input and a stream state line.

The pane owns the stream feeding its spool: :meth:`LogPane.follow_remote` (a
:class:`~redfix_tui.logs.tail.RemoteTail`), :meth:`LogPane.run_remote` (a command whose output
ends) or :meth:`LogPane.open_local` (a local file, re-read as it grows).
"""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import Input, Static

from redfix_tui.logs.spool import LogSpool
from redfix_tui.logs.tail import (
    CONNECTED,
    ENDED,
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
from redfix_tui.widgets.log_view import LogView


class LogPane(Vertical):
    """A log view, the input for ``/`` and ``f``, and a line with the stream's state."""

    DEFAULT_CSS = """
    LogPane {
        height: 1fr;
        & > #log-find { display: none; height: 3; }
        & > #log-find.-visible { display: block; }
        & > #log-state { height: 1; padding: 0 1; color: $text-muted; }
        & > #log-state.-connected { color: $success; }
        & > #log-state.-waiting { color: $warning; }
        & > #log-state.-reconnecting { color: $warning; text-style: bold; }
        & > #log-state.-retrying { color: $error; text-style: bold; }
        & > #log-state.-ended { color: $text; text-style: bold; }
        & > #log-state.-lost { color: $error; text-style: bold; }
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

    def compose(self) -> ComposeResult:
        """The view, the (hidden) find input and the state line."""
        yield LogView(id="log-view")
        yield Input(placeholder="regex", id="log-find")
        yield Static("", id="log-state")

    @property
    def log_view(self) -> LogView:
        """The pane's LogView."""
        return self.query_one("#log-view", LogView)

    def on_mount(self) -> None:
        """Keep a RECONNECTING countdown current."""
        self.set_interval(1.0, self._refresh_state, name="log-state-tick")

    # -- sources ---------------------------------------------------------------------------

    def _new_spool(self, spool: LogSpool, label: str, host: str = "") -> None:
        self.workers.cancel_group(self, "log-stream")
        if self._owned_spool is not None and self._owned_spool is not spool:
            self._owned_spool.close()
        self._owned_spool = spool
        self.log_view.host = host
        self.log_view.attach(spool, label)

    def attach(self, spool: LogSpool, source_label: str, *, host: str = "") -> None:
        """Show an existing spool (the caller keeps ownership of it)."""
        self.workers.cancel_group(self, "log-stream")
        self.log_view.host = host
        self.log_view.attach(spool, source_label)

    def open_local(self, path: str) -> None:
        """Show a local file, following its growth."""
        try:
            spool = LogSpool.open_file(path)
        except OSError as error:
            self.notify(f"cannot open {path}: {error.strerror}", severity="error")
            return
        self._new_spool(spool, path)
        self._set_state(StreamState("LOCAL", message=path))

    def follow_remote(self, node: Node, path: str) -> RemoteTail:
        """Tail ``path`` on ``node`` (reconnecting and resuming after drops)."""
        spool = LogSpool()
        tail = RemoteTail(node, path, spool, on_state=self._set_state)
        self._new_spool(spool, path, node.host_label)
        self.run_worker(tail.run(), group="log-stream", exclusive=True, name="log-tail")
        return tail

    def run_remote(self, node: Node, command: str, label: str) -> RemoteCommandStream:
        """Stream a command's output until it ends (``command`` is quoted by the caller)."""
        spool = LogSpool()
        stream = RemoteCommandStream(node, command, spool, on_state=self._set_state)
        self._new_spool(spool, label, node.host_label)
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
            # One fixed-height line: no layout needed (a layout repaints the whole screen).
            self._state_text = text
            line.update(plain(text), layout=False)  # paths, remote errors: never markup
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
        """Show the input for a search or a filter."""
        event.stop()
        self._find_mode = event.mode
        find = self.query_one("#log-find", Input)
        if event.mode == "filter":
            find.placeholder = f"filter regex (±{self.log_view.filter_context} lines)"
        else:
            find.placeholder = "search regex (n / N for next / previous)"
        find.value = ""
        find.add_class("-visible")
        find.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Run the search or filter and go back to the view."""
        if event.input.id != "log-find":
            return
        event.stop()
        self._close_find()
        if self._find_mode == "filter":
            self.log_view.set_filter(event.value)
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
