"""Pick one of a few choices: the node to work on, the classification the board shows."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ..safe_text import plain
from .rerun_dialogs import DIALOG_CSS


class ChoiceDialog(ModalScreen[str | None]):
    """A titled list of ``(value, label)`` choices; dismisses with the value, or None on escape."""

    DEFAULT_CSS = (
        DIALOG_CSS.replace("{name}", "ChoiceDialog")
        + """
    ChoiceDialog > #dialog { max-width: 60; }
    ChoiceDialog OptionList { height: auto; max-height: 12; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice_dialog.cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]], current: str) -> None:
        """``current`` (a value) is highlighted when it is among the choices."""
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        """The title and the choices."""
        with Vertical(id="dialog"):
            yield Label(plain(self.title_text), id="title")
            yield OptionList(
                *(Option(plain(label)) for _value, label in self.choices), id="choices"
            )

    def on_mount(self) -> None:
        """Highlight the current choice."""
        options = self.query_one(OptionList)
        values = [value for value, _label in self.choices]
        options.highlighted = values.index(self.current) if self.current in values else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Pick."""
        event.stop()
        self.dismiss(self.choices[event.option_index][0])

    def action_cancel(self) -> None:
        """Keep things as they are."""
        self.dismiss(None)
