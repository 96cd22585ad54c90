"""e on a marked line puts it into the journal draft as evidence, the mark's note before it."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from redfix_tui.widgets.journal_editor import JournalEditor
from redfix_tui.widgets.log_view import LogView
from redfix_tui.widgets.open_log import OpenLogDialog
from tests.pilot_helpers import loaded, new_app, until


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Marks and drafts in the test's own state directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


async def test_e_on_a_mark_takes_its_note_into_the_draft(demo, tmp_path: Path) -> None:
    _served, config = demo
    remote = tmp_path / "restore.log"
    remote.write_text("".join(f"{n:03d} restore step {n}\n" for n in range(1, 31)))
    app = new_app(config, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot)
        view = app.screen.query_one(LogView)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OpenLogDialog))
        app.screen.query_one(Input).value = str(remote)
        await pilot.press("enter")
        await until(pilot, lambda: view.spool is not None and view.spool.line_count == 30)
        view.goto_line(12)
        await pilot.press("m", *"volume gone here", "enter")
        await until(pilot, lambda: view.marks.get(11) is not None)
        view.goto_line(1)
        await pilot.press("apostrophe", "e")
        await until(pilot, lambda: bool(app.screen.query(JournalEditor)))
        body = app.screen.query_one(JournalEditor).query_one("#je-body")
        await until(pilot, lambda: "012 restore step 12" in body.text)
        text = body.text
        assert "Mark: volume gone here\n\nEvidence: `" in text
        assert text.index("Mark: volume gone here") < text.index("012 restore step 12")
