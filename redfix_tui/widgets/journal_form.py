"""The journal editor's entry form: live heading, stamp and title on one row, Markdown body.

The heading follows the clock minute by minute until the operator types a stamp of their own
(then the stamp is fixed and the form gets the ``-fixed-stamp`` class). The form knows nothing of
files: it reports the operator's changes with :class:`EntryForm.Changed` and hands its content to
its host (:class:`~redfix_tui.widgets.journal_editor.JournalEditor`) as a
:class:`~redfix_tui.journal.drafts.FormState`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Static, TextArea

from redfix_tui.evidence import Evidence
from redfix_tui.journal.bodytext import unescape_body
from redfix_tui.journal.drafts import FormState
from redfix_tui.journal.model import Entry, format_heading, format_stamp, parse_stamp


def body_language() -> str | None:
    """``markdown`` when the TextArea can highlight it, else None (plain text)."""
    try:
        from textual._tree_sitter import get_language

        return "markdown" if get_language("markdown") is not None else None
    except Exception:  # tree-sitter absent or broken: plain text is fine
        return None


class EntryForm(Vertical):
    """Heading preview (``#je-heading``), stamp and title (``#je-fields``), body (``#je-body``)."""

    DEFAULT_CSS = """
    EntryForm { height: 1fr; }
    EntryForm #je-heading { height: 1; padding: 0 1; text-style: bold; color: $accent; }
    EntryForm #je-fields { height: 3; }
    EntryForm #je-stamp { width: 23; }
    EntryForm #je-title { width: 1fr; }
    EntryForm.-fixed-stamp #je-stamp { border: tall $warning; }
    EntryForm #je-body { height: 1fr; }
    EntryForm.-compact #je-fields { height: 1; padding: 0 1; }
    EntryForm.-compact Input { background: $boost; }
    EntryForm.-compact #je-stamp { width: 17; margin-right: 1; }
    EntryForm.-compact.-fixed-stamp #je-stamp { color: $warning; text-style: bold; }
    """

    compact: reactive[bool] = reactive(False, toggle_class="-compact")
    """One-row stamp and title without borders (short terminals), leaving the rows to the body."""

    class Changed(Message):
        """The title, the stamp or the body changed (typed, or filled by the host)."""

        def __init__(self, form: EntryForm) -> None:
            super().__init__()
            self.form = form
            """The form that changed."""

        @property
        def control(self) -> EntryForm:
            """The form that changed (for ``@on`` selectors)."""
            return self.form

        @property
        def dirty(self) -> bool:
            """Whether the form now holds unsaved text."""
            return self.form.is_dirty

    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``now`` is the clock the live heading follows."""
        super().__init__(id=id, classes=classes)
        self._now = now
        self._editing: Entry | None = None
        self._baseline: tuple[str, str] = ("", "")
        self._live_stamp = ""
        self._fixed_stamp: str | None = None
        self._heading = Static(id="je-heading", markup=False)
        self._stamp_input = Input(placeholder="YYYY-MM-DDTHH:MMZ", id="je-stamp", max_length=17)
        self._title_input = Input(placeholder="Title", id="je-title")
        self._body = TextArea(id="je-body", language=body_language(), soft_wrap=True)

    def compose(self) -> ComposeResult:
        """The heading, then stamp and title on one row, then the body."""
        yield self._heading
        with Horizontal(id="je-fields"):
            yield self._stamp_input
            yield self._title_input
        yield self._body

    def on_mount(self) -> None:
        """Show the current minute and follow the clock."""
        self._update_live_stamp(force=True)
        self.set_interval(1.0, self.refresh_clock, name="journal-clock")

    def watch_compact(self, compact: bool) -> None:
        """Compact the inputs with the form."""
        self._stamp_input.compact = compact
        self._title_input.compact = compact

    # ------------------------------------------------------------------ reading the form

    @property
    def is_dirty(self) -> bool:
        """Whether the title or body differ from what was opened (unsaved text)."""
        return (self._title_input.value, self._body.text) != self._baseline

    @property
    def editing(self) -> Entry | None:
        """The entry being edited (None while writing a new entry)."""
        return self._editing

    @property
    def title_text(self) -> str:
        """The title as it would be written (whitespace runs collapsed)."""
        return " ".join(self._title_input.value.split())

    @property
    def body_text(self) -> str:
        """The body as typed."""
        return self._body.text

    @property
    def fixed_stamp(self) -> str | None:
        """The stamp the operator typed; None while the heading follows the clock."""
        return self._fixed_stamp

    def state(self) -> FormState:
        """Everything the form holds, for the draft."""
        return FormState(
            self._title_input.value,
            self._body.text,
            self._fixed_stamp,
            self._editing,
            self._baseline,
        )

    # ------------------------------------------------------------------ changing the form

    def refresh_clock(self) -> None:
        """Update the live heading minute from the clock (a timer calls this every second)."""
        self._update_live_stamp()

    def show_written_stamp(self, when: datetime) -> None:
        """Show the minute an entry without a fixed stamp is being written with."""
        if self._fixed_stamp is None:
            self._live_stamp = format_stamp(when)
            self._stamp_input.value = self._live_stamp

    def insert_evidence(self, evidence: Evidence) -> None:
        """Insert ``evidence.to_markdown()`` at the body's cursor, as its own paragraph."""
        text = evidence.to_markdown()
        row, column = self._body.cursor_location
        line = self._body.document.get_line(row)
        before, after = line[:column], line[column:]
        prefix = ""
        if before.strip():
            prefix = "\n\n"
        elif row > 0 and self._body.document.get_line(row - 1).strip():
            prefix = "\n"
        suffix = "\n" if after.strip() else ""
        self._body.insert(prefix + text + suffix, maintain_selection_offset=False)
        self._body.focus()

    def fill(self, state: FormState) -> None:
        """Put ``state`` (an entry, a draft, or a blank one) into the form."""
        self._editing = state.editing
        self._fixed_stamp = state.stamp
        self._title_input.value = state.title
        self._body.load_text(state.body)
        self._stamp_input.value = state.stamp if state.stamp is not None else self._live_stamp
        self.set_class(state.stamp is not None, "-fixed-stamp")
        self._baseline = state.baseline
        self._refresh_heading()

    def clear(self) -> None:
        """A blank new entry at the current minute."""
        self.fill(FormState("", ""))
        self._update_live_stamp(force=True)

    def load_entry(self, entry: Entry) -> None:
        """Edit ``entry``: its body as typed (saving escapes it to the same bytes again)."""
        body = unescape_body(entry.body)
        stamp = format_stamp(entry.stamp)
        self.fill(FormState(entry.title, body, stamp, entry, baseline=(entry.title, body)))

    def focus_title(self) -> None:
        """Put the cursor in the title."""
        self._title_input.focus()

    def focus_stamp(self) -> None:
        """Put the cursor in the stamp."""
        self._stamp_input.focus()

    def focus_body(self) -> None:
        """Put the cursor in the body."""
        self._body.focus()

    # ------------------------------------------------------------------ events

    @on(Input.Changed, "#je-title")
    @on(TextArea.Changed, "#je-body")
    def _content_changed(self, event: Input.Changed | TextArea.Changed) -> None:
        event.stop()
        self._refresh_heading()
        self.post_message(self.Changed(self))

    @on(Input.Changed, "#je-stamp")
    def _stamp_changed(self, event: Input.Changed) -> None:
        """The stamp field changed: fix the stamp, or go back to the clock when emptied."""
        event.stop()
        value = event.value.strip()
        if value == self._live_stamp and self._fixed_stamp is None:
            return  # our own live update
        self._fixed_stamp = value or None
        if not value:
            self._update_live_stamp(force=True)
        self.set_class(self._fixed_stamp is not None, "-fixed-stamp")
        self._refresh_heading()
        self.post_message(self.Changed(self))

    # ------------------------------------------------------------------ internals

    def _update_live_stamp(self, *, force: bool = False) -> None:
        stamp = format_stamp(self._now())
        if stamp == self._live_stamp and not force:
            return
        self._live_stamp = stamp
        if self._fixed_stamp is None:
            self._stamp_input.value = stamp
        self._refresh_heading()

    def _current_stamp(self) -> datetime | None:
        try:
            return parse_stamp(self._fixed_stamp or self._live_stamp)
        except ValueError:
            return None

    def _refresh_heading(self) -> None:
        when = self._current_stamp()
        title = self._title_input.value or "…"
        if when is None:
            self._heading.update(Text(f"## {self._fixed_stamp}? — {title}", style="bold red"))
        else:
            self._heading.update(format_heading(when, title))
