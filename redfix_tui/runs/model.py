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
    """One run's results.json, reduced to what the board and the JUnit view need."""

    run_id: str
    recipe: str
    version: str = ""
    finished: datetime | None = None
    stages: dict[str, str] = field(default_factory=dict)
    """Stage name → its :class:`Status`, in the order results.json lists them (typed ``str``,
    which a Status is, so views may take any stage map of plain words)."""
    stage_ms: dict[str, int] = field(default_factory=dict)
    """Stage name → total duration in milliseconds (sum of its tests)."""
    flags: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    problems: list[str] = field(default_factory=list)
    """What in its results.json was wrong (and ignored), each as one line."""

    @property
    def verdict(self) -> Status:
        """FAILED if any stage failed or errored, PASSED if all passed (or were skipped), else
        UNKNOWN."""
        values = set(self.stages.values())
        if values & BAD:
            return Status.FAILED
        return Status.PASSED if values and values <= GOOD else Status.UNKNOWN
