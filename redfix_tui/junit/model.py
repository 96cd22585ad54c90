"""The JUnit model: cases, suites, files and runs, as plain dataclasses (no Textual).

A :class:`Run` is every JUnit file of one CI run plus its ``results.json``; a :class:`JUnitFile`
holds its suites or, when it could not be read, a one-line ``error``. Cases are kept failures
first; passing cases may be held as raw rows until first read (see :class:`Suite`). Statuses and
counts live in :mod:`redfix_tui.junit.status`, cases in :mod:`redfix_tui.junit.case`; their names
are re-exported here. Loading lives in :mod:`redfix_tui.junit.load`.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ..runs.model import BAD, STAGES, Status
from .case import Case, Outcome, PassedRow, made_cases, parse_time
from .status import STATUS_RANK, Counts

__all__ = [
    "BAD",
    "STAGE_ORDER",
    "STATUS_RANK",
    "UNKNOWN_STAGE",
    "Case",
    "Counts",
    "JUnitFile",
    "Outcome",
    "PassedRow",
    "Run",
    "Status",
    "Suite",
    "parse_time",
    "split_junit_name",
    "stage_sort_key",
]

STAGE_ORDER = STAGES
"""The canonical order of the harness stages (:data:`redfix_tui.runs.model.STAGES`, the one
definition); other stages follow alphabetically."""

UNKNOWN_STAGE = "unknown"


def stage_sort_key(stage: str) -> tuple[int, str]:
    """Order stages canonically, then others by name, with ``unknown`` last."""
    if stage in STAGE_ORDER:
        return (STAGE_ORDER.index(stage), "")
    return (len(STAGE_ORDER) + (1 if stage == UNKNOWN_STAGE else 0), stage)


_MAKING = threading.Lock()
"""Held while a suite makes its rows into cases (loaded in a worker, read in the UI thread)."""


@dataclass(slots=True)
class Suite:
    """A ``<testsuite>``: its cases (failures first), nested suites and counts.

    Cases are held as ``notable`` (did not simply pass) and ``passed``, where the loader may put
    :data:`PassedRow` tuples: a big file is mostly passing cases in suites nobody opens, so they
    become :class:`Case` objects the first time :attr:`cases` is read.
    """

    name: str
    suites: list[Suite] = field(default_factory=list)
    time: float | None = None
    stdout: str = ""
    counts: Counts = field(default_factory=Counts)
    notable: list[Case] = field(default_factory=list)
    """Cases that did not simply pass: failures first once finished, else document order."""
    passed: list[Case | PassedRow] = field(default_factory=list, repr=False)
    """Passing cases in document order (rows until :attr:`cases` is first read)."""
    _cases: list[Case] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def cases(self) -> list[Case]:
        """Every case of this suite (not nested ones): failures first, then passes in order."""
        cases = self._cases
        if cases is None:
            with _MAKING:  # a worker and the UI thread must see the same Case objects
                cases = self._cases
                if cases is None:
                    made = made_cases(self.passed)
                    self.passed = made  # type: ignore[assignment]  # the rows, made cases
                    cases = self._cases = self.notable + made
        return cases

    def add(self, case: Case) -> None:
        """Add a case read from the file (document order)."""
        (self.passed if case.status is Status.PASSED else self.notable).append(case)
        self._cases = None

    def iter_cases(self) -> Iterator[Case]:
        """Every case in this suite and its nested suites, depth first."""
        yield from self.cases
        for suite in self.suites:
            yield from suite.iter_cases()

    def finish(self) -> None:
        """Sort failures first and compute counts (nested suites included)."""
        counts = Counts()
        notable = self.notable
        if notable:
            notable.sort(key=lambda case: STATUS_RANK[case.status])
            for case in notable:
                counts.add(case.status)
        counts.passed = len(self.passed)
        counts.total = len(notable) + len(self.passed)
        self._cases = None
        for suite in self.suites:
            suite.finish()
            counts.merge(suite.counts)
        self.suites.sort(key=lambda suite: 0 if suite.counts.bad else 1)
        self.counts = counts


_NAME_PARTS = re.compile(r"^(?P<stage>[^_]+(?:_[^_]+)*?)__(?P<source>.+?)__(?P<test>.+)$")


def split_junit_name(path: str) -> tuple[str, str, str]:
    """Split ``<stage>__<source>__<test file>.xml`` into its parts; stage is "" if not named so."""
    base = PurePosixPath(path.replace(os.sep, "/")).name
    stem = base[:-4] if base.lower().endswith(".xml") else base
    match = _NAME_PARTS.match(stem)
    if not match:
        return "", "", stem
    return match.group("stage"), match.group("source"), match.group("test")


@dataclass(slots=True)
class JUnitFile:
    """One JUnit XML file: its suites, or the reason it could not be read."""

    path: str
    stage: str = UNKNOWN_STAGE
    source: str = ""
    test_file: str = ""
    error: str | None = None
    """One-line reason when the file could not be read; ``None`` when it was."""
    truncated: bool = False
    """The file looked cut short (still being written): re-read it when it grows."""
    size: int = 0
    mtime: float | None = None
    suites: list[Suite] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    data: bytes | None = field(default=None, repr=False)
    """The content, for files loaded from bytes (read again for passing cases' output)."""

    @property
    def name(self) -> str:
        """The file's base name."""
        return PurePosixPath(self.path.replace(os.sep, "/")).name

    def iter_cases(self) -> Iterator[Case]:
        """Every case of the file, depth first."""
        for suite in self.suites:
            yield from suite.iter_cases()

    def finish(self) -> None:
        """Sort and count every suite, failing suites first."""
        counts = Counts()
        for suite in self.suites:
            suite.finish()
            counts.merge(suite.counts)
        self.suites.sort(key=lambda suite: 0 if suite.counts.bad else 1)
        self.counts = counts


@dataclass(slots=True)
class Run:
    """All JUnit files of one run, with ``results.json`` when present."""

    run_id: str
    recipe: str = ""
    files: list[JUnitFile] = field(default_factory=list)
    results: dict[str, Any] | None = None
    """The parsed ``results.json`` (schema 2), if any."""
    results_error: str | None = None
    """One-line reason when ``results.json`` existed but could not be read."""
    directory: str | None = None
    """The local run directory the run was loaded from, if any."""

    @property
    def stages(self) -> list[str]:
        """Stages with files or results, canonical order first."""
        names = {jf.stage for jf in self.files}
        for stage in (self.results or {}).get("stages") or []:
            if isinstance(stage, dict) and isinstance(stage.get("name"), str):
                names.add(stage["name"])
        return sorted(names, key=stage_sort_key)

    def files_in(self, stage: str) -> list[JUnitFile]:
        """Files of ``stage``: unreadable first, then failing, then the rest."""
        files = [jf for jf in self.files if jf.stage == stage]
        return sorted(files, key=lambda jf: (jf.error is None, jf.counts.bad == 0))

    def stage_counts(self, stage: str) -> Counts:
        """Counts summed over the files of ``stage``."""
        counts = Counts()
        for jf in self.files:
            if jf.stage == stage:
                counts.merge(jf.counts)
        return counts

    def stage_status(self, stage: str) -> str:
        """The stage's status from ``results.json``, or "" when it does not say."""
        for entry in (self.results or {}).get("stages") or []:
            if isinstance(entry, dict) and entry.get("name") == stage:
                status = entry.get("status")
                return status if isinstance(status, str) else ""
        return ""

    @property
    def counts(self) -> Counts:
        """Counts over every readable file."""
        counts = Counts()
        for jf in self.files:
            counts.merge(jf.counts)
        return counts

    @property
    def unreadable(self) -> list[JUnitFile]:
        """Files that could not be read."""
        return [jf for jf in self.files if jf.error is not None]

    def iter_cases(self) -> Iterator[tuple[JUnitFile, Case]]:
        """Every ``(file, case)`` pair, stages in canonical order."""
        for stage in self.stages:
            for jf in self.files_in(stage):
                for case in jf.iter_cases():
                    yield jf, case
