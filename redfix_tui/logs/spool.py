"""A local spool of a log's bytes with a compact index of where each line starts.

Streams are appended as raw byte chunks to a temporary file, and read back on demand with
``os.pread``. Nothing keeps the text of every line in memory: readers (the log view, search) pull
the few lines they need, through a small LRU cache.

The index is kept in blocks of about :data:`BLOCK` bytes. Appending only counts a chunk's
newlines (one C-speed pass); a block's line starts are found when a reader first needs a line in
it (one ``split`` of the block's bytes, read back from the file, into an ``array('Q')``: 8 bytes
a line, so a million lines cost 8 MB once all are read). A view following a flood therefore
indexes only the blocks it shows, and a search the blocks it scans (in its own thread).

Line ``i`` (0-based) spans its start up to the next start (or the end of the data for the last,
possibly unterminated, line). Its text excludes the ``\\n`` and a ``\\r`` before it, and decodes
as UTF-8 with replacement characters. The spool is written by one thread (the event loop) and may
be read from others (search threads): reads only touch lines that are already counted, and a
block's index is built under a lock.
"""

from __future__ import annotations

import os
import tempfile
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from itertools import accumulate
from pathlib import Path

from redfix_tui.logs.ansi import decode
from redfix_tui.logs.clock import ArrivalTimes

_CACHE_SIZE = 512
_READ_BLOCK = 1 << 20
BLOCK = 1 << 20
"""A block of the index closes once it holds this many bytes (a new one starts)."""


class LogSpool:
    """Append-only byte spool with a line-start index; see the module docstring."""

    def __init__(self, directory: str | None = None) -> None:
        """Create an empty spool backed by a fresh temporary file (removed on :meth:`close`)."""
        fd, name = tempfile.mkstemp(prefix="redfix-log-", suffix=".spool", dir=directory)
        self._fd = fd
        self.path = Path(name)
        """Where the spooled bytes live."""
        self._owned = True
        self._reset_index()
        self._cache: OrderedDict[int, str] = OrderedDict()
        self._lock = threading.Lock()
        self.version = 0
        """Increases whenever bytes are appended (lets readers notice change cheaply)."""
        self.marks: list[int] = []
        """Line numbers (0-based) of marker lines added with :meth:`mark`."""
        self.arrivals = ArrivalTimes()
        """When each chunk arrived (one timestamp a chunk; replace it to inject a clock)."""

    def _reset_index(self) -> None:
        self._size = 0
        self._tail_newline = True
        self._lines = 0
        """Newlines seen (complete lines)."""
        self._bases = array("Q")
        """Where each block of the index starts (a byte offset)."""
        self._ends = array("Q")
        """Newlines seen up to the end of each block (line ``k`` >= 1 starts in the first
        block whose count reaches ``k``)."""
        self._found: list[tuple[array[int], int]] = []
        """Each block's line starts found so far, and up to which byte they were looked for."""

    @classmethod
    def open_file(cls, path: str | os.PathLike[str]) -> LogSpool:
        """Index an existing local file in place (read-only; later growth via :meth:`refresh`)."""
        spool = cls.__new__(cls)
        spool._fd = os.open(path, os.O_RDONLY)
        spool.path = Path(path)
        spool._owned = False
        spool._reset_index()
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
        count = chunk.count(b"\n")
        with self._lock:
            if not self._bases or base - self._bases[-1] >= BLOCK:
                self._bases.append(base)
                self._ends.append(self._lines)
                self._found.append((array("Q"), base))
            self._lines += count
            self._ends[-1] = self._lines
        self._size = base + len(chunk)
        self._tail_newline = chunk.endswith(b"\n")
        self.version += 1

    def _block_starts(self, block: int) -> array[int]:
        """The line starts found in ``block`` (every one up to the data counted so far)."""
        starts, done = self._found[block]
        end = self._bases[block + 1] if block + 1 < len(self._bases) else self._size
        if done < end:
            with self._lock:
                starts, done = self._found[block]
                if done < end:
                    data = os.pread(self._fd, end - done, done)
                    pieces = data.split(b"\n")
                    if len(pieces) > 1:
                        # Each "\n" ends a line; the next line starts just after it.
                        ends = accumulate(map(_plus_one, map(len, pieces[:-1])), initial=done)
                        next(ends)
                        starts.extend(ends)
                    self._found[block] = (starts, end)
        return starts

    def _start(self, index: int) -> int:
        """Where line ``index`` starts (0 <= index <= complete lines)."""
        if index == 0:
            return 0
        block = bisect_left(self._ends, index)
        before = self._ends[block - 1] if block else 0
        return self._block_starts(block)[index - before - 1]

    def mark(self, text: str) -> int:
        """Append a visible marker line (on a line of its own); return its line number."""
        prefix = b"" if self._tail_newline else b"\n"
        line = f"\x1b[1;7m{text}\x1b[0m".encode()
        self.append(prefix + line + b"\n")
        number = self._lines - 1
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
        return self._lines

    @property
    def line_count(self) -> int:
        """Number of lines, counting an unterminated last line."""
        n = self._lines
        return n if self._tail_newline else n + 1

    def span(self, index: int) -> tuple[int, int]:
        """Return the byte range ``(start, end)`` of line ``index``, end excluding the newline."""
        n = self._lines
        if index < 0 or index >= self.line_count:
            raise IndexError(index)
        start = self._start(index)
        end = self._start(index + 1) - 1 if index < n else self._size
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
        start = self._start(first)
        end = self.span(last - 1)[1]
        data = decode(os.pread(self._fd, end - start, start))
        return [line.removesuffix("\r") for line in data.split("\n")]

    def read_range_bytes(self, start: int, end: int) -> bytes:
        """Return raw bytes ``start`` to ``end`` of the spool."""
        return os.pread(self._fd, end - start, start)

    def line_start(self, index: int) -> int:
        """Byte offset where line ``index`` starts (``line_count`` gives the data's end)."""
        if index > self._lines:
            return self._size
        return self._start(index)

    def line_at_offset(self, offset: int) -> int:
        """Return the line number containing byte ``offset``."""
        block = bisect_right(self._bases, offset) - 1
        if block < 0:
            return 0
        before = self._ends[block - 1] if block else 0
        return before + bisect_right(self._block_starts(block), offset)

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


_plus_one = (1).__add__
