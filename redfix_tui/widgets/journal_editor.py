"""The journal editor: write or edit a phase-journal entry beside (or over) the log pane.

Self-contained: give it the journal path, the phase and (for tests) a clock; it loads the journal,
offers to restore a draft left by a crash, autosaves the draft every few seconds and on every exit
path, and saves through :class:`~redfix_tui.journal.store.JournalStore` (safe writes, concurrent
edits refused). The screen that hosts it listens for :class:`JournalEditor.Saved` and
:class:`JournalEditor.Closed`, and calls :meth:`JournalEditor.insert_evidence`.
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
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static, TextArea

from redfix_tui.journal.bodytext import heading_lines
from redfix_tui.journal.drafts import DraftStore
from redfix_tui.journal.model import Entry, Journal, format_stamp, parse, parse_stamp
from redfix_tui.journal.store import JournalError, JournalStore, SaveResult
from redfix_tui.widgets.journal_autosave import DraftAutosave, DraftState
from redfix_tui.widgets.journal_dialogs import ConfirmScreen
from redfix_tui.widgets.journal_entries import JournalEntriesPanel
from redfix_tui.widgets.journal_form import EntryForm, body_language

WIDE = 120
"""From this width on, the entry list and preview sit in a column to the right."""


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class _SaveRequest:
    title: str
    body: str
    when: datetime
    editing: Entry | None


class JournalEditor(EntryForm, DraftAutosave, Widget):
    """Title, live UTC-minute heading, Markdown body, entry list and preview of the journal.

    Form: :mod:`.journal_form`; drafts: :mod:`.journal_autosave`; side: :mod:`.journal_entries`.
    """

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
    JournalEditor #je-heading { height: 1; padding: 0 1; text-style: bold; color: $accent; }
    JournalEditor #je-fields { height: 3; }
    JournalEditor #je-stamp { width: 23; }
    JournalEditor #je-title { width: 1fr; }
    JournalEditor.-fixed-stamp #je-stamp { border: tall $warning; }
    JournalEditor #je-body { height: 1fr; }
    JournalEditor #je-status { height: 1; padding: 0 1; color: $text-muted; }
    JournalEditor.-error #je-status { color: $error; }
    JournalEditor #je-side { height: 9; layout: horizontal; }
    JournalEditor.-wide #je-side { height: 1fr; width: 2fr; layout: vertical; }
    JournalEditor #je-entries {
        width: 1fr;
        height: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    JournalEditor.-wide #je-entries { width: 1fr; height: 12; }
    JournalEditor #je-preview-scroll { width: 2fr; height: 1fr; }
    JournalEditor.-wide #je-preview-scroll { width: 1fr; }
    JournalEditor #je-preview { margin: 0 1; }
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
        self._journal: Journal = parse("")
        self._editing: Entry | None = None
        self._baseline: tuple[str, str] = ("", "")
        self._live_stamp = ""
        self._fixed_stamp: str | None = None
        self._last_draft: DraftState | None = None
        self._draft_ready = False
        """Autosave is off until the restore offer has been answered (so it cannot clobber it)."""
        self._stamp_input = Input(placeholder="YYYY-MM-DDTHH:MMZ", id="je-stamp", max_length=17)
        self._title_input = Input(placeholder="Title", id="je-title")
        self._body = TextArea(id="je-body", language=body_language(), soft_wrap=True)
        self._heading = Static(id="je-heading", markup=False)
        self._status = Static(id="je-status", markup=False)
        self._side = JournalEntriesPanel(id="je-side")

    # ------------------------------------------------------------------ compose and lifecycle

    def compose(self) -> ComposeResult:
        """Fields and body on the left (or top); entry list and preview beside (or below)."""
        with Vertical(id="je-main"):
            yield self._heading
            with Horizontal(id="je-fields"):
                yield self._stamp_input
                yield self._title_input
            yield self._body
            yield self._status
        yield self._side

    def on_mount(self) -> None:
        """Load the journal, start the clocks, offer a draft for restore."""
        self.border_title = f"Journal — phase `{self.phase}`"
        self.border_subtitle = self.journal_path.name
        self._load_journal()
        self._update_live_stamp(force=True)
        self._set_status("New entry")
        self.set_interval(1.0, self.refresh_clock, name="journal-clock")
        self.set_interval(self.autosave_interval, self.save_draft, name="journal-autosave")
        draft = self.drafts.load()
        if draft is None:
            self._draft_ready = True
        else:
            self.call_after_refresh(self._offer_restore, draft)
        self._title_input.focus()

    def on_resize(self) -> None:
        """Switch between the stacked (narrow) and side-by-side (wide) layouts."""
        self.set_class(self.size.width >= WIDE, "-wide")

    def on_unmount(self) -> None:
        """Exit path (editor removed, app exiting): keep whatever was typed."""
        self.save_draft()

    # ------------------------------------------------------------------ public API

    @property
    def journal(self) -> Journal:
        """The journal as last loaded or saved."""
        return self._journal

    # ------------------------------------------------------------------ actions

    def action_save(self) -> None:
        """Save the entry (appends, or replaces the entry being edited)."""
        title = " ".join(self._title_input.value.split())
        if not title:
            self.notify("An entry needs a title.", severity="warning")
            self._title_input.focus()
            return
        if self._fixed_stamp is not None:
            try:
                when = parse_stamp(self._fixed_stamp)
            except ValueError:
                self._error(f"Stamp “{self._fixed_stamp}” is not YYYY-MM-DDTHH:MMZ; not saved.")
                self._stamp_input.focus()
                return
        else:
            when = self._now()
        self.save_draft()
        if self._fixed_stamp is None:  # fixed at save: the heading shows the minute written
            self._live_stamp = format_stamp(when)
            self._stamp_input.value = self._live_stamp
        self._save(_SaveRequest(title, self._body.text, when, self._editing))

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

    # ------------------------------------------------------------------ events

    @on(Input.Changed, "#je-title")
    @on(TextArea.Changed, "#je-body")
    def _content_changed(self) -> None:
        self._refresh_heading()

    @on(Input.Changed, "#je-stamp")
    def _stamp_changed(self, event: Input.Changed) -> None:
        self._stamp_edited(event.value)

    @on(OptionList.OptionSelected, "#je-entries")
    def _entry_selected(self, event: OptionList.OptionSelected) -> None:
        entry = self._side.entry_for(event.option)
        if entry is None:
            return
        if not self.is_dirty:
            self._start_edit(entry)
            return
        screen = ConfirmScreen(f"Discard the unsaved text and edit “{entry.title}”?", yes="Discard")
        self.app.push_screen(screen, lambda yes: self._start_edit(entry) if yes else None)

    # ------------------------------------------------------------------ internals

    def _load_journal(self) -> None:
        try:
            self._journal = self.store.load()
        except JournalError as exc:
            self._error(str(exc))
            return
        self._side.show_journal(self._journal, self.journal_path)

    def _on_cancel_answer(self, discard: bool | None) -> None:
        if discard:
            self._fill("", "", None, None, baseline=("", ""))
            self._forget_draft()
            self._close()

    def _close(self) -> None:
        self.post_message(self.Closed())

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
        self._fill("", "", None, None, baseline=("", ""))
        self._forget_draft()
        self._update_live_stamp(force=True)
        note = f" ({escaped} heading-like body line(s) kept as text with a backslash)"
        self._set_status(f"Saved {result.entry.heading}" + (note if escaped else ""))
        if result.merged:
            self.notify("The journal had changed on disk; their text was kept.", timeout=6)
        for note in result.notes:
            self.notify(note, title="Journal", severity="warning", timeout=15, markup=False)
        self.post_message(self.Saved(self, result.entry, result.merged))

    def _save_failed(self, message: str) -> None:
        self.save_draft()
        self._error(f"Not saved: {message}. Your draft is kept in {self.drafts.path}.")
