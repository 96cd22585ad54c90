"""Pick which configured node the console works on."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from .rerun_dialogs import DIALOG_CSS


class NodePicker(ModalScreen[str | None]):
    """The configured nodes; dismisses with the chosen name, or None on escape."""

    DEFAULT_CSS = (
        DIALOG_CSS.replace("{name}", "NodePicker")
        + """
    NodePicker > #dialog { max-width: 60; }
    NodePicker OptionList { height: auto; max-height: 12; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="node_picker.cancel")]

    def __init__(self, nodes: list[tuple[str, str]], current: str) -> None:
        """``nodes`` holds (name, description) pairs; ``current`` is highlighted."""
        super().__init__()
        self.nodes = nodes
        self.current = current

    def compose(self) -> ComposeResult:
        """The nodes."""
        with Vertical(id="dialog"):
            yield Label("Work on node", id="title")
            yield OptionList(
                *(Option(f"{name}  ({about})", id=name) for name, about in self.nodes),
                id="nodes",
            )

    def on_mount(self) -> None:
        """Highlight the node in use."""
        options = self.query_one(OptionList)
        names = [name for name, _ in self.nodes]
        options.highlighted = names.index(self.current) if self.current in names else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Pick."""
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Stay on the current node."""
        self.dismiss(None)
