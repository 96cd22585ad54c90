"""Regex search and filtering over a whole :class:`~redfix_tui.logs.spool.LogSpool`.

Both are plain functions/objects that can run in a thread: they read the spool in blocks of
lines, report progress, and stop when a ``threading.Event`` is set. The pattern is a Python
regular expression matched against each line's raw text (escape sequences included), which is
what ``grep -n -E`` sees: for the common ERE subset the line numbers found are identical.

A line matches if the pattern matches somewhere inside that line alone. The spool is read in
blocks of whole lines of about ``BLOCK_BYTES``, each searched in one regex pass (compiled with
``re.MULTILINE``) so rare matches cost little; line numbers come from counting newlines up to
each hit, and a hit that runs across a line break is re-checked against its own line.

A block of pure ASCII is searched as bytes, without decoding, when the pattern means the same
on ASCII bytes as on ASCII text (:mod:`redfix_tui.logs.byteregex`; case-insensitive patterns
run case-sensitively over the lower-cased block, several times faster); any other block is
decoded (invalid UTF-8 becoming U+FFFD) and searched as text. Both give the same lines.
"""

from __future__ import annotations

import re
import threading
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import AnyStr

from redfix_tui.logs.ansi import decode
from redfix_tui.logs.byteregex import BytesSearch, bytes_search
from redfix_tui.logs.spool import LogSpool

BLOCK_BYTES = 8 << 20
"""About how many bytes are read and searched per step (whole lines; one step per block)."""


def compile_pattern(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """Compile ``pattern`` for line search; raise ``ValueError`` with a one-line reason if bad."""
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    try:
        return re.compile(pattern, flags)
    except re.error as error:
        raise ValueError(f"bad regular expression {pattern!r}: {error}") from None


def _match_lines(regex: re.Pattern[AnyStr], text: AnyStr, first_line: int) -> list[int]:
    """Return the numbers of lines in ``text`` (line ``first_line`` first) that match."""
    newline = "\n" if isinstance(text, str) else b"\n"
    found: list[int] = []
    search = regex.search
    count = text.count
    find = text.find
    size = len(text)
    pos = 0  # start of the line ``line`` within ``text``
    line = first_line
    while pos <= size:
        m = search(text, pos)
        if m is None:
            break
        hit = m.start()
        if hit > pos:
            skipped = count(newline, pos, hit)
            if skipped:
                line += skipped
                pos = text.rfind(newline, pos, hit) + 1
        end = find(newline, hit)
        if end < 0:
            end = size
        if hit == end and hit == size and hit > 0 and text[hit - 1 : hit] == newline:
            break  # an empty match after the final newline is not a line
        if m.end() <= end or search(text, pos, end) is not None:
            found.append(line)
        pos = end + 1
        line += 1
    return found


def _block_end(spool: LogSpool, first: int, total: int, block_bytes: int) -> int:
    """The line after the last of a block of about ``block_bytes`` starting at ``first``."""
    last = spool.line_at_offset(spool.line_start(first) + block_bytes)
    return min(total, max(first + 1, last))


def _search_block(
    spool: LogSpool,
    regex: re.Pattern[str],
    as_bytes: BytesSearch | None,
    first: int,
    last: int,
) -> list[int]:
    """Matching lines among ``[first, last)``: one read, one pass (bytes when possible)."""
    data = spool.read_range_bytes(spool.line_start(first), spool.span(last - 1)[1])
    if as_bytes is not None and data.isascii():
        if not as_bytes.may_match(data):
            return []
        return _match_lines(as_bytes.regex, as_bytes.subject(data), first)
    return _match_lines(regex, decode(data), first)


@dataclass
class SearchProgress:
    """One step of a search: lines scanned so far and the matches found in this step."""

    scanned: int
    """Lines ``[0, scanned)`` of the range have been searched."""
    total: int
    """Lines to search in all."""
    matches: list[int] = field(default_factory=list)
    """0-based numbers of matching lines found in this step, ascending."""


def search_spool(
    spool: LogSpool,
    regex: re.Pattern[str],
    *,
    start: int = 0,
    stop: int | None = None,
    cancel: threading.Event | None = None,
    block_bytes: int = BLOCK_BYTES,
    block_lines: int | None = None,
) -> Iterator[SearchProgress]:
    """Search lines ``[start, stop)`` (default: all lines now in the spool), block by block.

    A block is about ``block_bytes`` of whole lines (at least one), and at most ``block_lines``
    lines if given. Yields one :class:`SearchProgress` per block; stops early when ``cancel``
    is set.
    """
    total = spool.line_count if stop is None else min(stop, spool.line_count)
    as_bytes = bytes_search(regex)
    line = start
    while line < total:
        if cancel is not None and cancel.is_set():
            return
        last = _block_end(spool, line, total, block_bytes)
        if block_lines is not None:
            last = min(last, line + block_lines)
        matches = _search_block(spool, regex, as_bytes, line, last)
        line = last
        yield SearchProgress(line, total, matches)


def find_all(spool: LogSpool, pattern: str, *, ignore_case: bool = False) -> list[int]:
    """Return every matching line number (0-based); a convenience for tests and small logs."""
    regex = compile_pattern(pattern, ignore_case=ignore_case)
    return [n for step in search_spool(spool, regex) for n in step.matches]


class LineFilter:
    """The lines matching a pattern, with ``context`` lines either side, extendable as lines arrive.

    :attr:`lines` holds the 0-based numbers of the lines to show, ascending. Call :meth:`extend`
    (in a thread for a big spool) to scan lines not yet seen; it only scans complete lines, so
    a growing last line is examined once it is terminated.
    """

    def __init__(self, regex: re.Pattern[str], context: int = 0) -> None:
        """Filter with ``regex``, keeping ``context`` lines before and after each match."""
        self.regex = regex
        self.context = max(0, context)
        self.lines = array("Q")
        """Line numbers to show, ascending."""
        self.match_count = 0
        """How many lines matched (context lines excluded)."""
        self.scanned = 0
        """Lines ``[0, scanned)`` have been examined."""
        self._last_added = -1
        self._include_until = -1

    def _add(self, low: int, high: int) -> None:
        low = max(low, self._last_added + 1)
        if low <= high:
            self.lines.extend(range(low, high + 1))
            self._last_added = high

    def extend(
        self,
        spool: LogSpool,
        *,
        max_lines: int | None = None,
        cancel: threading.Event | None = None,
    ) -> int:
        """Scan complete lines not yet examined (at most ``max_lines``); return lines added."""
        before = len(self.lines)
        stop = spool.complete_lines
        if max_lines is not None:
            stop = min(stop, self.scanned + max_lines)
        context = self.context
        for step in search_spool(spool, self.regex, start=self.scanned, stop=stop, cancel=cancel):
            for m in step.matches:
                self._add(self._last_added + 1, min(self._include_until, m - 1))
                self._add(m - context, m)
                self._include_until = max(self._include_until, m + context)
            self.match_count += len(step.matches)
            self.scanned = step.scanned
            self._add(self._last_added + 1, min(self._include_until, self.scanned - 1))
        return len(self.lines) - before
