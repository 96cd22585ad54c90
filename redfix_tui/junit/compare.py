"""Compare two runs of one recipe (e.g. the sweep run and the isolation rerun), stage by stage.

For every ``(stage, test id)`` present in either run the verdict is one of ``new failure``,
``fixed``, ``still failing``, ``flaky``, ``unchanged``, ``only in first`` / ``only in second``,
with the hint the redfix method calls for: failed under the sweep and passed alone points to
load; failed both ways is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .model import Case, Run, Status, stage_sort_key


class Verdict(StrEnum):
    """How a case changed from the first run to the second."""

    NEW_FAILURE = "new failure"
    FIXED = "fixed"
    STILL_FAILING = "still failing"
    FLAKY = "flaky"
    UNCHANGED = "unchanged"
    ONLY_FIRST = "only in first"
    ONLY_SECOND = "only in second"


VERDICT_RANK = {verdict: rank for rank, verdict in enumerate(Verdict)}
"""Sort key: new failures first, unchanged and one-sided cases last."""


@dataclass(slots=True)
class CaseChange:
    """One case across the two runs."""

    stage: str
    test_id: str
    first: Case | None
    second: Case | None
    verdict: Verdict
    hint: str = ""
    """E.g. "points to load" or "deterministic"; "" when there is nothing to say."""


@dataclass(slots=True)
class StageComparison:
    """The changes of one stage, most alarming first."""

    stage: str
    changes: list[CaseChange] = field(default_factory=list)

    def count(self, verdict: Verdict) -> int:
        """How many cases of this stage got ``verdict``."""
        return sum(1 for change in self.changes if change.verdict is verdict)


@dataclass(slots=True)
class Comparison:
    """Two runs side by side."""

    first: Run
    second: Run
    first_label: str
    second_label: str
    stages: list[StageComparison] = field(default_factory=list)

    def interesting(self) -> list[CaseChange]:
        """Every change other than ``unchanged``, stages in canonical order."""
        return [
            change
            for stage in self.stages
            for change in stage.changes
            if change.verdict is not Verdict.UNCHANGED
        ]


def _index(run: Run) -> dict[tuple[str, str], Case]:
    """Cases by ``(stage, test id)``; a repeated id keeps its worst outcome."""
    cases: dict[tuple[str, str], Case] = {}
    for jf, case in run.iter_cases():
        key = (jf.stage, case.test_id or case.name)
        if key not in cases or (case.bad and not cases[key].bad):
            cases[key] = case
    return cases


def classify(
    first: Case | None, second: Case | None, first_label: str, second_label: str
) -> tuple[Verdict, str]:
    """The verdict and hint for one case seen in two runs."""
    if first is None:
        return Verdict.ONLY_SECOND, f"failed {second_label}" if second and second.bad else ""
    if second is None:
        return Verdict.ONLY_FIRST, f"failed {first_label}" if first.bad else ""
    if first.status is Status.FLAKY or second.status is Status.FLAKY:
        return Verdict.FLAKY, "passed on rerun: points to load or timing"
    if first.bad and second.bad:
        return Verdict.STILL_FAILING, f"failed {first_label} and {second_label}: deterministic"
    if first.bad:
        return Verdict.FIXED, f"failed {first_label}, passed {second_label}: points to load"
    if second.bad:
        return Verdict.NEW_FAILURE, f"passed {first_label}, failed {second_label}"
    return Verdict.UNCHANGED, ""


def compare_runs(
    first: Run, second: Run, *, first_label: str = "in sweep", second_label: str = "alone"
) -> Comparison:
    """Compare ``first`` (e.g. the sweep run) with ``second`` (e.g. the isolation rerun).

    The labels phrase the hints: with the defaults a case that failed in the sweep and passed
    alone reads "failed in sweep, passed alone: points to load".
    """
    a, b = _index(first), _index(second)
    by_stage: dict[str, StageComparison] = {}
    for key in list(a) + [k for k in b if k not in a]:
        stage, test_id = key
        verdict, hint = classify(a.get(key), b.get(key), first_label, second_label)
        by_stage.setdefault(stage, StageComparison(stage)).changes.append(
            CaseChange(stage, test_id, a.get(key), b.get(key), verdict, hint)
        )
    stages = sorted(by_stage.values(), key=lambda s: stage_sort_key(s.stage))
    for compared in stages:
        compared.changes.sort(key=lambda change: VERDICT_RANK[change.verdict])
    return Comparison(first, second, first_label, second_label, stages)
