"""The model of a run: the harness's stages, the statuses, a canonical, a run's summary.

Data only; the parsers that build these from the node's files are in :mod:`.results`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

STAGES = ("install", "upgrade", "backup", "restore", "custom")
"""The harness's stage order."""


class Status(StrEnum):
    """What a test case or a stage ended as: the one status vocabulary of the console.

    A :class:`~enum.StrEnum`: each member equals its word (``Status.FAILED == "failed"``) and is
    written as the word by ``json`` and ``tomli_w``, so files and ``--json`` output read as before.
    """

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    XFAIL = "xfail"
    """A test case expected to fail (JUnit only)."""
    FLAKY = "flaky"
    """A test case that failed and then passed on a retry (JUnit only)."""
    RUNNING = "running"
    """A stage the harness is in (results.json of a run in flight, the board's progress)."""
    UNKNOWN = "unknown"
    """No verdict: a stage not reached, or a status word nobody knows."""


BAD = frozenset({Status.FAILED, Status.ERROR})
"""Statuses that make a stage, a run or a case red."""
GOOD = frozenset({Status.PASSED, Status.SKIPPED})
"""Statuses a stage may have in a green run (every stage passed or was skipped)."""
VERDICTS = frozenset({Status.PASSED, Status.FAILED, Status.ERROR})
"""Statuses that are evidence about a stage (skipped, running and unknown are not)."""

_STATUS_WORDS = {
    "pass": Status.PASSED,
    "passed": Status.PASSED,
    "ok": Status.PASSED,
    "success": Status.PASSED,
    "green": Status.PASSED,
    "fail": Status.FAILED,
    "failed": Status.FAILED,
    "failure": Status.FAILED,
    "red": Status.FAILED,
    "error": Status.ERROR,
    "errored": Status.ERROR,
    "skip": Status.SKIPPED,
    "skipped": Status.SKIPPED,
    "running": Status.RUNNING,
}


def normalise_status(value: Any) -> Status:
    """Map a stage/test status word from the node to a :class:`Status` (``UNKNOWN`` if unknown)."""
    return _STATUS_WORDS.get(str(value).strip().lower(), Status.UNKNOWN)


@dataclass(frozen=True)
class Canonical:
    """A recipe's canonical state: the last version that went green cold on latest."""

    version: str
    commit: str = ""
    status: str = ""
    ts: datetime | None = None


@dataclass
class RunSummary:
    """One run of one recipe: the one record of a run in the console.

    What its results.json says (stage verdicts and durations, the tag it tested, when it
    finished) and, where the reader knows it, how it ran: its kind, the harness's exit status,
    the canonical version of the time and who started it (an archived isolation run's run.json).
    The board holds the last sweep and isolation run of each recipe, the run ledger every run
    (newest first); the grades, the tracker and ``runs --json`` read the same records.
    """

    run_id: str
    recipe: str
    tag: str = ""
    """The recipe version the run tested (results.json's ``version``, run.json's ``tag``)."""
    finished: datetime | None = None
    stages: dict[str, str] = field(default_factory=dict)
    """Stage name → its :class:`Status`, in the order results.json lists them (typed ``str``,
    which a Status is, so views may take any stage map of plain words)."""
    kind: str = ""
    """``sweep`` or ``isolation`` ("" when the reader could not tell)."""
    exit_status: int | None = None
    """The harness's exit status (archived isolation runs; None when not known)."""
    canonical: str = ""
    """The canonical version at the time ("" when not known)."""
    user: str = ""
    """Who started it (archived isolation runs)."""
    stage_ms: dict[str, int] = field(default_factory=dict)
    """Stage name → total duration in milliseconds (sum of its tests)."""
    flags: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    """Its directory on the node."""
    problems: list[str] = field(default_factory=list)
    """What in its files was wrong (and ignored), each as one line."""

    @property
    def verdict(self) -> Status:
        """FAILED if any stage failed or errored, PASSED if all passed (or were skipped), else
        UNKNOWN (the stages alone; see :attr:`red` for the exit status too)."""
        values = set(self.stages.values())
        if values & BAD:
            return Status.FAILED
        return Status.PASSED if values and values <= GOOD else Status.UNKNOWN

    @property
    def red(self) -> bool:
        """True when a stage failed or errored, or the run exited non-zero."""
        return bool(set(self.stages.values()) & BAD) or bool(self.exit_status)

    @property
    def green(self) -> bool:
        """True when the run has stage verdicts, none red, and did not exit non-zero."""
        return bool(set(self.stages.values()) & VERDICTS) and not self.red

    def to_json(self) -> dict[str, Any]:
        """The run as ``runs --json`` lists it: run_id, kind, tag, finished, exit_status, stages."""
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "tag": self.tag,
            "finished": iso_time(self.finished),
            "exit_status": self.exit_status,
            "stages": {s: v for s, v in self.stages.items() if v != Status.UNKNOWN},
        }


def iso_time(when: datetime | None) -> str | None:
    """``2026-06-17T03:19:00Z`` for JSON output (None stays None)."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when is not None else None
