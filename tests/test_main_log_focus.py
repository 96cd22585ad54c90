"""``redfix-tui log NODE:FILE`` starts with the keyboard on the log: ``/`` typed first searches."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from redfix_tui.app import create_app
from redfix_tui.session import Session
from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.log_view import LogView
from redfix_tui.widgets.recipe_board import RecipeBoard
from tests.pilot_helpers import until


async def test_log_command_starts_with_the_focus_on_the_log(demo, tmp_path: Path) -> None:
    _served, config = demo
    remote = tmp_path / "remote.log"
    remote.write_text("alpha\nbeta FAILED here\ngamma\n")
    session = Session(config, tmp_path / "JOURNAL-redfix.md", "redfix")
    session.open_log = str(remote)
    app = create_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        view = app.screen.query_one(LogView)
        assert app.focused is view
        await pilot.press("slash")  # the first key typed
        find = app.screen.query_one(LogPane).query_one("#log-find", Input)
        assert find.has_focus and find.has_class("-visible")
        assert not app.screen.query_one(RecipeBoard).has_focus
        await pilot.press(*"failed")
        assert find.value == "failed", "the letters went to the search input, not the board"
        await until(pilot, lambda: view.spool is not None and view.spool.line_count == 3)
        await pilot.press("enter")
        await until(pilot, lambda: view.match_lines == [1] and view.cursor_line == 1)
        assert app.focused is view
