"""Evidence: facts captured from a pane into a journal entry by one key press.

Each kind knows how to render itself as Markdown in the style of the reference journal's
"Evidence:" lines. The core defines them so widgets, the journal and the CLI share one shape.
Node text in them goes through :func:`~redfix_tui.safe_text.clean` (escapes made visible).

Log and JUnit evidence that knows where it came from carries a reference right after its
"Evidence:" line: one HTML comment (:mod:`redfix_tui.journal.citations`) naming the node, the
file, the run, the byte and line range and the sha256 of the excerpt, so the journal can lead
back to the lines later, and tell when the file no longer holds them. :func:`in_run` adds the
run a log or JUnit file belongs to (the recipe's rerun: its start time and archived copy).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from .config import ARCHIVE_TAIL
from .journal.citations import Citation
from .safe_text import clean

ARCHIVE_STAMP = "%Y%m%dT%H%M%SZ"
"""An archived run's directory name: its UTC start (as the rerun wrapper names it)."""


def _fence_for(text: str) -> str:
    """Return a backtick fence longer than any run of backticks inside ``text``."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


@dataclass(frozen=True)
class LogEvidence:
    """A range of log lines, with where they came from."""

    host: str
    path: str
    first_line: int
    """1-based number of the first line."""
    last_line: int
    """1-based number of the last line (inclusive)."""
    lines: tuple[str, ...]
    """The lines, already stripped of terminal escape sequences."""
    byte_range: tuple[int, int] | None = None
    """The excerpt's bytes in the file on the node, ``(A, B)``: A up to B excluded."""
    sha256: str = ""
    """Hex sha256 of those bytes."""
    lines_known: bool = True
    """False when ``first_line``/``last_line`` count from where the console started reading,
    not from the file's start (then the reference carries no line range)."""
    run: str = ""
    """The run id, when the log is a recipe's rerun log."""
    started: str = ""
    """The rerun's start time (ISO)."""
    archive: str = ""
    """The run's archived copy of the log, once archived."""

    def citation(self) -> Citation | None:
        """The reference to these lines, or None when their place in the file is unknown."""
        if self.byte_range is None or not self.sha256:
            return None
        return Citation(
            kind="log",
            node=self.host,
            path=self.path,
            run=self.run,
            started=self.started,
            archive=self.archive,
            byte_range=self.byte_range,
            line_range=(self.first_line, self.last_line) if self.lines_known else None,
            sha256=self.sha256,
        )

    def to_markdown(self) -> str:
        """Render as an "Evidence:" line, its reference, and a fenced block."""
        where = f"{self.host}:{self.path}" if self.host else self.path
        span = (
            f"line {self.first_line}"
            if self.first_line == self.last_line
            else f"lines {self.first_line}–{self.last_line}"
        )
        body = "\n".join(self.lines)
        fence = _fence_for(body)
        body = clean(body, newlines=True)
        citation = self.citation()
        reference = f"{citation.to_comment()}\n" if citation is not None else ""
        return f"Evidence: `{clean(where)}` {span}:\n{reference}\n{fence}\n{body}\n{fence}\n"


@dataclass(frozen=True)
class JUnitEvidence:
    """A failing (or otherwise notable) JUnit test case."""

    test_id: str
    """For pytest, ``tests/<recipe>/test_x.py::test_name``."""
    stage: str
    status: str
    message: str
    junit_path: str
    node: str = ""
    """The node the file was read on."""
    run: str = ""
    """The run id (``manual`` for an isolation rerun)."""
    recipe: str = ""
    """The recipe the run is of."""
    started: str = ""
    """The rerun's start time (ISO), for an isolation rerun this console knows."""
    archive: str = ""
    """The archived copy of the JUnit file, once the run was archived."""

    def citation(self) -> Citation | None:
        """The reference to the file and run, or None when neither node nor run is known."""
        if not (self.node or self.run) or not self.junit_path.startswith(("/", "~/")):
            return None
        return Citation(
            kind="junit",
            node=self.node,
            path=self.junit_path,
            run=self.run,
            started=self.started,
            archive=self.archive,
            case=self.test_id,
        )

    def to_markdown(self) -> str:
        """Render as a list item naming the test, its stage, message and JUnit file (and the
        reference to file and run)."""
        message = " ".join(clean(self.message, newlines=True).split())
        if len(message) > 300:
            message = message[:299] + "…"
        text = f"- `{clean(self.test_id)}` ({clean(self.stage)}, {clean(self.status)})"
        if message:
            text += f" → `{message}`" if "`" not in message else f" → {message}"
        citation = self.citation()
        reference = f"{citation.to_comment()}\n" if citation is not None else ""
        return text + f"\n\nEvidence: junit `{clean(self.junit_path)}`.\n{reference}"


