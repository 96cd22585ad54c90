"""The history view against OpenSSH's sshd serving a demo tree (not the in-process demo server):
the ledger's one command, an archived run's JUnit and two runs' comparison over a real sshd."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from redfix_tui.demo.tree import build_demo_node
from redfix_tui.screens.history import HistoryScreen
from redfix_tui.widgets.run_history import RunHistory
from tests.conftest import SSHFiles
from tests.demo_session import openssh_config
from tests.pilot_helpers import board, loaded, new_app, until

pytestmark = pytest.mark.sshd


async def test_history_over_openssh(sshd, ssh_files: SSHFiles, tmp_path: Path) -> None:
    tree = build_demo_node(tmp_path / "node", python=sys.executable, speed=0.1)
    config = openssh_config(tree, ssh_files, sshd.port)
    app = new_app(config, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        table = board(app)
        table.focus()
        table.move_cursor(row=table.get_row_index("mattermost-lts"))
        await pilot.pause()
        await pilot.press("h")
        await until(pilot, lambda: bool(app.screen.query(RunHistory)))
        view = app.screen.query_one(RunHistory)
        await until(pilot, lambda: view.table.row_count == 5)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        assert view.state == ""
        grades = {stage: grade.grade for stage, grade in view.ledger.verdicts.items()}
        assert grades["restore"] == "deterministic" and grades["install"] == "passing"

        await pilot.press("enter")  # the archived isolation run's JUnit, read over sshd
        junit = screen.junit
        await until(pilot, lambda: junit.run is not None and junit.run.files != [])
        archived = tree.archive / "mattermost-lts" / "20260617T234340Z" / "junit"
        assert sorted(f.path for f in junit.run.files) == sorted(
            str(p) for p in archived.glob("*.xml")
        )
        assert all(f.error is None and f.suites for f in junit.run.files)

        await pilot.press("escape", "space", "down", "down", "space", "c")
        await until(pilot, lambda: junit.comparison is not None)
        comparison = junit.comparison
        assert comparison.first.run_id == "sweep sweep-20260616T0300Z-mattermost-lts"
        assert comparison.second.run_id == "isolation 20260617T234340Z"
        assert any(c.verdict == "still failing" for c in comparison.interesting())
