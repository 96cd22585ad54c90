"""The M1 tracker: recipe → isolation run → result → root cause → classification.

Stored as TOML beside the journal (written atomically with tomli-w) and exported as the
Markdown table that goes into the phase's STATUS file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

import tomli_w

from .journal.errors import JournalError
from .journal.fileops import journal_lock
from .runs.ledger import RecipeLedger
from .runs.progress import VERDICT_MARKS
from .runs.results import parse_ts

CLASSIFICATIONS = (
    "flake under load",
    "recipe defect",
    "stale or wrong test",
    "harness or warm-machinery defect",
    "upstream defect",
    "unknown",
)
"""The classifications of the redfix method, in the order the board cycles through them."""

SHORT = {
    "flake under load": "load",
    "recipe defect": "recipe",
    "stale or wrong test": "test",
    "harness or warm-machinery defect": "harn.",
    "upstream defect": "upstrm",
    "unknown": "?",
}
"""Short forms for narrow boards."""


class TrackerError(Exception):
    """The tracker file could not be read or written; the message says which and why."""


@dataclass
class TrackerEntry:
    """One recipe's row of the M1 tracker."""

    recipe: str
    isolation_run: str = ""
    result: str = ""
    root_cause: str = ""
    classification: str = "unknown"
    stages: str = ""
    """The isolation run's per-stage verdicts, e.g. ``install ✔ upgrade ✘ …``."""
    run_key: str = ""
    """Which rerun the row records (recipe, start time, pid): a run is recorded once."""
    grade: str = ""
    """The evidence grade of the recipe's stages on its current tag (from the run ledger):
    ``passing``, or the red stages' grades such as ``restore deterministic (3 of 3 failed…)``."""


