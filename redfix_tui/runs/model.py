"""The model of a run: the harness's stages, the status words, a canonical, a run's summary.

Data only; the parsers that build these from the node's files are in :mod:`.results`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STAGES = ("install", "upgrade", "backup", "restore", "custom")
"""The harness's stage order."""


_STATUS_WORDS = {
    "pass": "passed",
    "passed": "passed",
    "ok": "passed",
    "success": "passed",
    "green": "passed",
    "fail": "failed",
    "failed": "failed",
    "failure": "failed",
    "red": "failed",
    "error": "error",
    "errored": "error",
    "skip": "skipped",
    "skipped": "skipped",
    "running": "running",
}


def normalise_status(value: Any) -> str:
    """Map a stage/test status word to passed/failed/error/skipped/running/unknown."""
    return _STATUS_WORDS.get(str(value).strip().lower(), "unknown")


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
    """Stage name → normalised status, in the order results.json lists them."""
    stage_ms: dict[str, int] = field(default_factory=dict)
    """Stage name → total duration in milliseconds (sum of its tests)."""
    flags: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    problems: list[str] = field(default_factory=list)
    """What in its results.json was wrong (and ignored), each as one line."""

    @property
    def verdict(self) -> str:
        """failed if any stage failed or errored, passed if all passed, else unknown."""
        values = set(self.stages.values())
        if values & {"failed", "error"}:
            return "failed"
        return "passed" if values and values <= {"passed", "skipped"} else "unknown"
