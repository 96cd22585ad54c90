"""Pilot test: the console with ``host = "local"`` on a cc-ci-shaped tree, without SSH.

The console's own environment reaches the node's commands (as it would on cc-ci): the test puts
the demo tree's fake tools first on PATH and its home in HOME, as the demo server does for its
sessions.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from redfix_tui.app import create_app
from redfix_tui.cli import build_parser
from redfix_tui.local_node import LocalNode
from redfix_tui.screens.main import MainScreen
from redfix_tui.session import Session
from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.recipe_board import RecipeBoard
from redfix_tui.widgets.status_bar import NodeStatusBar
from tests.demo_session import local_site


async def until(pilot: Pilot, check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until ``check()`` holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:g}s")
        await pilot.pause(0.05)


async def test_local_console_lists_recipes_and_tails_a_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree, config, env = local_site(tmp_path / "node")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    session = Session(config, tmp_path / "JOURNAL-redfix.md", "redfix")
    assert session.local and session.host_label.endswith(" (local)")
    log = tree.root / "tmp" / "redfix-mattermost-lts.log"
    first_line = log.read_bytes().split(b"\n", 1)[0].decode()
    app = create_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        board = main.query_one(RecipeBoard)
        await until(pilot, lambda: board.row_count == len(tree.recipes))
        assert isinstance(session.node, LocalNode) and session.node.is_connected
        bar = main.query_one(NodeStatusBar)
        assert bar.connection == "connected" and bar.host == session.node.host_label
        assert all(board.get_row_index(name) >= 0 for name in tree.recipes)

        board.focus()
        board.move_cursor(row=board.get_row_index("mattermost-lts"))
        await until(pilot, lambda: main.selected == "mattermost-lts")
        view = main.query_one(LogPane).log_view
        await until(pilot, lambda: view.spool is not None and view.spool.line_count > 3)
        assert view.spool.read_line(0) == first_line
        assert view.host == session.node.host_label
        # Live: a line written now reaches the view.
        with log.open("ab") as handle:
            handle.write(b"redfix local tail check\n")
        spool = view.spool
        await until(
            pilot, lambda: spool.read_line(spool.line_count - 1) == "redfix local tail check"
        )
        running = [process for process in session.node.processes if process.returncode is None]
        assert running  # the log's follower, at least
    # Quitting stops every command the console started (each in its own process group).
    assert not session.node.is_connected and session.node.processes == set()
    assert all(process.returncode is not None for process in running)
    for process in running:
        with pytest.raises(ProcessLookupError):
            os.killpg(process.pid, 0)


def test_local_flag_means_host_local() -> None:
    args = build_parser().parse_args(["--local"])
    assert args.local is True
    assert build_parser().parse_args([]).local is False


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--demo"], "--local and --demo cannot be combined"),
        (["--host", "cc-ci"], "--local and --host cannot be combined"),
    ],
)
def test_local_flag_conflicts_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], expected: str
) -> None:
    from redfix_tui.cli import main

    config = tmp_path / "redfix.toml"
    config.write_text("")
    assert main(["--config", str(config), "--local", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"redfix-tui: {expected}") and err.count("\n") == 1
    assert not list(tmp_path.glob("redfix-demo-*"))
