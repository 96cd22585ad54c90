"""The main screen's journal side: open the editor beside the log, route evidence into it.

A mixin for :class:`~redfix_tui.screens.main.MainScreen`, kept apart so the screen module stays
small. The editor is mounted on demand and removed when closed; its draft outlives it on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.css.query import NoMatches

from ..evidence import Evidence

if TYPE_CHECKING:  # the editor is imported when first opened (start-up stays light)
    from ..widgets.journal_editor import JournalEditor


@dataclass(frozen=True)
class MarkdownSnippet:
    """Ready-made Markdown (e.g. the M1 tracker table) to put into the draft like evidence."""

    markdown: str

    def to_markdown(self) -> str:
        """The Markdown as given, ending in a newline."""
        return self.markdown if self.markdown.endswith("\n") else self.markdown + "\n"


class JournalPaneMixin:
    """Open/close the journal editor and insert evidence at its cursor."""

    JOURNAL_BINDINGS = [
        Binding("j", "journal", "Journal", id="main.journal"),
    ]

    @property
    def journal_editor(self) -> JournalEditor | None:
        """The open editor, if any."""
        try:
            return self.query_one("#journal")  # type: ignore[attr-defined]
        except NoMatches:
            return None

    def open_journal(self) -> JournalEditor:
        """Mount the editor beside the log (over it on narrow terminals) and focus it."""
        editor = self.journal_editor
        if editor is None:
            from ..widgets.journal_editor import JournalEditor

            session = self.session  # type: ignore[attr-defined]
            editor = JournalEditor(
                session.journal_path, phase=session.phase, now=session.clock, id="journal"
            )
            self.query_one("#body").mount(editor)  # type: ignore[attr-defined]
        self.add_class("-journal-open")  # type: ignore[attr-defined]
        self._fit()  # type: ignore[attr-defined]
        editor.focus()
        return editor

    def action_journal(self) -> None:
        """Open the journal editor, or focus it when it is open."""
        self.open_journal()

    def insert_evidence(self, evidence: Evidence | MarkdownSnippet) -> None:
        """Put ``evidence`` at the cursor of the draft (opening the editor if needed)."""
        editor = self.open_journal()
        self.call_after_refresh(editor.insert_evidence, evidence)  # type: ignore[attr-defined]
        self.notify("evidence added to the journal draft", timeout=2)  # type: ignore[attr-defined]

    # Handlers are named (not @on-decorated): Textual collects @on only from classes it builds.

    def on_log_view_evidence_requested(self, event) -> None:
        """Log lines → the draft."""
        event.stop()
        self.insert_evidence(event.evidence)

    def on_recipe_board_evidence_requested(self, event) -> None:
        """Recipe identity → the draft."""
        event.stop()
        self.insert_evidence(event.evidence)

    def on_main_screen_tracker_exported(self, event) -> None:
        """The M1 tracker table → the draft (it was also copied to the clipboard)."""
        self.insert_evidence(MarkdownSnippet(event.markdown))

    def on_journal_editor_closed(self, event) -> None:
        """Remove the editor and give the keyboard back to the log."""
        self.remove_class("-journal-open")  # type: ignore[attr-defined]
        self._fit()  # type: ignore[attr-defined]
        editor = self.journal_editor
        if editor is not None:
            editor.remove()
        self.focus_log()  # type: ignore[attr-defined]

    def on_journal_editor_saved(self, event) -> None:
        """Confirm the save."""
        merged = " (after changes made meanwhile by someone else, kept)" if event.merged else ""
        self.notify(f"saved “{event.entry.title}”{merged}", title="Journal", timeout=4)  # type: ignore[attr-defined]
