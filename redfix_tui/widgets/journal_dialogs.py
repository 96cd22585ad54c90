"""Small modal questions used by the journal editor (discard? restore the draft?)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from redfix_tui.journal.drafts import Draft


class ConfirmScreen(ModalScreen[bool]):
    """Ask a yes/no question; dismisses with True (yes) or False (no)."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64;
        max-width: 90%;
        height: auto;
        border: thick $warning;
        background: $panel;
        padding: 1 2;
    }
    ConfirmScreen #confirm-question { width: 1fr; margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "escape", "Back", id="confirm.escape"),
    ]

    def __init__(
        self,
        question: str,
        *,
        yes: str = "Yes",
        no: str = "No",
        escape_result: bool = False,
    ) -> None:
        """``escape_result`` is the answer escape gives (pick the choice that loses nothing)."""
        super().__init__()
        self.question = question
        self.yes_label = yes
        self.no_label = no
        self.escape_result = escape_result

    def compose(self) -> ComposeResult:
        """The question and two buttons."""
        with Vertical():
            yield Static(self.question, id="confirm-question", markup=False)
            with Horizontal():
                yield Button(f"{self.yes_label} (y)", id="confirm-yes", variant="warning")
                yield Button(f"{self.no_label} (n)", id="confirm-no", variant="primary")

    def on_mount(self) -> None:
        """Focus the safe choice."""
        safe = "#confirm-yes" if self.escape_result else "#confirm-no"
        self.query_one(safe, Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """A button answers the question."""
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        """y / n answer the question."""
        self.dismiss(yes)

    def action_escape(self) -> None:
        """Escape answers with the choice that loses nothing."""
        self.dismiss(self.escape_result)


def restore_offer(draft: Draft) -> ConfirmScreen:
    """The question put at start-up about ``draft`` (escape restores: it loses nothing)."""
    what = f"“{draft.title}”" if draft.title.strip() else "(untitled)"
    lines = len(draft.body.splitlines())
    kind = "an edit of an entry" if draft.editing_key else "a new entry"
    question = (
        f"A draft of {kind} was left unsaved ({draft.saved_at}): {what}, {lines} lines. Restore it?"
    )
    return ConfirmScreen(question, yes="Restore", no="Discard draft", escape_result=True)
