"""Ask which log to open: a path on the node, or a local file."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ..safe_text import clean, plain
from .rerun_dialogs import DIALOG_CSS

LOCAL_PREFIX = "local:"
"""A path starting with this opens a file on this machine instead of the node."""


def parse_target(text: str) -> tuple[str, str] | str:
    """``("remote" | "local", path)`` for a usable answer, else the reason it is not usable."""
    text = text.strip()
    local = text.startswith(LOCAL_PREFIX)
    path = text[len(LOCAL_PREFIX) :].strip() if local else text
    if not path:
        return "type a path"
    if any(ord(c) < 32 for c in path):
        return "the path has control characters"
    if not local and not path.startswith("/"):
        return "a path on the node must be absolute (or start with local: for a file here)"
    return ("local" if local else "remote", path)


class OpenLogDialog(ModalScreen[tuple[str, str] | None]):
    """Dismisses with ``(kind, path)`` or None."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "OpenLogDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="open_log.cancel")]

    def __init__(self, current: str = "") -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        """A path input and a line for what is wrong with it."""
        with Vertical(id="dialog"):
            yield Label("Open a log", id="title")
            yield Label(
                "A path on the node (followed like tail -F), or local:PATH for a file here",
                classes="field",
            )
            yield Input(clean(self.current), placeholder="/tmp/redfix-gitea.log", id="path")
            yield Static("", id="error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Open it, or say why not."""
        event.stop()
        target = parse_target(event.value)
        if isinstance(target, str):
            self.query_one("#error", Static).update(plain(target))
            return
        self.dismiss(target)

    def action_cancel(self) -> None:
        """Keep the current log."""
        self.dismiss(None)
