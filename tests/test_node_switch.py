"""Several nodes in the config: the console starts on one and switches to another with N."""

from __future__ import annotations

import shutil
from pathlib import Path

from redfix_tui.app import create_app
from redfix_tui.config import Config, NodeConfig
from redfix_tui.session import Session
from redfix_tui.widgets.choice_dialog import ChoiceDialog
from tests.demo_session import serve_demo
from tests.pilot_helpers import board, until


async def test_switch_between_two_nodes(tmp_path: Path) -> None:
    one, one_config = await serve_demo(tmp_path / "one")
    two, two_config = await serve_demo(tmp_path / "two")
    # node "two" investigates only two recipes: its harness has only their tests/ directories
    for recipe in ("discourse", "gitea", "keycloak", "mumble"):
        shutil.rmtree(two.node.harness / "tests" / recipe)
    try:
        config = Config()
        config.node = one_config.node
        config.node.host = "127.0.0.1"
        config.nodes["two"] = NodeConfig(**vars(two_config.node))
        # Paths relative to each server's working directory (its node root), so one config
        # describes both trees, as one layout describes every real cc-ci node.
        config.paths = one_config.paths
        for key in ("harness", "runs_root", "warm_root"):
            absolute = getattr(config.paths, key)
            setattr(config.paths, key, str(Path(absolute).relative_to(one.node.root)))
        config.commands = one_config.commands
        config.commands.latest_tag = "echo 1.0.0"
        config.commands.in_flight = "true"
        session = Session(config, tmp_path / "J.md", "redfix")
        app = create_app(session)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: board(app).row_count == 6)
            assert board(app).border_title == f"Recipes on 127.0.0.1:{one.server.port} (6)"
            await pilot.press("N")
            await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
            await pilot.press("down", "enter")
            await until(pilot, lambda: board(app).row_count == 2)
            assert sorted(board(app).statuses) == ["bluesky-pds", "mattermost-lts"]
            assert board(app).border_title == "Recipes on two (2)"
            assert "two" in str(app.screen.query_one("NodeStatusBar").render())
            assert session.node.config.port == two.server.port
    finally:
        await one.close()
        await two.close()
