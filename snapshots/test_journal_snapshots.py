"""Snapshots of the journal editor at 80×24 and 160×50 (fixed clock, reference journal)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Footer

from redfix_tui.app import styles_dir
from redfix_tui.evidence import LogEvidence
from redfix_tui.widgets.journal_editor import JournalEditor

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "data" / "JOURNAL-redfix.md"
FIXED_NOW = datetime(2026, 6, 18, 1, 2, 30, tzinfo=UTC)


class EditorSnapshotApp(App[None]):
    """The editor alone, as the main screen would dock it, with a footer for its bindings."""

    CSS_PATH = [styles_dir() / "app.tcss"]  # the console's stylesheet (scrollbars)

    def __init__(self, journal: Path, state_dir: Path) -> None:
        super().__init__()
        self.journal = journal
        self.state_dir = state_dir

    def compose(self) -> ComposeResult:
        yield JournalEditor(
            self.journal,
            phase="redfix",
            now=lambda: FIXED_NOW,
            state_dir=self.state_dir,
            autosave_interval=3600,
        )
        yield Footer()


def _app(tmp_path: Path) -> EditorSnapshotApp:
    journal = tmp_path / "JOURNAL-redfix.md"
    journal.write_bytes(REFERENCE.read_bytes())
    return EditorSnapshotApp(journal, tmp_path / "state")


async def _write_entry(pilot) -> None:
    await pilot.press(*"M1: gitea app.ini", "tab", *"Reran gitea alone; install red again.")
    await pilot.press("enter", "enter")
    editor = pilot.app.query_one(JournalEditor)
    editor.insert_evidence(
        LogEvidence("cc-ci", "/tmp/redfix-gitea.log", 812, 813, ("E app.ini missing", "FAIL"))
    )
    await pilot.pause()


def test_journal_editor_80x24(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_write_entry)


def test_journal_editor_160x50(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(160, 50), run_before=_write_entry)