def _read(path: Path) -> dict[str, TrackerEntry] | None:
    """The rows of the tracker file ``path``; None when it does not exist."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TrackerError(f"{path}: cannot read the tracker ({exc})") from None
    known = {f.name for f in fields(TrackerEntry)}
    entries = {}
    for recipe, row in (data.get("recipe") or {}).items():
        if isinstance(row, dict):
            values = {k: str(v) for k, v in row.items() if k in known and k != "recipe"}
            entries[recipe] = TrackerEntry(recipe, **values)
    return entries


def grade_text(ledger: RecipeLedger) -> str:
    """The tracker's grade cell: the red stages' grades, ``passing``, or "" (no evidence)."""
    verdicts = ledger.verdicts
    red = [f"{stage} {grade.text}" for stage, grade in verdicts.items() if grade.failed]
    return "; ".join(red) if red else ("passing" if verdicts else "")


def ledger_key(run_id: str) -> str:
    """The row key :meth:`Tracker.record_ledger` writes for an archived isolation run
    (``archive 20260617T234340Z``). A console that wraps the run up (and tells the operator)
    keys the row ``archive STAMP pid N`` (see :func:`redfix_tui.runs.book.row_key`)."""
    return f"archive {run_id}"


def key_started(key: str) -> datetime | None:
    """When the run a row's key names started: ``archive STAMP`` and ``archive STAMP pid N``
    (an archived run, recorded from the ledger or by a console), ``RECIPE STARTED pid N`` (a
    rerun wrapped up by a console, not archived); None for any other key."""
    words = key.split(" ")
    if (len(words) == 2 and words[0] == "archive") or (len(words) == 4 and words[2] == "pid"):
        return parse_ts(words[1])
    return None


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|") or "—"


class Tracker:
    """The tracker file's rows, keyed by recipe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, TrackerEntry] = {}

    @classmethod
    def load(cls, path: Path) -> Tracker:
        """Read ``path`` (a missing file is an empty tracker)."""
        tracker = cls(path)
        tracker.entries = _read(path) or {}
        return tracker

    def reload(self) -> None:
        """Take the file's rows as they are now (another console may have written some).

        A missing file keeps the rows in memory (they are written again on the next save).
        """
        entries = _read(self.path)
        if entries is not None:
            self.entries = entries

    def holds(self, recipe: str, run_key: str) -> bool:
        """True when ``recipe``'s row records the rerun ``run_key``."""
        return self.get(recipe).run_key == run_key

    def record_run(self, recipe: str, run_key: str, **values: str) -> bool:
        """Record rerun ``run_key`` in ``recipe``'s row, once: False if the row already holds it.

        The file is re-read first, so a row written meanwhile by another console is kept.
        """
        with self._locked():
            self.reload()
            if self.holds(recipe, run_key):
                return False
            self._apply(recipe, {**values, "run_key": run_key})
            return True

    def record_ledger(self, ledger: RecipeLedger) -> bool:
        """Fill ``ledger``'s recipe row from its newest archived isolation run (isolation run,
        result, stages) and its grades, so runs that ended with no console open are recorded
        too. Once per run (key ``archive <run id>``); the grade is refreshed every time. A row
        that holds a rerun which started at the same time or later (its wrap-up by a console,
        say, when the run could not be archived) keeps it. Returns True when the row changed."""
        run = ledger.newest_isolation
        grade = grade_text(ledger)
        with self._locked():
            self.reload()
            entry = self.get(ledger.recipe)
            values: dict[str, str] = {}
            if grade != entry.grade:
                values["grade"] = grade
            key = ledger_key(run.run_id) if run is not None else ""
            held, started = key_started(entry.run_key), parse_ts(run.run_id) if run else None
            newer = held is None or started is None or started > held
            if run is not None and entry.run_key != key and newer:
                when = run.finished.strftime("%Y-%m-%dT%H:%MZ") if run.finished else run.run_id
                stages = " ".join(f"{s} {VERDICT_MARKS.get(v, '?')}" for s, v in run.stages.items())
                exit_text = "" if run.exit_status in (0, None) else f" — exit {run.exit_status}"
                values.update(
                    isolation_run=f"isolation {when} ({run.tag or '?'})",
                    result=(stages or "no stage verdicts") + exit_text,
                    stages=stages,
                    run_key=key,
                )
            if not values:
                return False
            self._apply(ledger.recipe, values)
            return True

    def get(self, recipe: str) -> TrackerEntry:
        """The row for ``recipe`` (a fresh one if it has none yet)."""
        return self.entries.get(recipe) or TrackerEntry(recipe)

    def update(self, recipe: str, **values: str) -> TrackerEntry:
        """Change fields of ``recipe``'s row and save the file atomically (re-read first)."""
        with self._locked():
            self.reload()
            return self._apply(recipe, values)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the tracker's cross-process lock (``.<name>.lock`` beside it) for one
        read-merge-write, so two consoles recording at the same moment both keep their rows."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with journal_lock(self.path, timeout=10.0, what="tracker"):
                yield
        except JournalError as exc:
            raise TrackerError(str(exc)) from None
        except OSError as exc:
            raise TrackerError(f"{self.path}: cannot lock the tracker ({exc.strerror})") from None

    def _apply(self, recipe: str, values: dict[str, str]) -> TrackerEntry:
        entry = self.get(recipe)
        for key, value in values.items():
            if key == "classification" and value not in CLASSIFICATIONS:
                raise TrackerError(f"unknown classification {value!r}")
            setattr(entry, key, value)
        self.entries[recipe] = entry
        self.save()
        return entry

    def save(self) -> None:
        """Write the tracker: temp file in the same directory, fsync, rename."""
        data = {
            "recipe": {
                name: {k: v for k, v in asdict(e).items() if k != "recipe"}
                for name, e in sorted(self.entries.items())
            }
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(tomli_w.dumps(data).encode())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except OSError as exc:
            raise TrackerError(f"{self.path}: cannot write the tracker ({exc.strerror})") from None

    def to_markdown(self, recipes: list[str] | None = None) -> str:
        """The STATUS table: Recipe | Isolation run | Result | Root cause | Classification; the
        result cell ends with the evidence grade when the ledger gave one (``— grade: …``)."""
        names = recipes if recipes is not None else sorted(self.entries)
        lines = [
            "| Recipe | Isolation run | Result | Root cause | Classification |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name in names:
            e = self.get(name)
            result = f"{e.result} — grade: {e.grade}" if e.grade else e.result
            lines.append(
                f"| {_cell(name)} | {_cell(e.isolation_run)} | {_cell(result)} | "
                f"{_cell(e.root_cause)} | {_cell(e.classification)} |"
            )
        return "\n".join(lines) + "\n"
