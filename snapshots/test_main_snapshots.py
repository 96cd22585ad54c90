"""Snapshots of the whole main screen: board, a real rerun log, JUnit, the journal beside the log.

Fixed data (the board's, from ``tests/fixed_console.py``) and a log and JUnit run taken from the
demo node's past mattermost-lts rerun, with the demo's temporary root stripped from paths, so
nothing depends on time, ports or temp directories.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from redfix_tui.demo.tree import build_demo_node
from redfix_tui.junit.load import load_run_from_bytes
from redfix_tui.logs.spool import LogSpool
from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.log_view import LogView
from tests.fixed_console import app, inject


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_node(tmp_path_factory.mktemp("demo")).root


@pytest.fixture(autouse=True)
def no_drafts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


XML_LINE = re.compile(rb"-* generated xml file: (\S+) -*")
"""pytest's centred ``generated xml file`` line: its dashes depend on the path's length."""


def log_spool(root: Path) -> LogSpool:
    """The demo's past mattermost-lts rerun log, as cc-ci paths (lines re-centred as pytest would
    print them on cc-ci, so the temporary root's length leaves no trace)."""
    data = (root / "tmp" / "redfix-mattermost-lts.log").read_bytes()
    data = data.replace(str(root).encode(), b"")
    data = XML_LINE.sub(
        lambda m: f" generated xml file: {m[1].decode()} ".center(120, "-").encode(), data
    )
    spool = LogSpool()
    spool.append(data)
    return spool


async def show_log(pilot, root: Path, cursor: str = "mattermost-lts") -> None:
    await inject(pilot, cursor=cursor)
    pane = pilot.app.screen.query_one(LogPane)
    pane.attach(log_spool(root), "/tmp/redfix-mattermost-lts.log", host="cc-ci", recipe=cursor)
    view = pane.query_one(LogView)
    view.show_rate = False
    await pilot.pause()
    view.action_follow()
    await pilot.pause()


def test_main_screen_80x24(snap_compare, demo_root: Path) -> None:
    async def run_before(pilot) -> None:
        await show_log(pilot, demo_root)

    assert snap_compare(app(), terminal_size=(80, 24), run_before=run_before)


def test_main_screen_160x50(snap_compare, demo_root: Path) -> None:
    async def run_before(pilot) -> None:
        await show_log(pilot, demo_root)

    assert snap_compare(app(), terminal_size=(160, 50), run_before=run_before)


def test_main_screen_200x50(snap_compare, demo_root: Path) -> None:
    async def run_before(pilot) -> None:
        await show_log(pilot, demo_root)

    assert snap_compare(app(), terminal_size=(200, 50), run_before=run_before)


def test_junit_pane_over_the_log_120x36(snap_compare, demo_root: Path) -> None:
    async def run_before(pilot) -> None:
        await show_log(pilot, demo_root)
        screen = pilot.app.screen
        run_dir = demo_root / "var" / "lib" / "cc-ci-runs" / "manual"
        files = {
            f"/var/lib/cc-ci-runs/manual/junit/{p.name}": p.read_bytes()
            for p in sorted((run_dir / "junit").glob("*.xml"))
        }
        run = load_run_from_bytes("manual", files, (run_dir / "results.json").read_bytes())
        view = await screen.ensure_junit_view()
        screen.query_one("#switcher").current = "junit"
        view.show_run(run)
        view.results_tree.focus()
        await pilot.pause()

    assert snap_compare(app(), terminal_size=(120, 36), run_before=run_before)


def test_journal_beside_the_log_160x50(snap_compare, demo_root: Path) -> None:
    async def run_before(pilot) -> None:
        await show_log(pilot, demo_root)
        view = pilot.app.screen.query_one(LogView)
        view.focus()
        await pilot.press("k", "k", "v", "k", "k", "e")
        await pilot.pause()
        await pilot.press(*"mattermost-lts restore: ci_marker lost")
        await pilot.pause()
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app(), terminal_size=(160, 50), run_before=run_before)
