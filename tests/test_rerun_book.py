"""RerunBook: following a rerun, noticing its end, wrapping it up once, recording late ends."""

from __future__ import annotations

import asyncio
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from redfix_tui.node import NodeError
from redfix_tui.runs.book import RerunBook
from redfix_tui.runs.model import RunSummary
from redfix_tui.runs.progress import RunOutcome
from redfix_tui.runs.state import NodeStatus, RerunState
from redfix_tui.tracker import Tracker

STAGES = {"install": "passed", "upgrade": "failed"}


def rerun(recipe: str = "discourse", pid: int = 4242, exit_status: int | None = None, **kw):
    """A rerun state as the state file gives it."""
    return RerunState(
        recipe=recipe,
        tag="1.0.0",
        pid=pid,
        log=f"/tmp/redfix-{recipe}.log",
        started=kw.pop("started", "2026-06-18T00:05:00+00:00"),
        command="true",
        exit_status=exit_status,
        **kw,
    )


def running(state: RerunState) -> NodeStatus:
    """A refresh that sees ``state`` running."""
    return NodeStatus(reruns=[state], alive={state.pid})


def ended(state: RerunState, exit_status: int = 1) -> NodeStatus:
    """A refresh that sees ``state`` finished."""
    return NodeStatus(reruns=[replace(state, exit_status=exit_status)])


class FakeRuns:
    """A RunControl whose outcome can be slow, fail or lack parts."""

    def __init__(self) -> None:
        self.calls = 0
        self.delay = 0.0
        self.fail_with: Exception | None = None
        self.teardown: bool | None = True
        self.problems: list[str] = []

    async def outcome(self, state: RerunState) -> RunOutcome:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        outcome = RunOutcome(state, dict(STAGES), "results.json", self.teardown)
        outcome.problems = list(self.problems)
        return outcome

    def run_label(self, state: RerunState) -> str:
        return f"manual {state.started[:16]}Z"


@pytest.fixture
def tracker(tmp_path: Path) -> Tracker:
    return Tracker.load(tmp_path / "JOURNAL-redfix.tracker.toml")


@pytest.fixture
def runs() -> FakeRuns:
    return FakeRuns()


@pytest.fixture
def book(runs: FakeRuns, tracker: Tracker) -> RerunBook:
    return RerunBook(lambda: runs, lambda: tracker)


async def test_follow_end_and_record(book: RerunBook, runs: FakeRuns, tracker: Tracker) -> None:
    state = rerun()
    previous = RunSummary("manual", "discourse", stage_ms={"upgrade": 42_400})
    book.follow(state, previous)
    assert book.observe(running(state)).ended == []
    assert book.following == state
    assert book.previous_stage_s("discourse", "upgrade") == 42
    assert book.previous_stage_s("discourse", "install") is None

    seen = book.observe(ended(state))
    assert [s.exit_status for s in seen.ended] == [1] and book.following is None
    wrap = await book.wrap_up(seen.ended[0])
    assert wrap.followed and wrap.recorded and wrap.problems == []
    assert wrap.message() == "discourse: failed (exit 1)\ninstall ✔ upgrade ✘\nteardown clean"
    assert wrap.severity == "warning"
    row = tomllib.loads(tracker.path.read_text())["recipe"]["discourse"]
    assert row["result"] == "install ✔ upgrade ✘ — exit 1"
    assert row["run_key"] == state.key and row["isolation_run"] == "manual 2026-06-18T00:05Z"
    # Later refreshes see the same finished run: nothing more to do.
    for _ in range(3):
        assert book.observe(ended(state)).ended == []
    assert runs.calls == 1 and not book.busy
    assert "discourse" not in book.previous  # the next rerun measures itself against this one


async def test_wrap_up_survives_a_cancelled_caller_and_runs_once(
    book: RerunBook, runs: FakeRuns, tracker: Tracker
) -> None:
    runs.delay = 0.3
    state = rerun()
    book.follow(state)
    finished = book.observe(ended(state)).ended[0]
    # The refresh that noticed the end is cancelled by the next tick, half-way through.
    first = asyncio.ensure_future(book.wrap_up(finished))
    await asyncio.sleep(0.05)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert book.busy
    # The next tick sees the run again while its wrap-up is under way: not started twice.
    assert book.observe(ended(state)).ended == []
    again, twice = await asyncio.gather(book.wrap_up(finished), book.wrap_up(finished))
    assert again is twice and again.recorded
    assert runs.calls == 1
    assert tracker.get("discourse").run_key == state.key


