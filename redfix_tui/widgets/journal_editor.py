"""The journal editor: write or edit a phase-journal entry beside (or over) the log pane.

Self-contained: give it the journal path, the phase and (for tests) a clock; it loads the journal,
offers to restore a draft left by a crash, autosaves the draft every few seconds and on every exit
path, and saves through :class:`~redfix_tui.journal.store.JournalStore` (safe writes, concurrent
edits refused). The screen that hosts it listens for :class:`JournalEditor.Saved` and
:class:`JournalEditor.Closed`, and calls :meth:`JournalEditor.insert_evidence`.

It is composed of an :class:`~redfix_tui.widgets.journal_form.EntryForm` and a
:class:`~redfix_tui.widgets.journal_entries.JournalEntriesPanel` (which report by message), and
holds a Textual-free :class:`~redfix_tui.journal.drafts.DraftAutosave` that its timer drives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from redfix_tui.evidence import Evidence
from redfix_tui.journal.bodytext import heading_lines
from redfix_tui.journal.drafts import Draft, DraftAutosave, DraftStore, FormState
from redfix_tui.journal.model import Entry, Journal, parse, parse_stamp
from redfix_tui.journal.store import JournalError, JournalStore, SaveResult
from redfix_tui.widgets.journal_dialogs import ConfirmScreen, restore_offer
from redfix_tui.widgets.journal_entries import JournalEntriesPanel
from redfix_tui.widgets.journal_form import EntryForm

WIDE = 120
"""From this width on, the entry list and preview sit in a column to the right."""

SHORT = 30
"""Below this height (stacked layout), stamp and title go compact and the entry list shrinks."""


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class _SaveRequest:
    title: str
    body: str
    when: datetime
    editing: Entry | None


class JournalEditor(Widget):
    """Entry form (heading, stamp, title, Markdown body), status line, entry list and preview."""

    DEFAULT_CSS = """
    JournalEditor {
        layout: vertical;
        height: 1fr;
        border: round $accent;
        border-title-color: $accent;
        border-subtitle-color: $text-muted;
        background: $surface;
    }
    JournalEditor.-wide { layout: horizontal; }
    JournalEditor #je-main { height: 1fr; }
    JournalEditor.-wide #je-main { width: 3fr; }
    JournalEditor #je-status { height: 1; padding: 0 1; color: $text-muted; }
    JournalEditor.-error #je-status { color: $error; }
    JournalEditor #je-side { height: 9; }
    JournalEditor.-short #je-side { height: 5; }
    JournalEditor.-wide #je-side { height: 1fr; width: 2fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save entry", id="journal.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="journal.cancel"),
        Binding("ctrl+n", "new_entry", "New entry", id="journal.new"),
    ]

    editing_heading: reactive[str | None] = reactive(None)
    """Heading of the entry being edited; None while writing a new entry."""

    class Saved(Message):
        """An entry was written to the journal."""

        def __init__(self, editor: JournalEditor, entry: Entry, merged: bool) -> None:
            super().__init__()
            self.editor = editor
            self.entry = entry
            """The entry as written."""
            self.merged = merged
            """True when someone else had changed the file and their changes were kept."""

        @property
        def control(self) -> JournalEditor:
            """The editor that saved."""
            return self.editor

    class Closed(Message):
        """The operator closed the editor (cancel); the host should remove or hide it."""

    def __init__(
        self,
        journal_path: Path,
        *,
        phase: str,
        now: Callable[[], datetime] = utc_now,
        state_dir: Path | None = None,
        autosave_interval: float = 3.0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``state_dir`` is where drafts live (default ``$XDG_STATE_HOME/redfix-tui``)."""
        super().__init__(name=name, id=id, classes=classes)
        self.journal_path = Path(journal_path)
        self.phase = phase
        self._now = now
        self.autosave_interval = autosave_interval
        self.store = JournalStore(self.journal_path, phase)
        self.drafts = DraftStore(self.journal_path, state_dir=state_dir)
        self._autosave = DraftAutosave(self.drafts, now=now)
        self._journal: Journal = parse("")
        self._form = EntryForm(now=now, id="je-form")
        self._status = Static(id="je-status", markup=False)
        self._side = JournalEntriesPanel(id="je-side")

    # ------------------------------------------------------------------ compose and lifecycle

    def compose(self) -> ComposeResult:
        """Form and status on the left (or top); entry list and preview beside (or below)."""
        with Vertical(id="je-main"):
            yield self._form
            yield self._status
        yield self._side

    def on_mount(self) -> None:
        """Load the journal, start autosave, offer a draft for restore."""
        self.border_title = f"Journal — phase `{self.phase}`"
        self.border_subtitle = self.journal_path.name
        self._load_journal()
        self._set_status("New entry")
        self.set_interval(self.autosave_interval, self._autosave_tick, name="journal-autosave")
        try:
            draft = self._autosave.pending()
        except OSError as exc:
            reason = exc.strerror or exc
            self._error(
                f"Could not read the draft at {self.drafts.path}: {reason}; autosave is off "
                "until that is fixed (reopen the journal)."
            )
            draft = None
        if draft is not None:
            self.call_after_refresh(self._offer_restore, draft)
        self._form.focus_title()

    def on_resize(self) -> None:
        """Pick the layout: side by side (wide), stacked, or stacked and compact (short)."""
        wide = self.size.width >= WIDE
        short = not wide and self.size.height < SHORT
        self.set_class(wide, "-wide")
        self.set_class(short, "-short")
        self._side.column = wide
        self._form.compact = short

    def on_unmount(self) -> None:
        """Exit path (editor removed, app exiting): keep whatever was typed."""
        self.save_draft()

    # ------------------------------------------------------------------ public API

    @property
    def journal(self) -> Journal:
        """The journal as last loaded or saved."""
        return self._journal

    @property
    def form(self) -> EntryForm:
        """The entry form (stamp, title, body)."""
        return self._form

    @property
    def is_dirty(self) -> bool:
        """Whether the title or body differ from what was opened (unsaved text)."""
        return self._form.is_dirty

    def insert_evidence(self, evidence: Evidence) -> None:
        """Insert ``evidence.to_markdown()`` at the body's cursor, as its own paragraph."""
        self._form.insert_evidence(evidence)
        self.save_draft()

    def refresh_clock(self) -> None:
        """Update the live heading minute from the clock (the form's timer does every second)."""
        self._form.refresh_clock()

    def save_draft(self) -> None:
        """Write the draft now if it changed (an empty draft removes the file)."""
        try:
            self._autosave.save(self._form.state())
        except OSError as exc:
            self._error(f"Could not save the draft to {self.drafts.path}: {exc.strerror or exc}")

    # ------------------------------------------------------------------ actions

    def action_save(self) -> None:
        """Save the entry (appends, or replaces the entry being edited)."""
        title = self._form.title_text
        if not title:
            self.notify("An entry needs a title.", severity="warning")
            self._form.focus_title()
            return
        fixed = self._form.fixed_stamp
        if fixed is not None:
            try:
                when = parse_stamp(fixed)
            except ValueError:
                self._error(f"Stamp “{fixed}” is not YYYY-MM-DDTHH:MMZ; not saved.")
                self._form.focus_stamp()
                return
        else:
            when = self._now()
        self.save_draft()
        self._form.show_written_stamp(when)  # the heading shows the minute written
        self._save(_SaveRequest(title, self._form.body_text, when, self._form.editing))

    def action_cancel(self) -> None:
        """Close the editor; ask first when there is unsaved text."""
        if not self.is_dirty:
            self._close()
            return
        question = "Discard the unsaved entry text? (The draft is deleted.)"
        screen = ConfirmScreen(question, yes="Discard", no="Keep editing")
        self.app.push_screen(screen, self._on_cancel_answer)

    def action_new_entry(self) -> None:
        """Start a new entry (asks first when there is unsaved text)."""
        if not self.is_dirty:
            self._start_new()
            return
        screen = ConfirmScreen("Discard the unsaved text and start a new entry?", yes="Discard")
        self.app.push_screen(screen, lambda yes: self._start_new() if yes else None)

    # ------------------------------------------------------------------ messages from children

    @on(EntryForm.Changed)
    def _form_changed(self, event: EntryForm.Changed) -> None:
        event.stop()
        self._autosave.note_change()

    @on(JournalEntriesPanel.Selected)
    def _entry_selected(self, event: JournalEntriesPanel.Selected) -> None:
        event.stop()
        entry = event.entry
        if not self.is_dirty:
            self._start_edit(entry)
            return
        screen = ConfirmScreen(f"Discard the unsaved text and edit “{entry.title}”?", yes="Discard")
        self.app.push_screen(screen, lambda yes: self._start_edit(entry) if yes else None)

    # ------------------------------------------------------------------ internals

    def _autosave_tick(self) -> None:
        if self._autosave.due:
            self.save_draft()

    def _fill(self, state: FormState) -> None:
        self._form.fill(state)
        self.editing_heading = state.editing.heading if state.editing else None

    def _start_new(self) -> None:
        self._form.clear()
        self.editing_heading = None
        self.save_draft()
        self._set_status("New entry")
        self._form.focus_title()

    def _start_edit(self, entry: Entry) -> None:
        self._form.load_entry(entry)
        self.editing_heading = entry.heading
        self._set_status(f"Editing {entry.heading}")
        self._form.focus_body()

    def _offer_restore(self, draft: Draft) -> None:
        screen = restore_offer(draft)
        self.app.push_screen(screen, lambda yes: self._answer_restore(draft, bool(yes)))

    def _answer_restore(self, draft: Draft, restore: bool) -> None:
        try:
            restored = self._autosave.answer(draft, restore, self._journal)
        except OSError as exc:
            self._error(f"Could not delete the draft at {self.drafts.path}: {exc.strerror or exc}")
            return
        if restored is None:
            return
        if restored.lost_entry:
            self.notify(
                "The entry the draft was editing changed or is gone; restored as a new entry.",
                severity="warning",
                timeout=10,
            )
        self._fill(restored.state)
        editing = restored.editing
        self._set_status("Draft restored" + (f" · editing {editing.heading}" if editing else ""))

    def _load_journal(self) -> None:
        try:
            self._journal = self.store.load()
        except JournalError as exc:
            self._error(str(exc))
            return
        self._side.show_journal(self._journal, self.journal_path)

    def _on_cancel_answer(self, discard: bool | None) -> None:
        if discard:
            self._fill(FormState("", ""))
            self._forget_draft()
            self._close()

    def _forget_draft(self) -> None:
        """The text was saved or discarded: delete its draft (a failure is said, not raised)."""
        try:
            self._autosave.forget()
        except OSError as exc:
            self._error(f"Could not delete the draft at {self.drafts.path}: {exc.strerror or exc}")

    def _close(self) -> None:
        self.post_message(self.Closed())

    def _set_status(self, text: str) -> None:
        self.remove_class("-error")
        self._status.update(text)

    def _error(self, text: str) -> None:
        self.add_class("-error")
        self._status.update(text)
        self.notify(text, title="Journal", severity="error", timeout=10, markup=False)

    @work(thread=True, group="journal-save", exclusive=True, exit_on_error=False, name="save")
    def _save(self, request: _SaveRequest) -> None:
        """Write the entry off the event loop (fsync can be slow); report back on it."""
        try:
            if request.editing is None:
                result = self.store.append(request.title, request.body, when=request.when)
            else:
                result = self.store.edit(
                    request.editing, title=request.title, body=request.body, when=request.when
                )
        except JournalError as exc:
            self.app.call_from_thread(self._save_failed, str(exc))
        except OSError as exc:
            self.app.call_from_thread(self._save_failed, f"cannot write the journal: {exc}")
        else:
            self.app.call_from_thread(self._save_done, result, len(heading_lines(request.body)))

    def _save_done(self, result: SaveResult, escaped: int = 0) -> None:
        self._journal = result.journal
        self._side.show_journal(self._journal, self.journal_path)
        self._form.clear()
        self.editing_heading = None
        note = f" ({escaped} heading-like body line(s) kept as text with a backslash)"
        self._set_status(f"Saved {result.entry.heading}" + (note if escaped else ""))
        self._forget_draft()
        if result.merged:
            self.notify("The journal had changed on disk; their text was kept.", timeout=6)
        for note in result.notes:
            self.notify(note, title="Journal", severity="warning", timeout=15, markup=False)
        self.post_message(self.Saved(self, result.entry, result.merged))

    def _save_failed(self, message: str) -> None:
        self.save_draft()
        self._error(f"Not saved: {message}. Your draft is kept in {self.drafts.path}.")