@dataclass(frozen=True)
class RecipeEvidence:
    """A recipe's identity at the time of writing."""

    recipe: str
    tag: str
    canonical_version: str
    canonical_ts: str = ""

    def to_markdown(self) -> str:
        """Render as one sentence naming recipe, tag and canonical version."""
        canonical = f"`{clean(self.canonical_version)}`" if self.canonical_version else "none"
        when = f", written {self.canonical_ts}" if self.canonical_ts else ""
        tag = f"`{clean(self.tag)}`" if self.tag else "unknown"
        return f"Recipe **{self.recipe}**: latest tag {tag}, canonical {canonical}{when}.\n"


Evidence = LogEvidence | JUnitEvidence | RecipeEvidence
"""Anything that can be captured into a journal entry."""


class RerunRecord(Protocol):
    """What :func:`in_run` needs of a rerun's state (``RerunState`` has it)."""

    @property
    def recipe(self) -> str:
        """The recipe rerun."""
        ...

    @property
    def log(self) -> str:
        """The rerun log's path on the node."""
        ...

    @property
    def started(self) -> str:
        """The start time (ISO)."""
        ...

    @property
    def start_epoch(self) -> int | None:
        """The node's clock at the start (it names the archive directory)."""
        ...


def archive_dir(archive: str, state: RerunRecord) -> str:
    """Where the rerun wrapper archives ``state``'s run when it ends, from ``[paths] archive``
    (a template ending in ``/{recipe}/{start}``); "" when unknown. For a run still going it is
    where the copy will be: reading it back falls back to the log while it is not there."""
    if state.start_epoch is None or not archive.endswith(ARCHIVE_TAIL):
        return ""
    stamp = datetime.fromtimestamp(state.start_epoch, UTC).strftime(ARCHIVE_STAMP)
    return f"{archive.rstrip('/')[: -len(ARCHIVE_TAIL)]}/{state.recipe}/{stamp}"


def in_run(
    evidence: Evidence,
    *,
    node: str,
    reruns: Iterable[RerunRecord],
    run_id: str,
    archive: str,
) -> Evidence:
    """``evidence`` with the run it belongs to: a log that is a recipe's rerun log gets the
    run id, the rerun's start time and the archived copy of the log (made when it ends); a JUnit
    file of the isolation run (``run_id``) gets the rerun's start time and its archived copy.
    ``node`` fills an empty node label; ``archive`` is the ``[paths] archive`` template."""
    states = list(reruns)
    if isinstance(evidence, LogEvidence):
        state = next((s for s in states if s.log == evidence.path), None)
        if state is None:
            return evidence
        where = archive_dir(archive, state)
        return replace(
            evidence,
            host=evidence.host or node,
            run=run_id,
            started=state.started,
            archive=f"{where}/log" if where else "",
        )
    if isinstance(evidence, JUnitEvidence):
        evidence = replace(evidence, node=evidence.node or node)
        state = next((s for s in states if s.recipe == evidence.recipe), None)
        if state is None or evidence.run != run_id:
            return evidence
        where = archive_dir(archive, state)
        name = evidence.junit_path.rsplit("/", 1)[-1]
        return replace(
            evidence,
            started=state.started,
            archive=f"{where}/junit/{name}" if where and name else "",
        )
    return evidence
