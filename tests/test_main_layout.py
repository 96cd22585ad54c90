"""The main screen's layout: the log gets the screen.

Below 120 columns the board stacks above the log (as tall as its rows, at most a third of the
height) and the log takes the whole width; from 120 columns on the board sits left, as wide as its
columns need, and the log takes the rest. Resizing switches between the two; ``b`` hides the
board in both. The journal editor's body gets half of an 80×24 terminal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from redfix_tui.logs.spool import LogSpool
from redfix_tui.screens.main import MainScreen
from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.log_view import LogView
from redfix_tui.widgets.recipe_board import RecipeBoard
from tests.fixed_console import STATUSES, app, inject

LINE = "2026-06-18T00:02:40Z run_recipe_ci INFO teardown: " + "x" * 150
"""A log line wider than any terminal here."""


@pytest.fixture(autouse=True)
def no_drafts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Journal drafts go to the test's directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def spool():
    """Two hundred wide lines."""
    with LogSpool() as spool:
        spool.append("".join(f"{n:03d} {LINE}\n" for n in range(200)).encode())
        yield spool


async def show(pilot: Pilot, spool: LogSpool) -> tuple[MainScreen, RecipeBoard, LogView]:
    """The fixed board and ``spool`` in the log pane."""
    await inject(pilot, cursor="mattermost-lts")
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    screen.query_one(LogPane).attach(spool, "/tmp/redfix-mattermost-lts.log", host="cc-ci")
    await pilot.pause()
    return screen, screen.board, screen.query_one(LogView)


def log_width(view: LogView) -> int:
    """Columns of log text on screen (inside the border, without the scrollbar)."""
    return view.scrollable_content_region.width


async def test_80x24_stacks_the_board_above_a_full_width_log(spool: LogSpool) -> None:
    async with app().run_test(size=(80, 24)) as pilot:
        screen, board, view = await show(pilot, spool)
        assert screen.has_class("-stacked")
        assert log_width(view) >= 76
        assert board.outer_size.height <= 24 // 3
        assert board.region.bottom <= view.region.y  # above the log
        assert board.region.width == 80
        # The rows it shows scroll under the cursor: the selected recipe is in view.
        row = board.get_row_index("mattermost-lts")
        assert board.scroll_y <= row < board.scroll_y + board.scrollable_content_region.height - 1
        assert "2026-06-18T00:02:40Z" in view.render_line(0).text


async def test_stacked_board_is_as_tall_as_its_rows(spool: LogSpool) -> None:
    async with app().run_test(size=(100, 60)) as pilot:
        _screen, board, _view = await show(pilot, spool)
        # a border, the header, one row per recipe: far less than a third of 60 rows
        assert board.outer_size.height == 2 + 1 + len(STATUSES)


async def test_160x50_puts_a_board_as_wide_as_its_columns_left_of_the_log(
    spool: LogSpool,
) -> None:
    async with app().run_test(size=(160, 50)) as pilot:
        screen, board, view = await show(pilot, spool)
        assert not screen.has_class("-stacked")
        assert log_width(view) >= 100
        assert board.compact  # the wide columns would leave the log too little
        assert board.region.width <= board.needed_width(compact=True)
        assert board.region.right <= view.region.x and board.region.y == 0
        assert board.region.height > 40  # the whole height, beside the log


async def test_200x50_shows_the_wide_board_and_still_leaves_the_log_the_rest(
    spool: LogSpool,
) -> None:
    async with app().run_test(size=(200, 50)) as pilot:
        _screen, board, view = await show(pilot, spool)
        assert not board.compact
        assert board.region.width <= board.needed_width(compact=False)
        assert log_width(view) >= 110
        labels = [str(column.label).strip() for column in board.columns.values()]
        assert labels == ["Recipe", "Canonical", "Age", "Sweep", "Iso", "Classification"]


async def test_resizing_switches_between_stacked_and_side_by_side(spool: LogSpool) -> None:
    async with app().run_test(size=(80, 24)) as pilot:
        screen, board, view = await show(pilot, spool)
        assert screen.has_class("-stacked") and board.region.bottom <= view.region.y
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        assert not screen.has_class("-stacked")
        assert board.region.right <= view.region.x and log_width(view) >= 100
        await pilot.resize_terminal(119, 30)
        await pilot.pause()
        assert screen.has_class("-stacked") and board.region.bottom <= view.region.y
        assert log_width(view) >= 115 and board.outer_size.height <= 30 // 3


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_b_hides_the_board_in_both_layouts(spool: LogSpool, size: tuple[int, int]) -> None:
    async with app().run_test(size=size) as pilot:
        _screen, board, view = await show(pilot, spool)
        before = view.region
        await pilot.press("b")
        await pilot.pause()
        assert not board.display and view.has_focus
        assert view.region.width >= before.width and view.region.height >= before.height
        assert view.region.width == size[0] and view.region.x == 0  # the whole width
        await pilot.press("b")
        await pilot.pause()
        assert board.display and view.region == before


async def test_journal_body_gets_half_of_an_80x24_console(spool: LogSpool) -> None:
    async with app().run_test(size=(80, 24)) as pilot:
        screen, _board, _view = await show(pilot, spool)
        editor = screen.open_journal()
        await pilot.pause()
        body = editor.query_one("#je-body")
        assert body.outer_size.height >= 24 // 2
        await pilot.press("escape")
        await pilot.pause()
        assert screen.journal_editor is None and screen.has_class("-stacked")
