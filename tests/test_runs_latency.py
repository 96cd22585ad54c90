"""Reruns from the console against OpenSSH's sshd behind a 60 ms-each-way latency proxy.

Every rerun's end must reach the operator (the "Rerun ended" notification), the M1 tracker (one
row, keyed by the run) and the board (the new Iso verdicts) without ctrl+r — with refresh ticks
landing in the middle of the wrap-up, with ``docker`` missing on the node, five times in a row,
and for a run that ended while no console was open.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from redfix_tui.app import RedfixApp, create_app
from redfix_tui.config import Config
from redfix_tui.demo.tree import DemoNode, build_demo_node
from redfix_tui.node import NodeConnection
from redfix_tui.runs.book import row_key
from redfix_tui.runs.control import RunControl
from redfix_tui.runs.progress import VERDICT_MARKS
from redfix_tui.screens.main import MainScreen
from redfix_tui.session import Session
from redfix_tui.widgets.recipe_board import RecipeBoard
from redfix_tui.widgets.rerun_dialogs import RerunConfirm
from redfix_tui.widgets.status_bar import NodeStatusBar
from tests.conftest import SSHFiles
from tests.demo_session import openssh_config, wait_finished

pytestmark = pytest.mark.sshd

RUN_TIMEOUT = 60.0


@pytest.fixture
def tree(tmp_path: Path) -> DemoNode:
    """A demo tree whose reruns take about 3 s."""
    return build_demo_node(tmp_path / "node", python=sys.executable, speed=0.05)


@pytest.fixture
def config(tree: DemoNode, ssh_files: SSHFiles, slow_sshd) -> Config:
    """A console config for the tree, reaching sshd through the latency proxy."""
    return openssh_config(tree, ssh_files, slow_sshd.port)


async def archived_key(main: MainScreen, key: str) -> str:
    """The tracker row key of the rerun ``key`` once it ended: its archive's (the wrapper
    archived it; the run ledger keys it the same way)."""
    status = await main.session.runs.status()
    (state,) = [s for s in status.reruns if s.key == key]
    assert state.archived, "the wrapper archived the run"
    return row_key(state)


def new_app(config: Config, tmp_path: Path) -> RedfixApp:
    """A console whose every notification is kept (shown ones expire), as ``title: message``."""
    app = create_app(Session(config, tmp_path / "JOURNAL-redfix.md", "redfix"))
    kept: list[str] = []
    shown = app.notify

    def notify(message: str, *, title: str = "", **options) -> None:
        kept.append(f"{title}: {message}")
        shown(message, title=title, **options)

    app.notify = notify  # type: ignore[method-assign]
    app.kept_notes = kept  # type: ignore[attr-defined]
    return app


def notes(app: RedfixApp) -> list[str]:
    return list(app.kept_notes)  # type: ignore[attr-defined]


def ended_notes(app: RedfixApp) -> list[str]:
    return [n for n in notes(app) if n.startswith("Rerun ended")]


async def until(pilot: Pilot, check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:g}s: {notes(pilot.app)}")
        await pilot.pause(0.05)


def board(app: RedfixApp) -> RecipeBoard:
    return app.screen.query_one(RecipeBoard)


async def start_rerun(pilot: Pilot, recipe: str) -> None:
    """Pick ``recipe`` on the board and start its rerun at the latest tag, as an operator."""
    app = pilot.app
    main = app.screen
    assert isinstance(main, MainScreen)
    await until(pilot, lambda: main.rerun_state is None and not main.book.busy, RUN_TIMEOUT)

    def started() -> int:
        return len([n for n in notes(app) if n.startswith("Rerun started")])

    before = started()
    board(app).focus()
    board(app).move_cursor(row=board(app).get_row_index(recipe))
    await pilot.press("r")
    await until(pilot, lambda: isinstance(app.screen, RerunConfirm))
    await pilot.press("enter")
    await until(pilot, lambda: started() > before)
    assert main.rerun_state is not None and main.rerun_state.recipe == recipe


def tracker_row(main: MainScreen, recipe: str) -> dict:
    return tomllib.loads(main.session.tracker_path.read_text())["recipe"][recipe]


async def test_proxy_delays_and_keeps_order(slow_sshd, ssh_files: SSHFiles) -> None:
    from tests.conftest import node_config_for

    node = NodeConnection(node_config_for(ssh_files, slow_sshd.port))
    try:
        await node.connect()
        began = time.monotonic()
        await node.run("true")
        took = time.monotonic() - began
        assert took >= 0.12, took  # one round trip at least: 2 × 60 ms
        big = await node.run("head -c 3000000 /dev/urandom | base64 | tee /dev/stderr | sha1sum")
        assert big.ok and hashlib.sha1(big.stderr.encode()).hexdigest() == big.stdout.split()[0]
    finally:
        await node.close()
    assert slow_sshd.connections == 1


async def test_rerun_ends_with_verdicts_while_ticks_fire(config: Config, tmp_path: Path) -> None:
    app = new_app(config, tmp_path)
    async with app.run_test(size=(120, 32)) as pilot:
        await until(pilot, lambda: board(app).row_count == 6)
        main = app.screen
        assert isinstance(main, MainScreen)
        assert board(app).statuses["discourse"].isolation is None
        # A slow node: the outcome takes 2.5 s more, so 2 s refresh ticks land in the wrap-up.
        runs, real_refresh = main.session.runs, main._refresh_locked
        real_outcome = runs.outcome
        seen = {"wrapping": False, "ticks": 0}

        async def slow_outcome(state):
            seen["wrapping"] = True
            try:
                outcome = await real_outcome(state)
                await asyncio.sleep(2.5)
                return outcome
            finally:
                seen["wrapping"] = False

        async def counted_refresh(recipes: bool) -> None:
            seen["ticks"] += seen["wrapping"]
            await real_refresh(recipes)

        runs.outcome = slow_outcome
        main._refresh_locked = counted_refresh
        await start_rerun(pilot, "discourse")
        key = main.rerun_state.key
        await until(pilot, lambda: ended_notes(app), RUN_TIMEOUT)
        assert seen["ticks"] >= 1, "no refresh tick fired during the wrap-up"
        (ended,) = ended_notes(app)
        assert "discourse: failed (exit 1)" in ended and "upgrade ✘" in ended
        assert "install ✔" in ended and "teardown clean" in ended
        row = tracker_row(main, "discourse")
        assert row["run_key"] == await archived_key(main, key)
        assert row["result"].startswith("install ✔ upgrade ✘")
        iso = board(app).statuses["discourse"].isolation
        assert iso is not None and iso.stages["upgrade"] == "failed"
        assert board(app).progress == {}
        # Later ticks do not record or announce it again.
        ticks = seen["ticks"]
        await until(pilot, lambda: not main.book.busy)
        refreshed = main.node_status.refreshed
        main.refresh_node(recipes=True)
        await until(pilot, lambda: main.node_status.refreshed != refreshed, 10)
        assert len(ended_notes(app)) == 1 and seen["ticks"] == ticks


async def test_docker_missing_keeps_verdicts_and_row(config: Config, tmp_path: Path) -> None:
    config.commands.stacks = "PATH=/usr/bin:/bin docker stack ls --format '{{.Name}}'"
    app = new_app(config, tmp_path)
    async with app.run_test(size=(160, 32)) as pilot:
        await until(pilot, lambda: board(app).row_count == 6)
        main = app.screen
        bar = main.query_one(NodeStatusBar)
        assert "stacks n/a — docker not found" in str(bar.render())
        await start_rerun(pilot, "mumble")
        await until(pilot, lambda: ended_notes(app), RUN_TIMEOUT)
        (ended,) = ended_notes(app)
        assert "mumble: passed (exit 0)" in ended
        assert "install ✔ upgrade ✔ backup ✔ restore ✔ custom ✔" in ended
        assert "teardown ?" in ended and "teardown check: docker not found" in ended
        row = tracker_row(main, "mumble")
        assert row["stages"] == "install ✔ upgrade ✔ backup ✔ restore ✔ custom ✔"
        assert board(app).statuses["mumble"].isolation.stages["custom"] == "passed"
        assert bar.connection == "connected"
        assert not [n for n in notes(app) if n.startswith(("Node", "Internal error"))]


async def test_five_reruns_in_a_row(config: Config, tmp_path: Path) -> None:
    recipes = ["mumble", "gitea", "discourse", "bluesky-pds", "mattermost-lts"]
    app = new_app(config, tmp_path)
    rows = 0
    async with app.run_test(size=(120, 32)) as pilot:
        await until(pilot, lambda: board(app).row_count == 6)
        main = app.screen
        for count, recipe in enumerate(recipes, 1):
            await start_rerun(pilot, recipe)
            key = main.rerun_state.key
            await until(pilot, lambda n=count: len(ended_notes(app)) == n, RUN_TIMEOUT)
            note = ended_notes(app)[-1]
            assert note.startswith(f"Rerun ended: {recipe}: ")
            row = tracker_row(main, recipe)
            assert row["run_key"] == await archived_key(main, key)
            rows += 1
            iso = board(app).statuses[recipe].isolation
            assert iso is not None and iso.recipe == recipe
            shown = " ".join(f"{s} {VERDICT_MARKS[v]}" for s, v in iso.stages.items())
            assert shown in note and row["stages"] == shown
        assert len(ended_notes(app)) == len(recipes)
    print(f"reruns tried {len(recipes)}, tracker rows recorded {rows}")
    assert rows == len(recipes)


async def test_run_that_ended_with_the_console_closed(
    config: Config, tmp_path: Path, tree: DemoNode
) -> None:
    first = new_app(config, tmp_path)
    async with first.run_test(size=(120, 32)) as pilot:
        await until(pilot, lambda: board(first).row_count == 6)
        await start_rerun(pilot, "gitea")
        key = first.screen.rerun_state.key
    # The console is closed; the run ends on the node without it.
    node = NodeConnection(config.node)
    try:
        final = await wait_finished(RunControl(node, config), "gitea", RUN_TIMEOUT)
    finally:
        await node.close()
    assert final.key == key and final.end_epoch is not None and final.archived
    tracker = tmp_path / "JOURNAL-redfix.tracker.toml"
    rows = tomllib.loads(tracker.read_text())["recipe"] if tracker.exists() else {}
    assert rows.get("gitea", {}).get("run_key", "") == ""  # its grade at most, not the run

    second = new_app(config, tmp_path)
    async with second.run_test(size=(120, 32)) as pilot:
        await until(pilot, lambda: ended_notes(second), RUN_TIMEOUT)
        (ended,) = ended_notes(second)
        assert "gitea: failed (exit 1)" in ended and "ended while no console followed it" in ended
        row = tracker_row(second.screen, "gitea")
        assert row["run_key"] == row_key(final) and "install ✘" in row["stages"]
    # A third console finds it recorded: no second row, no second notification.
    third = new_app(config, tmp_path)
    async with third.run_test(size=(120, 32)) as pilot:
        await until(pilot, lambda: board(third).row_count == 6)
        main = third.screen
        refreshed = main.node_status.refreshed
        main.refresh_node()
        await until(pilot, lambda: main.node_status.refreshed != refreshed)
        assert ended_notes(third) == [] and not main.book.busy
    assert tomllib.loads(tracker.read_text())["recipe"]["gitea"]["run_key"] == row_key(final)
