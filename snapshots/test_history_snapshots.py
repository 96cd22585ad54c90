"""Snapshots of the history view: a recipe's run ledger (grades, failing since, runs) at 80×24 and
160×50, read from a freshly built demo tree through a local node (``host = "local"``), so nothing
shown depends on a port; the demo's runs carry fixed (virtual) times, and no clock is shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from redfix_tui.app import create_app
from redfix_tui.config import config_from_dict
from redfix_tui.demo.tree import build_demo_node
from redfix_tui.screens.history import HistoryScreen
from redfix_tui.session import Session
from redfix_tui.widgets.run_history import RunHistory


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory):
    node = build_demo_node(tmp_path_factory.mktemp("demo"))
    config = config_from_dict(node.config_overrides(), "<snapshot>")
    config.node.host = "local"
    return config


@pytest.fixture(autouse=True)
def no_drafts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def history_app(config, tmp_path: Path):
    session = Session(config, tmp_path / "JOURNAL-redfix.md", "redfix")
    return create_app(session, tick=False, load=False)


def open_history(recipe: str, *keys: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await pilot.pause()
        await app.push_screen(HistoryScreen(app.screen.session, recipe))
        for _ in range(400):
            views = app.screen.query(RunHistory)
            if views and views.first().table.row_count:
                break
            await pilot.pause(0.05)
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_history_80x24(snap_compare, demo_config, tmp_path: Path) -> None:
    assert snap_compare(
        history_app(demo_config, tmp_path),
        terminal_size=(80, 24),
        run_before=open_history("mattermost-lts"),
    )


def test_history_two_marked_160x50(snap_compare, demo_config, tmp_path: Path) -> None:
    assert snap_compare(
        history_app(demo_config, tmp_path),
        terminal_size=(160, 50),
        run_before=open_history("discourse", "space", "down", "space"),
    )
