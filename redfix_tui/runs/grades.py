"""Answers from a recipe's ledger: evidence-graded verdicts per stage, and "failing since".

Pure functions over :class:`RunSummary` lists (newest first), so they are tested on fixtures.

A stage's grade is computed over the runs on one tag (the newest run's), counting only runs
that reached a verdict for the stage (passed, failed or error; skipped and unknown are no
evidence):

- **passing**: every attempt passed;
- **flaky**: passed and failed on the same tag (``k of n`` failed);
- **deterministic**: failed on every attempt, at least two of them, alone (isolation) *and* in
  the sweep;
- **not enough evidence**: failed on every attempt, but on one attempt only, or only in one
  kind of run (the note says which kind is missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .model import BAD, STAGES, VERDICTS, RunSummary, iso_time


@dataclass
class Grade:
    """One stage's verdict graded by evidence, with the attempts it was computed from."""

    stage: str
    grade: str
    tag: str
    attempts: list[tuple[RunSummary, str]]
    """(run, the stage's verdict in it), newest first."""
    note: str = ""

    @property
    def failed(self) -> int:
        """How many attempts failed."""
        return sum(1 for _, verdict in self.attempts if verdict in BAD)

    @property
    def text(self) -> str:
        """One line: ``flaky (2 of 5 failed on 0.8.1+3.5.0)``."""
        count = f"{self.failed} of {len(self.attempts)} failed on {self.tag or 'unknown tag'}"
        return f"{self.grade} ({count}{'; ' + self.note if self.note else ''})"

    def to_json(self) -> dict[str, Any]:
        """The verdict as ``runs --json`` gives it."""
        return {
            "grade": self.grade,
            "attempts": [
                {
                    "run_id": run.run_id,
                    "kind": run.kind,
                    "tag": run.tag,
                    "finished": iso_time(run.finished),
                    "verdict": verdict,
                }
                for run, verdict in self.attempts
            ],
        }


def grade_stage(runs: list[RunSummary], stage: str, tag: str) -> Grade | None:
    """Grade ``stage`` over ``runs`` on ``tag`` (None when no run there has a verdict for it)."""
    attempts = [
        (run, run.stages[stage])
        for run in runs
        if run.tag == tag and run.stages.get(stage) in VERDICTS
    ]
    if not attempts:
        return None
    failed = [run for run, verdict in attempts if verdict in BAD]
    if not failed:
        return Grade(stage, "passing", tag, attempts)
    if len(failed) < len(attempts):
        return Grade(stage, "flaky", tag, attempts)
    kinds = {run.kind for run in failed}
    if len(attempts) == 1:
        return Grade(stage, "not enough evidence", tag, attempts, "one attempt")
    if kinds != {"sweep", "isolation"}:
        missing = "isolation" if "isolation" not in kinds else "sweep"
        return Grade(stage, "not enough evidence", tag, attempts, f"no {missing} run yet")
    return Grade(stage, "deterministic", tag, attempts)


def grades(runs: list[RunSummary]) -> dict[str, Grade]:
    """Every stage's grade over the runs on the newest run's tag (stages in harness order)."""
    tag = next((run.tag for run in runs if run.tag), "")
    names = [s for s in STAGES if any(s in run.stages for run in runs)]
    names += sorted({s for run in runs for s in run.stages} - set(names))
    found = {stage: grade_stage(runs, stage, tag) for stage in names}
    return {stage: grade for stage, grade in found.items() if grade is not None}


@dataclass
class FailingSince:
    """The first red run after the last green one, and what changed there."""

    run: RunSummary
    last_green: RunSummary | None
    stage: str = ""
    """The stage this is about ("" for the whole recipe)."""

    @property
    def changed(self) -> list[str]:
        """What differs from the last green run: ``tag``, ``canonical`` (known values only)."""
        if self.last_green is None:
            return []
        return [
            key
            for key in ("tag", "canonical")
            if getattr(self.run, key)
            and getattr(self.last_green, key)
            and getattr(self.run, key) != getattr(self.last_green, key)
        ]

    @property
    def text(self) -> str:
        """One line: ``failing since sweep-… (2026-06-17T03:19Z, tag 0.8.1+3.5.0; was 0.8.0)``."""
        when = self.run.finished.strftime("%Y-%m-%dT%H:%MZ") if self.run.finished else "?"
        words = [f"tag {self.run.tag or '?'}"]
        green = self.last_green
        if green is None:
            words.append("no green run in the ledger")
        else:
            for key in self.changed:
                words.append(f"{key} was {getattr(green, key)}")
            if not self.changed:
                words.append("tag and canonical unchanged")
        return f"failing since {self.run.kind} {self.run.run_id} ({when}; {', '.join(words)})"

    def to_json(self) -> dict[str, Any]:
        """As ``runs --json`` gives it."""
        green = self.last_green
        return {
            "run_id": self.run.run_id,
            "kind": self.run.kind,
            "finished": iso_time(self.run.finished),
            "tag": self.run.tag,
            "canonical": self.run.canonical or None,
            "last_green": None
            if green is None
            else {
                "run_id": green.run_id,
                "kind": green.kind,
                "finished": iso_time(green.finished),
                "tag": green.tag,
                "canonical": green.canonical or None,
            },
            "changed": self.changed,
        }


def failing_since(runs: list[RunSummary], stage: str = "") -> FailingSince | None:
    """The first red run after the newest green one (None when the newest run is green or
    there is no red run). ``stage`` narrows red/green to that stage's verdict."""

    def red(run: RunSummary) -> bool | None:
        if not stage:
            return True if run.red else False if run.green else None
        verdict = run.stages.get(stage)
        return None if verdict not in VERDICTS else verdict in BAD

    first_red: RunSummary | None = None
    for run in runs:  # newest first
        state = red(run)
        if state is None:
            continue
        if not state:
            return FailingSince(first_red, run, stage) if first_red is not None else None
        first_red = run
    return FailingSince(first_red, None, stage) if first_red is not None else None