async def test_failed_teardown_check_keeps_the_verdicts(
    book: RerunBook, runs: FakeRuns, tracker: Tracker
) -> None:
    runs.teardown = None
    runs.problems = ["teardown check: docker not found"]
    state = rerun()
    book.follow(state)
    wrap = await book.wrap_up(book.observe(ended(state)).ended[0])
    assert wrap.teardown == "teardown ?" and wrap.outcome.stages == STAGES
    assert "teardown check: docker not found" in wrap.message()
    assert tracker.get("discourse").stages == "install ✔ upgrade ✘"


async def test_lost_connection_leaves_it_for_the_next_refresh(
    book: RerunBook, runs: FakeRuns, tracker: Tracker
) -> None:
    runs.fail_with = NodeError("connection to cc-ci lost", kind="lost")
    state = rerun()
    book.follow(state)
    finished = book.observe(ended(state)).ended[0]
    with pytest.raises(NodeError):
        await book.wrap_up(finished)
    assert tracker.get("discourse").run_key == ""
    runs.fail_with = None
    retry = book.observe(ended(state)).ended
    assert [s.key for s in retry] == [state.key]
    wrap = await book.wrap_up(retry[0])
    assert wrap.recorded and not wrap.followed  # found in the state files this time
    assert tracker.get("discourse").run_key == state.key


async def test_run_that_ended_without_a_console_is_recorded(
    runs: FakeRuns, tracker: Tracker
) -> None:
    other = rerun("gitea", pid=77, exit_status=0, started="2026-06-18T02:00:00+00:00")
    book = RerunBook(lambda: runs, lambda: tracker)
    seen = book.observe(NodeStatus(reruns=[other]))
    assert seen.attach is None and [s.recipe for s in seen.ended] == ["gitea"]
    wrap = await book.wrap_up(seen.ended[0], followed=False)
    assert "ended while no console followed it" in wrap.message()
    # A second console (a new book on the same file) does not record it again.
    second = RerunBook(lambda: runs, lambda: Tracker.load(tracker.path))
    assert second.observe(NodeStatus(reruns=[other])).ended == []


async def test_row_written_before_rows_had_keys_is_not_rewritten(
    book: RerunBook, tracker: Tracker
) -> None:
    state = rerun(exit_status=1)
    tracker.update("discourse", isolation_run="manual 2026-06-18T00:05Z", result="by hand")
    assert book.observe(NodeStatus(reruns=[state])).ended == []
    assert tracker.get("discourse").result == "by hand"


async def test_reattach_and_vanished_leader(book: RerunBook, runs: FakeRuns) -> None:
    state = rerun()
    seen = book.observe(running(state))
    assert seen.attach == state and book.following == state
    assert book.observe(running(state)).attach is None
    # The leader is gone without an exit status: one miss may be a race, two is an end.
    gone = NodeStatus(reruns=[state])
    assert book.observe(gone).ended == [] and book.following == state
    assert book.observe(gone).ended == [state] and book.following is None
    wrap = await book.wrap_up(state)
    assert wrap.message().startswith("discourse: running")  # exit status unknown
    assert runs.calls == 1


async def test_tracker_write_failure_is_reported_not_lost(
    book: RerunBook, tracker: Tracker, tmp_path: Path
) -> None:
    tracker.path.write_text("[recipe\n")  # corrupt: the row cannot be merged in
    state = rerun()
    book.follow(state)
    wrap = await book.wrap_up(book.observe(ended(state)).ended[0])
    assert not wrap.recorded
    assert any("tracker row not written" in p for p in wrap.problems)
    assert "install ✔ upgrade ✘" in wrap.message()
    assert tracker.path.read_text() == "[recipe\n"  # the operator's file is not overwritten
