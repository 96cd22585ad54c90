"""A rerun's progress and outcome: its current stage from the log's banners, verdicts from JUnit.

Parsers of what :class:`~redfix_tui.runs.control.RunControl` reads from the node while a rerun
is in flight and after it ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .model import STAGES, Status
from .state import RerunState

STAGE_BANNER = re.compile(r"==== stage: ([A-Za-z0-9_-]+) ====")
"""The harness's stage banner (the log line that opens a stage), ANSI removed."""
END_GRACE_S = 5
"""JUnit files this many seconds younger than a run's recorded end still count as its own."""
_SUITE_TAG = re.compile(r"<testsuite\s[^>]*>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def junit_stage(file_name: str) -> str:
    """The stage of a cc-ci JUnit file: ``upgrade__cc-ci__test_upgrade.xml`` → ``upgrade``."""
    return file_name.split("__", 1)[0].removesuffix(".xml")


def verdict_from_suites(tags: list[str]) -> Status:
    """A stage verdict from its JUnit ``<testsuite …>`` opening tags (failed/error/passed)."""
    failures = errors = tests = skipped = 0
    for tag in tags:
        attrs = dict(_ATTR.findall(tag))
        try:
            failures += int(attrs.get("failures", 0))
            errors += int(attrs.get("errors", 0))
            tests += int(attrs.get("tests", 0))
            skipped += int(attrs.get("skipped", 0))
        except ValueError:
            return Status.UNKNOWN
    if not tags:
        return Status.UNKNOWN
    if failures:
        return Status.FAILED
    if errors:
        return Status.ERROR
    return Status.SKIPPED if tests and skipped >= tests else Status.PASSED


@dataclass
class RunProgress:
    """Where a rerun in flight is: its stage, how long it has been there, finished stages."""

    stage: str | None = None
    """The stage whose banner was printed last (None before the first banner)."""
    stage_elapsed_s: int = 0
    """Seconds since the stage began (since the previous stage's JUnit file, or the start)."""
    run_elapsed_s: int = 0
    done: dict[str, str] = field(default_factory=dict)
    """Stage → verdict (a :class:`~.model.Status`), for stages whose JUnit file this run wrote."""


def parse_progress(
    output: str, start_epoch: int | None, end_epoch: int | None = None
) -> RunProgress:
    """Parse the output of :meth:`RunControl.progress`'s command.

    Lines: ``now <epoch>``, ``banner <stage>``, then per JUnit file ``junit <mtime> <name>``
    followed by its ``<testsuite …>`` tags. Files older than the run's start are ignored (they
    belong to the previous run, not yet cleared), and so are files written after the run's end
    (``end_epoch``: a later run's), with a few seconds' grace.
    """
    now = start = start_epoch or 0
    stage: str | None = None
    junit: dict[str, tuple[int, list[str]]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        key, _, rest = line.partition(" ")
        if key == "now" and rest.strip().isdigit():
            now = int(rest)
        elif key == "banner":
            if match := STAGE_BANNER.search(rest):
                stage = match.group(1)
        elif key == "junit":
            mtime, _, name = rest.partition(" ")
            current = None
            if (
                mtime.isdigit()
                and (start_epoch is None or int(mtime) >= start_epoch)
                and (end_epoch is None or int(mtime) <= end_epoch + END_GRACE_S)
            ):
                current = []
                junit[junit_stage(name)] = (int(mtime), current)
        elif current is not None and line.startswith("<testsuite"):
            current.append(line)
    progress = RunProgress(stage=stage, run_elapsed_s=max(0, now - start) if start else 0)
    progress.done = {name: verdict_from_suites(tags) for name, (_, tags) in junit.items()}
    began = start
    if stage is not None:
        order = list(STAGES)
        before = order[: order.index(stage)] if stage in order else []
        stamps = [junit[s][0] for s in before if s in junit]
        if stamps:
            began = max(stamps)
        if stage in progress.done:
            progress.stage = None  # its JUnit file is written: between stages
    progress.stage_elapsed_s = max(0, now - began) if began else 0
    return progress


@dataclass
class RunOutcome:
    """How a finished rerun ended: exit status, per-stage verdicts, teardown."""

    state: RerunState
    stages: dict[str, str] = field(default_factory=dict)
    """Stage → verdict (a :class:`~.model.Status`), in harness order."""
    source: str = ""
    """``results.json``, ``junit`` or ``""`` (nothing readable)."""
    teardown_clean: bool | None = None
    """True/False from the teardown check; None when the check could not be made."""
    problems: list[str] = field(default_factory=list)
    """Parts of the outcome that could not be read, one line each (the rest still counts)."""

    def stage_line(self) -> str:
        """``install ✔ upgrade ✘ backup ✔ restore ✔ custom ✔`` (stages not run are left out)."""
        return " ".join(f"{name} {VERDICT_MARKS.get(v, '?')}" for name, v in self.stages.items())

    def summary(self) -> str:
        """One line for a notification or the tracker's result."""
        parts = [self.stage_line() or "no stage verdicts"]
        if self.state.terminated:
            parts.append("— terminated")
        elif self.state.exit_status not in (0, None):
            parts.append(f"— exit {self.state.exit_status}")
        return " ".join(parts)


VERDICT_MARKS: dict[str, str] = {
    Status.PASSED: "✔",
    Status.FAILED: "✘",
    Status.ERROR: "!",
    Status.SKIPPED: "⊘",
    Status.UNKNOWN: "?",
}
"""Stage verdict marks for text (tracker result, notifications)."""
