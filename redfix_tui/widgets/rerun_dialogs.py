"""Modal dialogs of the recipe board: start a rerun, queue several, cancel one, classify.

Each dialog is a :class:`~textual.screen.ModalScreen` returning its answer through
``dismiss`` (``None`` when the operator backs out with escape). Recipe names, tags, paths and
commands are shown through :mod:`redfix_tui.safe_text` (plain text, never markup).
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ..safe_text import clean, plain
from ..shellcmd import UnsafeValue
from ..tracker import CLASSIFICATIONS

DIALOG_CSS = """
{name} {
    align: center middle;
    background: $background 60%;
    & > #dialog {
        width: 90%;
        max-width: 100;
        height: auto;
        max-height: 95%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    & #title { text-style: bold; width: 1fr; }
    & .field { color: $text-muted; }
    & #buttons { height: auto; margin-top: 1; align-horizontal: right; }
    & Button { margin-left: 2; min-width: 10; }
    & Input { margin-bottom: 1; }
    & #error { color: $error; text-style: bold; height: auto; }

}
"""


class RerunConfirm(ModalScreen[str | None]):
    """Confirm an isolation rerun: the exact command, the (editable) tag and the log path.

    Dismisses with the tag to run, or None.
    """

    DEFAULT_CSS = (
        DIALOG_CSS.replace("{name}", "RerunConfirm")
        + """
    RerunConfirm #command { background: $boost; padding: 0 1; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="rerun_dialog.cancel")]

    def __init__(self, recipe: str, tag: str, build: Callable[[str], str], log: str) -> None:
        super().__init__()
        self.recipe = recipe
        self.tag = tag
        self._build = build
        self.log_path = log

    def compose(self) -> ComposeResult:
        """Title, tag input, command, log path, error line and buttons."""
        with Vertical(id="dialog"):
            yield Label(plain(f"Start an isolation rerun of {self.recipe}?"), id="title")
            yield Label("Tag (enter starts, escape cancels)", classes="field")
            yield Input(
                clean(self.tag), id="tag", placeholder="release tag, e.g. 0.8.1+3.5.0", compact=True
            )
            yield Label("Command (runs detached on the node)", classes="field")
            yield Static("", id="command")
            yield Label("Log", classes="field")
            yield Static(plain(self.log_path), id="log")
            yield Static("", id="error")
            with Horizontal(id="buttons"):
                yield Button("Start rerun", variant="warning", id="start", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        """Show the command for the default tag."""
        self._update(self.tag)

    @property
    def command(self) -> str:
        """The command shown (empty while the tag is invalid)."""
        try:
            return self._build(self.query_one("#tag", Input).value.strip())
        except UnsafeValue:
            return ""

    def _update(self, tag: str) -> None:
        error = ""
        try:
            command = self._build(tag.strip())
        except UnsafeValue as exc:
            command, error = "", str(exc)
        self.query_one("#command", Static).update(plain(command or "—"))
        self.query_one("#error", Static).update(plain(error))
        self.query_one("#error", Static).display = bool(error)
        self.query_one("#start", Button).disabled = bool(error)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Rebuild the command as the tag is edited."""
        self._update(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter starts (when the tag is valid)."""
        event.stop()
        self._confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Start or cancel."""
        event.stop()
        if event.button.id == "start":
            self._confirm()
        else:
            self.dismiss(None)

    def _confirm(self) -> None:
        if self.command:
            self.dismiss(self.query_one("#tag", Input).value.strip())

    def action_cancel(self) -> None:
        """Back out without starting anything."""
        self.dismiss(None)


class CancelConfirm(ModalScreen[bool]):
    """Confirm stopping a rerun's whole process group. Dismisses with True to stop it."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "CancelConfirm")
    BINDINGS = [
        Binding("y", "answer(True)", "Stop it", id="cancel_dialog.yes"),
        Binding("n,escape", "answer(False)", "Keep running", id="cancel_dialog.no"),
    ]

    def __init__(self, recipe: str, pid: int, elapsed: str = "") -> None:
        super().__init__()
        self.recipe = recipe
        self.pid = pid
        self.elapsed = elapsed

    def compose(self) -> ComposeResult:
        """The question and the two answers."""
        with Vertical(id="dialog"):
            yield Label(plain(f"Stop the rerun of {self.recipe}?"), id="title")
            running = f", running {self.elapsed}" if self.elapsed else ""
            yield Static(
                plain(
                    f"SIGTERM to its whole process group (pid {self.pid}{running}). The harness "
                    "does no teardown: the recipe's stack may be left behind."
                )
            )
            with Horizontal(id="buttons"):
                yield Button("Stop it (y)", variant="error", id="yes", compact=True)
                yield Button("Keep running (n)", id="no", compact=True)

    def on_mount(self) -> None:
        """Focus the safe answer."""
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Answer."""
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, stop: bool) -> None:
        """Answer from the keyboard."""
        self.dismiss(stop)


class QueueConfirm(ModalScreen[bool]):
    """Confirm queueing reruns of several recipes on the node. Dismisses with True to queue.

    The queue runs them one after another, detached on the node (it survives the console).
    """

    DEFAULT_CSS = (
        DIALOG_CSS.replace("{name}", "QueueConfirm")
        + """
    QueueConfirm #runs { background: $boost; padding: 0 1; height: auto; max-height: 12; }
    """
    )
    BINDINGS = [
        Binding("y", "answer(True)", "Queue", id="queue_dialog.yes"),
        Binding("n,escape", "answer(False)", "Cancel", id="queue_dialog.no"),
    ]

    def __init__(self, runs: list[tuple[str, str]], behind: str = "") -> None:
        """``runs``: ``(recipe, tag)`` in queue order; ``behind``: what they wait for, if any."""
        super().__init__()
        self.runs = runs
        self.behind = behind

    def compose(self) -> ComposeResult:
        """The runs in order, what they wait for, and the two answers."""
        with Vertical(id="dialog"):
            count = len(self.runs)
            yield Label(plain(f"Queue {count} isolation rerun{'s' * (count != 1)}?"), id="title")
            yield Label("In this order, one after another, detached on the node", classes="field")
            lines = [f"{n}. {recipe} at {tag}" for n, (recipe, tag) in enumerate(self.runs, 1)]
            yield Static(plain("\n".join(lines), newlines=True), id="runs")
            if self.behind:
                yield Static(plain(self.behind))
            with Horizontal(id="buttons"):
                yield Button("Queue (y)", variant="warning", id="yes", compact=True)
                yield Button("Cancel (n)", id="no", compact=True)

    def on_mount(self) -> None:
        """Focus the queue button (escape backs out)."""
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Answer."""
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, queue: bool) -> None:
        """Answer from the keyboard."""
        self.dismiss(queue)


