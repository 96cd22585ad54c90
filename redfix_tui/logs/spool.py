"""A local spool of a log's bytes with a compact index of where each line starts.

Streams are appended as raw byte chunks to a temporary file; line starts are indexed as the
bytes arrive in an ``array('Q')`` (8 bytes a line, so a million lines cost 8 MB), and lines are
read back on demand with ``os.pread``. Nothing keeps the text of every line in memory: readers
(the log view, search) pull the few lines they need, through a small LRU cache.

Line ``i`` (0-based) spans ``starts[i]`` up to the next start (or the end of the data for the
last, possibly unterminated, line). Its text excludes the ``\\n`` and a ``\\r`` before it, and
decodes as UTF-8 with replacement characters. The spool is written by one thread (the event loop)
and may be read from others (search threads): reads only touch lines that are already indexed.
"""

from __future__ import annotations

import os
import tempfile
import threading
from array import array
from collections import OrderedDict
from itertools import accumulate
from pathlib import Path

from redfix_tui.logs.ansi import decode
from redfix_tui.logs.clock import ArrivalTimes

_CACHE_SIZE = 512
_READ_BLOCK = 1 << 20


class LogSpool:
    """Append-only byte spool with a line-start index; see the module docstring."""

    def __init__(self, directory: str | None = None) -> None:
        """Create an empty spool backed by a fresh temporary file (removed on :meth:`close`)."""
        fd, name = tempfile.mkstemp(prefix="redfix-log-", suffix=".spool", dir=directory)
        self._fd = fd
        self.path = Path(name)
        """Where the spooled bytes live."""
        self._owned = True
        self._starts = array("Q", [0])
        self._size = 0
        self._tail_newline = True
        self._cache: OrderedDict[int, str] = OrderedDict()
        self._lock = threading.Lock()
        self.version = 0
        """Increases whenever bytes are appended (lets readers notice change cheaply)."""
        self.marks: list[int] = []
        """Line numbers (0-based) of marker lines added with :meth:`mark`."""
        self.arrivals = ArrivalTimes()
        """When each chunk arrived (one timestamp a chunk; replace it to inject a clock)."""

    @classmethod
    def open_file(cls, path: str | os.PathLike[str]) -> LogSpool:
        """Index an existing local file in place (read-only; later growth via :meth:`refresh`)."""
        spool = cls.__new__(cls)
        spool._fd = os.open(path, os.O_RDONLY)
        spool.path = Path(path)
        spool._owned = False
        spool._starts = array("Q", [0])
        spool._size = 0
        spool._tail_newline = True
        spool._cache = OrderedDict()
        spool._lock = threading.Lock()
        spool.version = 0
        spool.marks = []
        spool.arrivals = ArrivalTimes()
        spool.refresh()
        return spool

    def refresh(self) -> int:
        """For a spool opened on a local file, index bytes added since; return how many."""
        if self._owned:
            return 0
        added = 0
        while True:
            block = os.pread(self._fd, _READ_BLOCK, self._size)
            if not block:
                return added
            self._index(block)
            added += len(block)

    # -- writing ---------------------------------------------------------------------------

    def append(self, chunk: bytes) -> None:
        """Append a raw chunk (it may start or end mid-line) and index its line starts."""
        if not chunk:
            return
        if not self._owned:
            raise ValueError("this spool reads a local file; it cannot be appended to")
        view = memoryview(chunk)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._index(chunk)

    def _index(self, chunk: bytes) -> None:
        base = self._size
        self.arrivals.record(base)
        pieces = chunk.split(b"\n")
        if len(pieces) > 1:
            # Each "\n" ends a line; the next line starts just after it.
            ends = accumulate((len(p) + 1 for p in pieces[:-1]), initial=base)
            next(ends)
            with self._lock:
                self._starts.extend(ends)
        self._size = base + len(chunk)
        self._tail_newline = chunk.endswith(b"\n")
        self.version += 1

    def mark(self, text: str) -> int:
        """Append a visible marker line (on a line of its own); return its line number."""
        prefix = b"" if self._tail_newline else b"\n"
        line = f"\x1b[1;7m{text}\x1b[0m".encode()
        self.append(prefix + line + b"\n")
        number = len(self._starts) - 2
        self.marks.append(number)
        return number

    # -- reading ---------------------------------------------------------------------------

    @property
    def is_temporary(self) -> bool:
        """True for a spool of streamed bytes; False when it reads a local file in place."""
        return self._owned

    @property
    def byte_count(self) -> int:
        """Number of bytes spooled."""
        return self._size

    @property
    def complete_lines(self) -> int:
        """Number of lines terminated by ``\\n``."""
        return len(self._starts) - 1

    @property
    def line_count(self) -> int:
        """Number of lines, counting an unterminated last line."""
        n = len(self._starts) - 1
        return n if self._tail_newline else n + 1

    def span(self, index: int) -> tuple[int, int]:
        """Return the byte range ``(start, end)`` of line ``index``, end excluding the newline."""
        starts = self._starts
        n = len(starts) - 1
        if index < 0 or index >= self.line_count:
            raise IndexError(index)
        start = starts[index]
        end = starts[index + 1] - 1 if index < n else self._size
        return start, end

    def line_length(self, index: int) -> int:
        """Length in bytes of line ``index`` (without its line ending)."""
        start, end = self.span(index)
        return end - start

    def read_bytes(self, index: int, limit: int | None = None) -> bytes:
        """Return the raw bytes of line ``index`` (at most ``limit`` of them), no line ending."""
        start, end = self.span(index)
        if limit is not None:
            end = min(end, start + limit)
        data = os.pread(self._fd, end - start, start)
        if data.endswith(b"\r") and (limit is None or end - start < limit):
            data = data[:-1]
        return data

    def read_line(self, index: int, limit: int | None = None) -> str:
        """Return line ``index`` decoded (replacement characters for invalid UTF-8).

        With ``limit``, only the first ``limit`` bytes are read (for very long lines).
        Complete lines are cached; the growing last line is not.
        """
        key = index if limit is None else ~index
        cache = self._cache
        try:
            text = cache[key]
        except KeyError:
            pass
        else:
            cache.move_to_end(key)
            return text
        text = decode(self.read_bytes(index, limit))
        if index < self.complete_lines:
            cache[key] = text
            if len(cache) > _CACHE_SIZE:
                cache.popitem(last=False)
        return text

    def read_lines(self, first: int, last: int) -> list[str]:
        """Return lines ``first`` up to (excluding) ``last``, decoded, in one read."""
        last = min(last, self.line_count)
        if first >= last:
            return []
        start = self._starts[first]
        end = self.span(last - 1)[1]
        data = decode(os.pread(self._fd, end - start, start))
        return [line.removesuffix("\r") for line in data.split("\n")]

    def read_range_bytes(self, start: int, end: int) -> bytes:
        """Return raw bytes ``start`` to ``end`` of the spool."""
        return os.pread(self._fd, end - start, start)

    def line_start(self, index: int) -> int:
        """Byte offset where line ``index`` starts (``line_count`` gives the data's end)."""
        if index >= len(self._starts):
            return self._size
        return self._starts[index]

    def line_at_offset(self, offset: int) -> int:
        """Return the line number containing byte ``offset``."""
        from bisect import bisect_right

        return bisect_right(self._starts, offset) - 1

    def close(self) -> None:
        """Close the spool; a temporary spool file is deleted."""
        if self._fd < 0:
            return
        os.close(self._fd)
        self._fd = -1
        if self._owned:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> LogSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
