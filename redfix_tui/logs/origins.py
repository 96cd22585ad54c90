"""Where a spool's bytes came from in the file on the node: byte offsets and line numbers.

A spool holds the bytes of a followed file, but not only them and not always from its start:
marker lines (rotation, a lost stream) are the console's own, a rotation starts the new file at
its byte 0, and a view of a cited excerpt starts in the middle of a file. Whoever appends file
bytes to a spool records their file offset with :func:`record` (the log tail does); a spool
that reads a local file in place is its own file. :func:`cite_lines` then turns lines of the
spool into a byte range, a line range and a sha256 of the file, and :func:`locate` finds a
cited byte range in a spool again.
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass

from redfix_tui.evidence import LogEvidence
from redfix_tui.logs.spool import LogSpool


@dataclass
class Segment:
    """A run of spool bytes that are consecutive bytes of the file."""

    spool_start: int
    file_start: int
    length: int
    first_line: int | None
    """1-based file line of the line holding the segment's first byte (None: unknown)."""

    @property
    def spool_end(self) -> int:
        """Spool offset just after the segment."""
        return self.spool_start + self.length

    @property
    def file_end(self) -> int:
        """File offset just after the segment."""
        return self.file_start + self.length


class FileOrigins:
    """The segments of one spool, in spool order (see the module docstring)."""

    def __init__(self) -> None:
        """No bytes recorded yet."""
        self.segments: list[Segment] = []

    def add(
        self, spool_offset: int, file_offset: int, length: int, first_line: int | None = None
    ) -> None:
        """Spool bytes ``spool_offset…+length`` are file bytes ``file_offset…+length``.

        ``first_line`` (1-based) is the file line where ``file_offset`` falls, when known; a
        segment starting at file offset 0 starts at line 1.
        """
        if length <= 0:
            return
        last = self.segments[-1] if self.segments else None
        if last is not None and last.spool_end == spool_offset and last.file_end == file_offset:
            last.length += length
            return
        if file_offset == 0:
            first_line = 1
        self.segments.append(Segment(spool_offset, file_offset, length, first_line))


_ORIGINS: weakref.WeakKeyDictionary[LogSpool, FileOrigins] = weakref.WeakKeyDictionary()


def origins_of(spool: LogSpool) -> FileOrigins:
    """The origins recorded for ``spool`` (an empty record the first time)."""
    found = _ORIGINS.get(spool)
    if found is None:
        found = _ORIGINS[spool] = FileOrigins()
    return found


def record(spool: LogSpool, file_offset: int, data: bytes, first_line: int | None = None) -> None:
    """Append ``data``, bytes of the file from ``file_offset`` on, to ``spool`` and record it."""
    origins_of(spool).add(spool.byte_count, file_offset, len(data), first_line)
    spool.append(data)


def _segments(spool: LogSpool) -> list[Segment]:
    if not spool.is_temporary:  # a local file read in place: spool offsets are file offsets
        return [Segment(0, 0, spool.byte_count, 1)]
    return origins_of(spool).segments


@dataclass(frozen=True)
class CitedRange:
    """Spool lines as a range of the file."""

    byte_range: tuple[int, int]
    """File bytes ``(A, B)``: A up to B excluded (the last line's newline not included)."""
    line_range: tuple[int, int] | None
    """File lines (1-based, inclusive), when the segment's first line is known."""
    sha256: str
    """Hex sha256 of the bytes."""


def _spool_bytes(spool: LogSpool, first: int, last: int) -> tuple[int, int]:
    """Spool byte range of lines ``first``…``last`` (0-based, inclusive), no final newline."""
    return spool.line_start(first), spool.span(last)[1]


def cite_lines(spool: LogSpool, first: int, last: int) -> CitedRange | None:
    """Spool lines ``first``…``last`` (0-based, inclusive) as a range of the file; None when
    they are not all bytes of one run of the file (a marker line, a rotation between them)."""
    start, end = _spool_bytes(spool, first, last)
    for segment in reversed(_segments(spool)):
        if segment.spool_start <= start and end <= segment.spool_end:
            break
    else:
        return None
    offset = segment.file_start + (start - segment.spool_start)
    line_range = None
    if segment.first_line is not None:
        base = spool.line_at_offset(segment.spool_start)
        line_range = (segment.first_line + first - base, segment.first_line + last - base)
    data = spool.read_range_bytes(start, end)
    digest = hashlib.sha256(data).hexdigest()
    return CitedRange((offset, offset + (end - start)), line_range, digest)


@dataclass(frozen=True)
class Located:
    """A cited byte range found in a spool."""

    first: int
    """0-based spool line of the range's first byte."""
    last: int
    """0-based spool line of its last byte."""
    matches: bool
    """True when the spool's bytes there still hash to the cited sha256."""


def locate(spool: LogSpool, byte_range: tuple[int, int], sha256: str) -> Located | None:
    """Find file bytes ``byte_range`` in ``spool``: the copy that still hashes to ``sha256``
    when there is one, else the newest; None when the spool does not hold them."""
    start, end = byte_range
    newest: Located | None = None
    for segment in reversed(_segments(spool)):
        if not (segment.file_start <= start and end <= segment.file_end):
            continue
        spool_start = segment.spool_start + (start - segment.file_start)
        spool_end = spool_start + (end - start)
        data = spool.read_range_bytes(spool_start, spool_end)
        matches = hashlib.sha256(data).hexdigest() == sha256
        last_byte = max(spool_start, spool_end - 1)
        found = Located(spool.line_at_offset(spool_start), spool.line_at_offset(last_byte), matches)
        if matches:
            return found
        newest = newest or found
    return newest


def log_evidence(
    spool: LogSpool, host: str, path: str, first: int, last: int, lines: list[str]
) -> LogEvidence:
    """Evidence of spool lines ``first``…``last`` (1-based, as shown): with their byte range,
    file line numbers and sha256 when the spool knows where they are in the file. A local file
    read in place (no ``host``) is named by its absolute path, so the reference can be opened
    again from anywhere."""
    if not host and not spool.is_temporary:
        path = str(spool.path.resolve())
    cited = cite_lines(spool, first - 1, last - 1)
    if cited is None:
        return LogEvidence(host, path, first, last, tuple(lines), lines_known=False)
    known = cited.line_range is not None
    if cited.line_range is not None:
        first, last = cited.line_range
    return LogEvidence(
        host,
        path,
        first,
        last,
        tuple(lines),
        byte_range=cited.byte_range,
        sha256=cited.sha256,
        lines_known=known,
    )