class ClassifyDialog(ModalScreen[tuple[str, str] | None]):
    """Classify a recipe: one of the classifications and the root cause in words.

    Dismisses with ``(classification, root_cause)`` or None.
    """

    DEFAULT_CSS = (
        DIALOG_CSS.replace("{name}", "ClassifyDialog")
        + """
    ClassifyDialog OptionList { height: auto; max-height: 8; }
    """
    )
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="classify_dialog.cancel"),
        Binding("ctrl+s", "save", "Save", id="classify_dialog.save", priority=True),
    ]

    def __init__(self, recipe: str, classification: str, root_cause: str) -> None:
        super().__init__()
        self.recipe = recipe
        self.classification = classification
        self.root_cause = root_cause

    def compose(self) -> ComposeResult:
        """Classifications, root cause input and buttons."""
        with Vertical(id="dialog"):
            yield Label(plain(f"Classify {self.recipe}"), id="title")
            yield Label("Classification (enter picks)", classes="field")
            yield OptionList(*[Option(c, id=c) for c in CLASSIFICATIONS], id="classes")
            yield Label("Root cause (enter or ctrl+s saves)", classes="field")
            yield Input(
                clean(self.root_cause),
                id="root-cause",
                placeholder="what is really wrong",
                compact=True,
            )
            with Horizontal(id="buttons"):
                yield Button("Save", variant="primary", id="save", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        """Highlight the current classification."""
        options = self.query_one("#classes", OptionList)
        if self.classification in CLASSIFICATIONS:
            options.highlighted = CLASSIFICATIONS.index(self.classification)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Picking a classification moves on to the root cause."""
        event.stop()
        self.query_one("#root-cause", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the root cause saves."""
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Save or cancel."""
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        """Dismiss with the highlighted classification and the root cause."""
        options = self.query_one("#classes", OptionList)
        index = options.highlighted
        classification = CLASSIFICATIONS[index] if index is not None else self.classification
        self.dismiss((classification, self.query_one("#root-cause", Input).value.strip()))

    def action_cancel(self) -> None:
        """Back out without changing anything."""
        self.dismiss(None)
