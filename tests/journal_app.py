"""A tiny host App for the journal editor (shared by the Pilot tests and the snapshots)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Footer

from redfix_tui.widgets.journal_editor import JournalEditor

FIXED_NOW = datetime(2026, 6, 18, 1, 2, 30, tzinfo=UTC)


class EditorApp(App[None]):
    """Hosts one JournalEditor and records the messages it sends."""

    def __init__(self, journal: Path, state_dir: Path, *, now=lambda: FIXED_NOW, **kwargs) -> None:
        super().__init__()
        self.journal = journal
        self.state_dir = state_dir
        self.now = now
        self.editor_kwargs = kwargs
        self.saved: list[JournalEditor.Saved] = []
        self.closed = 0

    def compose(self) -> ComposeResult:
        yield JournalEditor(
            self.journal,
            phase="redfix",
            now=self.now,
            state_dir=self.state_dir,
            **self.editor_kwargs,
        )
        yield Footer()

    def on_journal_editor_saved(self, message: JournalEditor.Saved) -> None:
        self.saved.append(message)

    def on_journal_editor_closed(self) -> None:
        self.closed += 1
