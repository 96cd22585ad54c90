"""Evidence-graded verdicts and "failing since" on fixture histories (newest run first)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redfix_tui.runs.grades import failing_since, grade_stage, grades
from redfix_tui.runs.model import RunSummary

T0 = datetime(2026, 6, 10, 3, 20, tzinfo=UTC)
OK = {"install": "passed", "upgrade": "passed", "backup": "passed", "restore": "passed"}


def run(n: int, kind: str, tag: str, canonical: str = "", **stages: str) -> RunSummary:
    """Run number ``n`` (higher is newer) with OK stages overridden by ``stages``."""
    return RunSummary(
        f"{kind}-{n}",
        "r",
        kind=kind,
        tag=tag,
        canonical=canonical,
        finished=T0 + timedelta(days=n),
        stages={**OK, **stages},
    )


def newest_first(*runs: RunSummary) -> list[RunSummary]:
    return sorted(runs, key=lambda r: r.finished, reverse=True)


def test_deterministic_needs_every_attempt_red_alone_and_in_the_sweep() -> None:
    history = newest_first(
        run(1, "sweep", "2.1.8", restore="passed"),
        run(2, "sweep", "2.1.9", restore="failed"),
        run(3, "sweep", "2.1.9", restore="failed"),
        run(4, "isolation", "2.1.9", restore="error"),
    )
    found = grades(history)
    restore = found["restore"]
    assert restore.grade == "deterministic" and (restore.failed, len(restore.attempts)) == (3, 3)
    assert [r.run_id for r, _ in restore.attempts] == ["isolation-4", "sweep-3", "sweep-2"]
    assert found["install"].grade == "passing" and len(found["install"].attempts) == 3
    assert restore.to_json() == {
        "grade": "deterministic",
        "attempts": [
            {
                "run_id": f"{kind}-{n}",
                "kind": kind,
                "tag": "2.1.9",
                "finished": f"2026-06-{10 + n}T03:20:00Z",
                "verdict": verdict,
            }
            for n, kind, verdict in (
                (4, "isolation", "error"),
                (3, "sweep", "failed"),
                (2, "sweep", "failed"),
            )
        ],
    }
    # Red only in sweeps so far: not yet deterministic.
    sweeps_only = [r for r in history if r.kind == "sweep"]
    graded = grade_stage(sweeps_only, "restore", "2.1.9")
    assert graded.grade == "not enough evidence" and graded.note == "no isolation run yet"


def test_flaky_counts_k_of_n_on_the_same_tag_only() -> None:
    history = newest_first(
        run(1, "sweep", "0.8.0", upgrade="failed"),  # another tag: not counted
        run(2, "sweep", "0.8.1", upgrade="failed"),
        run(3, "isolation", "0.8.1", upgrade="passed"),
        run(4, "sweep", "0.8.1", upgrade="failed"),
        run(5, "isolation", "0.8.1", upgrade="skipped"),  # no evidence
    )
    upgrade = grades(history)["upgrade"]
    assert upgrade.grade == "flaky" and upgrade.tag == "0.8.1"
    assert (upgrade.failed, len(upgrade.attempts)) == (2, 3)
    assert upgrade.text == "flaky (2 of 3 failed on 0.8.1)"


def test_single_attempt_is_not_enough_evidence() -> None:
    history = [run(1, "sweep", "3.4.1", install="failed")]
    install = grades(history)["install"]
    assert install.grade == "not enough evidence" and install.note == "one attempt"
    assert grades(history)["backup"].grade == "passing"
    assert grades([]) == {}


def test_failing_since_names_what_changed() -> None:
    history = newest_first(
        run(1, "sweep", "2.1.7", canonical="2.1.7"),
        run(2, "sweep", "2.1.8", canonical="2.1.7"),
        run(3, "sweep", "2.1.9", canonical="2.1.8", restore="failed"),
        run(4, "isolation", "2.1.9", canonical="2.1.8", restore="failed"),
        run(5, "sweep", "2.1.9", canonical="2.1.8", restore="failed"),
    )
    since = failing_since(history)
    assert since.run.run_id == "sweep-3" and since.last_green.run_id == "sweep-2"
    assert since.changed == ["tag", "canonical"]
    assert since.to_json()["last_green"]["tag"] == "2.1.8"
    assert "failing since sweep sweep-3" in since.text and "tag was 2.1.8" in since.text
    assert failing_since(history, "restore").run.run_id == "sweep-3"
    assert failing_since(history, "install") is None  # green now
    # Green again at the newest run: not failing.
    assert failing_since([run(6, "isolation", "2.1.9"), *history]) is None
    # Never green: since the oldest red run, with nothing to compare against.
    never = failing_since(history[:3])
    assert never.run.run_id == "sweep-3" and never.last_green is None and never.changed == []


def test_failing_since_skips_runs_without_verdicts_and_counts_a_bad_exit() -> None:
    empty = RunSummary("isolation-9", "r", kind="isolation", tag="1", exit_status=1)
    assert empty.red and not empty.green
    unknown = RunSummary("isolation-8", "r", kind="isolation", tag="1")
    history = [unknown, empty, run(2, "sweep", "1")]
    since = failing_since(history)
    assert since.run is empty and since.last_green.run_id == "sweep-2"
    assert since.changed == []
