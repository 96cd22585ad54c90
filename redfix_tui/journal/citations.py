"""Evidence references: where an excerpt in a journal entry came from, in one HTML comment.

An excerpt of a log put into the journal (``e`` in the log) is followed by one line a Markdown
reader ignores::

    <!-- redfix-evidence kind=log node=cc-ci path=/tmp/redfix-gitea.log run=manual
         started=2026-06-18T00:05:00+00:00 bytes=1200-1890 lines=120-131 sha256=… -->

(on one line): the node, the file, the run (its id and the rerun's start time, when the log is
a recipe's rerun log), the archived copy of the log when the run was archived, the byte range of
the excerpt in the file (``A-B``: bytes A up to B excluded, the last line's newline not
included), its line range (1-based, inclusive; absent when unknown) and the sha256 of those
bytes. A JUnit excerpt records ``kind=junit`` with the node, the JUnit file, the run and the case.

Every value is first made printable (:func:`~redfix_tui.safe_text.clean`: escapes and control
characters become visible marks), then percent-encoded (anything but letters, digits and
``/:@+,._~-``), so no value can hold a space, ``<``, ``>`` or a newline: a value cannot close
the comment (``-->``), add a field or start another reference. :func:`parse_citations` reads
references only on lines of their own outside fenced code blocks, so a cited log line that
*looks* like a reference stays text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from redfix_tui.journal.headings import FENCE_RE, closes_fence, strip_eol
from redfix_tui.safe_text import clean

MARKER = "redfix-evidence"
"""The word that starts a reference inside its comment."""
KINDS = ("log", "junit")
"""The kinds of evidence a reference can name."""
_SAFE = "/:@+,._~-"
_LINE_RE = re.compile(r"^<!-- redfix-evidence((?: [a-z0-9_]+=[^\s<>]*)*) -->\s*$")
_FIELD_RE = re.compile(r"^([a-z0-9_]+)=([^\s<>]*)$")
_RANGE_RE = re.compile(r"^(\d{1,15})-(\d{1,15})$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_MAX_VALUE = 4096


def encode(value: str) -> str:
    """``value`` percent-encoded for a reference (see the module docstring)."""
    return quote(value, safe=_SAFE)


def _printable(value: str) -> bool:
    return not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value)


def _range(value: str) -> tuple[int, int] | None:
    match = _RANGE_RE.fullmatch(value)
    if match is None:
        return None
    first, last = int(match[1]), int(match[2])
    return (first, last) if first <= last else None


@dataclass(frozen=True)
class Citation:
    """One evidence reference: what an excerpt cites (see the module docstring)."""

    kind: str
    """``log`` or ``junit``."""
    node: str
    """The node's label (``cc-ci``, ``host:port``)."""
    path: str
    """The file on the node (absolute, or ``~/`` for the SSH user's home)."""
    run: str = ""
    """The run id (``manual`` for an isolation rerun), when known."""
    started: str = ""
    """The rerun's start time (ISO), when the log is a recipe's rerun log."""
    archive: str = ""
    """The archived copy of the log, once the run was archived (same bytes, same offsets)."""
    byte_range: tuple[int, int] | None = None
    """Bytes ``(A, B)`` of the file: A up to B excluded."""
    line_range: tuple[int, int] | None = None
    """Lines ``(first, last)`` of the file, 1-based and inclusive, when known."""
    sha256: str = ""
    """Hex sha256 of the excerpt's bytes (the byte range)."""
    case: str = ""
    """The test case (JUnit evidence)."""

    @property
    def where(self) -> str:
        """``node:path`` for messages."""
        return f"{self.node}:{self.path}" if self.node else self.path

    @property
    def span(self) -> str:
        """``lines 120–131`` (or the byte range when the lines are unknown)."""
        if self.line_range is not None:
            first, last = self.line_range
            return f"line {first}" if first == last else f"lines {first}–{last}"
        if self.byte_range is not None:
            return f"bytes {self.byte_range[0]}–{self.byte_range[1]}"
        return "the whole file"

    def to_comment(self) -> str:
        """The reference as one HTML comment line (no newline at its end)."""
        fields: list[tuple[str, str]] = [("kind", self.kind), ("node", self.node)]
        fields.append(("path", self.path))
        for key, value in (
            ("run", self.run),
            ("started", self.started),
            ("archive", self.archive),
            ("case", self.case),
        ):
            if value:
                fields.append((key, value))
        if self.byte_range is not None:
            fields.append(("bytes", f"{int(self.byte_range[0])}-{int(self.byte_range[1])}"))
        if self.line_range is not None:
            fields.append(("lines", f"{int(self.line_range[0])}-{int(self.line_range[1])}"))
        if self.sha256:
            fields.append(("sha256", self.sha256))
        text = " ".join(f"{key}={encode(clean(str(value)))}" for key, value in fields)
        return f"<!-- {MARKER} {text} -->"


def parse_reference(line: str) -> Citation | None:
    """The reference on ``line`` (a whole line), or None when it is not a valid one."""
    match = _LINE_RE.match(strip_eol(line))
    if match is None:
        return None
    values: dict[str, str] = {}
    for part in match[1].split():
        field = _FIELD_RE.match(part)
        if field is None or field[1] in values or len(field[2]) > _MAX_VALUE:
            return None
        try:
            values[field[1]] = unquote(field[2], errors="strict")
        except UnicodeDecodeError:  # not what encode() writes
            return None
    return _citation(values)


def _citation(values: dict[str, str]) -> Citation | None:
    """Check the fields of one reference; None when one is missing or malformed."""
    if not all(_printable(value) for value in values.values()):
        return None
    kind, node, path = values.get("kind", ""), values.get("node", ""), values.get("path", "")
    if kind not in KINDS or not path or not _usable_path(path):
        return None
    archive = values.get("archive", "")
    if archive and not _usable_path(archive):
        return None
    byte_range = _range(values["bytes"]) if "bytes" in values else None
    line_range = _range(values["lines"]) if "lines" in values else None
    sha = values.get("sha256", "")
    if ("bytes" in values and byte_range is None) or ("lines" in values and line_range is None):
        return None
    if sha and not _SHA_RE.fullmatch(sha):
        return None
    return Citation(
        kind=kind,
        node=node,
        path=path,
        run=values.get("run", ""),
        started=values.get("started", ""),
        archive=archive,
        byte_range=byte_range,
        line_range=line_range,
        sha256=sha,
        case=values.get("case", ""),
    )


def _usable_path(path: str) -> bool:
    """An absolute path or one under ``~/``, without ``..`` steps."""
    if not (path.startswith("/") or path.startswith("~/")):
        return False
    return ".." not in path.split("/")


def parse_citations(body: str) -> list[Citation]:
    """Every valid reference in ``body`` (an entry's Markdown), in order.

    Only lines of their own count, and none inside a fenced code block (a cited log line that
    reads like a reference is text of the excerpt, not a reference).
    """
    found: list[Citation] = []
    fence: str | None = None
    for line in body.split("\n"):
        bare = strip_eol(line)
        opening = FENCE_RE.match(bare)
        if fence is not None:
            if closes_fence(opening, fence, bare):
                fence = None
            continue
        if opening:
            fence = opening["fence"]
            continue
        citation = parse_reference(bare)
        if citation is not None:
            found.append(citation)
    return found
