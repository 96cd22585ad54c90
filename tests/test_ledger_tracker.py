"""The tracker's isolation run, result and grade cells filled from a recipe's run ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from redfix_tui.runs.ledger import RecipeLedger
from redfix_tui.runs.model import RunSummary
from redfix_tui.tracker import Tracker

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
