"""The tracker's isolation run, result and grade cells filled from a recipe's run ledger.

Also by a console: once per read of the recipes it records the ledger of each recipe with new
runs (:meth:`RerunBook.record_ledgers`), so a run that ended with no console open has its row.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from redfix_tui.app import create_app
from redfix_tui.local_node import LocalNode
from redfix_tui.recipes import RecipeSource
from redfix_tui.runs.book import RerunBook, row_key
from redfix_tui.runs.control import RunControl
from redfix_tui.runs.ledger import RecipeLedger
from redfix_tui.runs.model import RunSummary
from redfix_tui.runs.state import RerunState, parse_state
from redfix_tui.screens.main import MainScreen
from redfix_tui.session import Session
from redfix_tui.tracker import Tracker, key_started, ledger_key
from tests.demo_session import local_site, wait_finished
from tests.pilot_helpers import until

RED = {"install": "passed", "restore": "failed"}


def run(run_id: str, kind: str, day: int, stages: dict[str, str], exit_status=None) -> RunSummary:
    return RunSummary(
        run_id,
        "mattermost-lts",
        kind=kind,
        tag="2.1.9+10.11.15",
        finished=datetime(2026, 6, day, 23, 43, tzinfo=UTC),
        exit_status=exit_status,
        stages=stages,
    )


def test_row_from_the_newest_archived_run_once_and_grade_in_the_export(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    tracker = Tracker.load(path)
    tracker.update("mattermost-lts", root_cause="hot PGDATA", classification="recipe defect")
    ledger = RecipeLedger(
        "mattermost-lts",
        [
            run("20260617T234340Z", "isolation", 17, RED, exit_status=1),
            run("sweep-20260617T0300Z-mattermost-lts", "sweep", 17, RED),
        ],
    )
    assert tracker.record_ledger(ledger) is True
    row = Tracker.load(path).get("mattermost-lts")
    assert row.isolation_run == "isolation 2026-06-17T23:43Z (2.1.9+10.11.15)"
    assert (
        row.result == "install ✔ restore ✘ — exit 1" and row.run_key == "archive 20260617T234340Z"
    )
    assert row.grade == "restore deterministic (2 of 2 failed on 2.1.9+10.11.15)"
    assert row.root_cause == "hot PGDATA" and row.classification == "recipe defect"
    assert tracker.record_ledger(ledger) is False  # recorded once
    lines = Tracker.load(path).to_markdown(["mattermost-lts"]).splitlines()
    assert lines[0] == "| Recipe | Isolation run | Result | Root cause | Classification |"
    assert lines[2] == (
        "| mattermost-lts | isolation 2026-06-17T23:43Z (2.1.9+10.11.15) | install ✔ restore ✘ "
        "— exit 1 — grade: restore deterministic (2 of 2 failed on 2.1.9+10.11.15) | hot PGDATA "
        "| recipe defect |"
    )

    # A newer run that passed: the row moves on, and the grade says flaky now.
    ledger.runs.insert(0, run("20260618T101010Z", "isolation", 18, {**RED, "restore": "passed"}))
    ledger.runs[0].exit_status = 0
    assert tracker.record_ledger(ledger) is True
    row = Tracker.load(path).get("mattermost-lts")
    assert row.result == "install ✔ restore ✔" and row.grade.startswith("restore flaky (2 of 3")


def test_no_isolation_run_leaves_the_row_alone(tmp_path: Path) -> None:
    tracker = Tracker.load(tmp_path / "t.toml")
    assert tracker.record_ledger(RecipeLedger("gitea")) is False
    ledger = RecipeLedger("gitea", [run("sweep-1", "sweep", 17, {"install": "passed"})])
    assert tracker.record_ledger(ledger) is True
    row = tracker.get("gitea")
    assert row.grade == "passing" and row.isolation_run == "" and row.run_key == ""


def test_a_row_holding_the_same_or_a_newer_rerun_keeps_it(tmp_path: Path) -> None:
    """A console's wrap-up of a newer rerun (not archived: its key is the run's own) is not
    replaced by an older archived run; an archived run is keyed as the ledger keys it."""
    tracker = Tracker.load(tmp_path / "t.toml")
    newer = "mattermost-lts 2026-06-18T10:00:00+00:00 pid 4242"
    tracker.record_run("mattermost-lts", newer, isolation_run="manual 2026-06-18T10:00Z")
    ledger = RecipeLedger(
        "mattermost-lts", [run("20260617T234340Z", "isolation", 17, RED, exit_status=1)]
    )
    assert tracker.record_ledger(ledger) is True  # the grade only
    row = tracker.get("mattermost-lts")
    assert row.run_key == newer and row.isolation_run == "manual 2026-06-18T10:00Z"
    assert row.grade.startswith("restore not enough evidence")
    assert key_started(newer) == datetime(2026, 6, 18, 10, tzinfo=UTC)
    assert key_started(ledger_key("20260617T234340Z")) == datetime(
        2026, 6, 17, 23, 43, 40, tzinfo=UTC
    )
    assert key_started("run-7") is None

    state = parse_state(
        '{"recipe": "gitea", "tag": "1", "log": "/tmp/l", "started": "2026-06-18T10:00:00+00:00"}\n'
        "pid 42\nstart 1781776800\n"
        "archive /home/ci/.local/share/redfix-tui/runs/gitea/20260618T100000Z\nexit 0\n"
    )
    assert state is not None and state.archived == "20260618T100000Z"
    assert row_key(state) == "archive 20260618T100000Z pid 42"
    assert key_started(row_key(state)) == key_started(ledger_key(state.archived))
    # The same run, wrapped up by a console: the ledger leaves the row (its grade aside).
    tracker.record_run("gitea", row_key(state), isolation_run="manual 2026-06-18T10:00Z")
    ledger = RecipeLedger(
        "gitea", [RunSummary("20260618T100000Z", "gitea", kind="isolation", stages=RED)]
    )
    assert tracker.record_ledger(ledger) is True
    row = tracker.get("gitea")
    assert row.run_key == row_key(state) and row.isolation_run == "manual 2026-06-18T10:00Z"
    failed = parse_state(
        '{"recipe": "gitea", "tag": "1", "log": "/tmp/l", "started": "2026-06-18T10:00:00+00:00"}\n'
        "pid 42\narchive-failed mkdir /x/gitea/20260618T100000Z\narchive /x/gitea/..\nexit 1\n"
    )
    assert failed is not None and failed.archived == "" and row_key(failed) == failed.key


# -- the console records the ledger ---------------------------------------------------------


async def archived_rerun(tree, config, env, recipe: str, tag: str) -> RerunState:
    """Run a rerun of ``recipe`` to its end with no console open; its final state."""
    node = LocalNode(config.node, env=env, cwd=tree.root)
    try:
        runs = RunControl(node, config)
        await runs.start(recipe, tag)
        state = await wait_finished(runs, recipe, timeout=60)
    finally:
        await node.close()
    assert state.archived, "the wrapper archived the run"
    return state


async def test_record_ledgers_reads_only_recipes_with_new_runs(tmp_path: Path) -> None:
    tree, config, env = local_site(tmp_path / "node")
    stamp = (await archived_rerun(tree, config, env, "discourse", "0.8.1+3.5.0")).archived
    node = LocalNode(config.node, env=env, cwd=tree.root)
    tracker = Tracker.load(tmp_path / "tracker.toml")
    runs = RunControl(node, config)
    book = RerunBook(lambda: runs, lambda: tracker)
    try:
        statuses = await RecipeSource(node, config).load()
        first = await book.record_ledgers(statuses)
        with_runs = [s.name for s in statuses if s.sweep or s.isolation]
        assert sorted(first.recipes) == sorted(with_runs) and first.changed and not first.problem
        row = Tracker.load(tmp_path / "tracker.toml").get("discourse")
        assert row.run_key == ledger_key(stamp) and row.grade
        assert row.isolation_run.startswith("isolation ") and "0.8.1+3.5.0" in row.isolation_run
        again = await book.record_ledgers(statuses)
        assert again.recipes == [] and not again.changed  # nothing new: no ledger read

        newer = [
            replace(s, sweep=replace(s.sweep, run_id="sweep-new")) if s.name == "gitea" else s
            for s in statuses
        ]
        assert (await book.record_ledgers(newer)).recipes == ["gitea"]
    finally:
        await node.close()

    # The node is gone: one line, once; the recipes are read again on the next call.
    lost = RerunBook(
        lambda: RunControl(LocalNode(config.node, cwd=tmp_path / "gone"), config), lambda: tracker
    )
    failed = await lost.record_ledgers(statuses)
    assert failed.problem.startswith("run ledger not read: ") and "next refresh" in failed.problem
    assert (await lost.record_ledgers(statuses)).problem == ""  # said once
    assert (await lost.record_ledgers(statuses)).recipes  # and tried again


@pytest.mark.parametrize("state_file", ["kept", "gone"])
async def test_console_refresh_records_a_run_archived_with_no_console_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state_file: str
) -> None:
    """A rerun archived while no console was open gets its tracker row, with the grade, on the
    console's first refresh: from the ledger alone when the state file is gone (a node that
    cleared /tmp), else from the console's wrap-up too, which tells the operator once and keys
    the row as its own (the ledger then keeps it)."""
    tree, config, env = local_site(tmp_path / "node")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    state = await archived_rerun(tree, config, env, "discourse", "0.8.1+3.5.0")
    key = ledger_key(state.archived) if state_file == "gone" else row_key(state)
    if state_file == "gone":
        Path(RunControl(LocalNode(), config).state_path("discourse")).unlink()
    session = Session(config, tmp_path / "JOURNAL-redfix.md", "redfix")
    assert Tracker.load(session.tracker_path).get("discourse").run_key == ""
    app = create_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)

        def recorded() -> bool:
            row = Tracker.load(session.tracker_path).get("discourse")
            return row.run_key == key and bool(row.grade)

        await until(pilot, recorded, timeout=60)
        await until(pilot, lambda: not main.book.busy)
        row = Tracker.load(session.tracker_path).get("discourse")
        assert "upgrade ✘" in row.result and row.run_key == key
        told = [n for n in app._notifications if n.title == "Rerun ended"]
        if state_file == "gone":
            assert row.isolation_run.startswith("isolation ") and "0.8.1+3.5.0" in row.isolation_run
            assert told == []  # nothing to wrap up: no state file
        else:
            await until(pilot, lambda: any(n.title == "Rerun ended" for n in app._notifications))
            (note,) = [n for n in app._notifications if n.title == "Rerun ended"]
            assert "ended while no console followed it" in str(note.message)
        table = main.tracker.to_markdown(["discourse"]).splitlines()[2]
        assert table.startswith("| discourse | ") and f"— grade: {row.grade} |" in table
