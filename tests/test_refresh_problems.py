"""A node command that fails during a refresh is shown as a problem in the status bar, once as
a notification, and never as "reconnecting"; the board keeps what it showed."""

from __future__ import annotations

from pathlib import Path

from redfix_tui.app import create_app
from redfix_tui.config import Config
from redfix_tui.node import NodeError
from redfix_tui.recipes import RecipeStatus
from redfix_tui.runs.state import NodeStatus
from redfix_tui.session import Session
from redfix_tui.widgets.recipe_board import RecipeBoard
from redfix_tui.widgets.status_bar import NodeStatusBar

SLOW = "`pgrep -af '[r]un_recipe_ci.py'` took longer than 60s"


async def test_failing_command_is_a_problem_not_a_lost_node(tmp_path: Path) -> None:
    app = create_app(Session(Config(), tmp_path / "JOURNAL-redfix.md", "redfix"), load=False)
    async with app.run_test(size=(160, 30)) as pilot:
        main = app.screen
        session = main.session
        statuses = [RecipeStatus("mumble"), RecipeStatus("gitea")]
        failing = {"on": True}

        async def connect() -> None:
            return None

        async def load() -> list[RecipeStatus]:
            return statuses

        async def status(now=None) -> NodeStatus:
            if failing["on"]:
                raise NodeError(SLOW, kind="command")
            return NodeStatus(refreshed=now)

        session.node.connect = connect
        session.recipes.load = load
        session.runs.status = status
        bar = main.query_one(NodeStatusBar)
        board = main.query_one(RecipeBoard)
        main.statuses = statuses
        board.show(statuses, {})
        bar.connection = "connected"

        for _ in range(3):  # three ticks, one notification
            await main.refresh_node().wait()
        await pilot.pause()
        assert bar.connection == "connected" and board.row_count == 2
        assert f"⚠ {SLOW}" in str(bar.render())
        shown = [n.message for n in app._notifications if n.title == "Node"]
        assert shown == [SLOW]

        failing["on"] = False
        await main.refresh_node().wait()
        await pilot.pause()
        assert "⚠" not in str(bar.render()) and board.row_count == 2
