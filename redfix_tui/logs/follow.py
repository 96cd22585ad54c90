"""The remote side of a log tail that is exactly-once across rotation, and its framing.

One remote command (``python3 -c FOLLOWER PATH OFFSET INODE K SHA256``, Python 3 standard library
only: cc-ci runs its harness with it) opens the file once and works on that descriptor:

- it compares the file with the identity the client holds (inode; size not below OFFSET;
  sha256 of the first K bytes, K = min(4096, OFFSET)) and says what it found in a header
  ``H <same|truncated|replaced|new> <inode> <size> <start> <k> <sha256 of the first k bytes>``,
  then streams from ``start`` (OFFSET when the file is the same one, else 0);
- data comes in frames ``D <n>\\n`` + n raw bytes, so the client counts the bytes of the file
  exactly, whatever the file contains;
- while following it watches for rotation: ``T`` (the descriptor's file shrank below what was
  sent, or its first bytes changed: copytruncate), ``R`` (the path names another file: mv +
  create; sent only after the old file was read to its end) or ``G`` (the path is gone), then
  ends: the client writes one marker and starts again on the new file;
- ``W`` while the path does not exist yet, ``K`` every few idle seconds (a dead client's broken
  pipe then ends the follower), ``E <reason>`` when the file cannot be read.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterator

HEAD = 4096
"""How many first bytes of the file identify it (with its inode)."""

FOLLOWER = r"""
import hashlib, os, stat, sys, time
path, offset, inode, k, expected = sys.argv[1:6]
offset, k = int(offset), int(k)
HEAD, CHUNK, POLL, CHECK, BEAT = 4096, 1 << 20, 0.1, 0.25, 5.0
out = sys.stdout.buffer
def say(text):
    out.write(text.encode() + b"\n")
    out.flush()
beat = time.monotonic()
waited = False
while True:
    try:
        fd = os.open(path, os.O_RDONLY)
        break
    except FileNotFoundError:
        if not waited:
            say("W")
            waited = True
    except OSError as exc:
        say("E cannot read %s: %s" % (path, exc.strerror))
        sys.exit(2)
    if time.monotonic() - beat > BEAT:
        say("K")
        beat = time.monotonic()
    time.sleep(POLL)
st = os.fstat(fd)
if stat.S_ISDIR(st.st_mode):
    say("E cannot read %s: it is a directory" % path)
    sys.exit(2)
def first(n):
    return os.pread(fd, n, 0)
if waited or inode == "-":
    reason, start = "new", (0 if waited or offset > st.st_size else offset)
elif str(st.st_ino) != inode:
    reason, start = "replaced", 0
elif st.st_size < offset or hashlib.sha256(first(k)).hexdigest() != expected:
    reason, start = "truncated", 0
else:
    reason, start = "same", offset
head = bytearray(first(min(HEAD, start)))
say("H %s %d %d %d %d %s" % (reason, st.st_ino, st.st_size, start, len(head),
                             hashlib.sha256(head).hexdigest()))
pos = start
next_check = 0.0
while True:
    now = time.monotonic()
    if now >= next_check:
        next_check = now + CHECK
        if os.fstat(fd).st_size < pos or (head and first(len(head)) != head):
            say("T")
            sys.exit(0)
    data = os.pread(fd, CHUNK, pos)
    if data:
        out.write(b"D %d\n" % len(data))
        out.write(data)
        out.flush()
        if len(head) < HEAD:
            head += data[: HEAD - len(head)]
        pos += len(data)
        beat = now
        continue
    st = os.fstat(fd)
    try:
        now_st = os.stat(path)
        moved = (now_st.st_ino, now_st.st_dev) != (st.st_ino, st.st_dev)
        gone = False
    except FileNotFoundError:
        moved = gone = True
    if moved:
        if os.pread(fd, 1, pos):
            continue
        say("G" if gone else "R")
        sys.exit(0)
    if now - beat > BEAT:
        say("K")
        beat = now
    time.sleep(POLL)
    next_check = 0.0
"""


def follower_command(
    path: str,
    offset: int,
    inode: int | None,
    head_size: int,
    head_hash: str,
    python: str = "python3",
) -> str:
    """The remote command that follows ``path`` from ``offset`` if it is still the same file;
    ``python``: the interpreter that runs it (``python3`` from the node's PATH)."""
    args = [
        path,
        str(int(offset)),
        "-" if inode is None else str(int(inode)),
        str(int(head_size)),
        head_hash or "-",
    ]
    quoted = " ".join(map(shlex.quote, args))
    return f"exec {shlex.quote(python)} -c {shlex.quote(FOLLOWER)} {quoted}"


def sha256(data: bytes) -> str:
    """Hex sha256 (as the follower computes it)."""
    return hashlib.sha256(data).hexdigest()


class FrameReader:
    """Split the follower's output into ``("data", bytes)`` and ``("line", str)`` events."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._need = 0
        """Bytes of data frame still to come."""

    def feed(self, chunk: bytes) -> Iterator[tuple[str, bytes | str]]:
        """Yield the events ``chunk`` completes (a frame may span chunks)."""
        view = memoryview(chunk)
        while view:
            if self._need:
                take = view[: self._need]
                self._need -= len(take)
                view = view[len(take) :]
                yield "data", bytes(take)
                continue
            newline = bytes(view[:256]).find(b"\n") if not self._buffer else -1
            if newline < 0:
                joined = bytes(self._buffer) + bytes(view)
                newline = joined.find(b"\n")
                if newline < 0:
                    if len(joined) > 4096:
                        raise ValueError("follower: header line too long")
                    self._buffer = bytearray(joined)
                    return
                self._buffer.clear()
                line, view = joined[:newline], memoryview(joined[newline + 1 :])
            else:
                line, view = bytes(view[:newline]), view[newline + 1 :]
            text = line.decode("utf-8", errors="replace")
            if text.startswith("D "):
                self._need = int(text[2:])
            else:
                yield "line", text
