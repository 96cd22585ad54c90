"""Follow a remote log (or a remote command's output) into a :class:`LogSpool`, surviving drops.

:class:`RemoteTail` runs one remote command per connection (the follower of
:mod:`redfix_tui.logs.follow`) that checks the file's identity — inode, size, sha256 of its first
bytes — against what the spool holds and streams it in frames, so the bytes of the file are
counted exactly. Every line reaches the spool exactly once, across drops and rotation:

- same file: resume at the byte offset held;
- copytruncate (same inode, smaller than the offset or other first bytes): one marker
  ``log truncated (copytruncate): following from the start``, then from byte 0;
- mv + create (another inode), also when the new file grew past the old offset meanwhile: one
  marker ``log replaced: following the new file from its start``, then from byte 0 of the new
  file;
- removed: a marker, ``WAITING`` until it appears again, then from its start.

Rotation during a live follow is noticed by the follower (the old file is read to its end
first) and handled the same way, with one marker. When the connection drops, the state is
``RECONNECTING`` (attempt n, next try in s) with exponential backoff; when the follower itself
fails on a live connection (an unreadable file), ``RETRYING`` with the reason. A node without
python3 gets one marker saying so and the plain ``tail -c +N -F`` follow (rotation noticed only
at a restart, as :meth:`RemoteTail._follow_plain` says). A
command failing elsewhere never touches the tail. What cannot be helped: lines written to the
old file after the last byte read and before a rotation that happens while disconnected are
only in the rotated file; and a copytruncated file whose new first K bytes are identical to the
old ones (K = min(4096, offset)) is taken for the same file.

:class:`RemoteCommandStream` runs a command whose output ends (a rerun) and reports
``ENDED`` with its exit status. State changes go to an ``on_state`` callback; this module has no
Textual dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from redfix_tui.logs.follow import HEAD, FrameReader, follower_command, sha256
from redfix_tui.logs.origins import record
from redfix_tui.logs.spool import LogSpool
from redfix_tui.node_api import Node

CONNECTING = "CONNECTING"
CONNECTED = "CONNECTED"
WAITING = "WAITING"
RECONNECTING = "RECONNECTING"
RETRYING = "RETRYING"
ENDED = "ENDED"
LOST = "LOST"
STOPPED = "STOPPED"
EXCERPT = "EXCERPT"
"""Not a stream: lines read once (cited lines read back from the node)."""

TRANSPORT = frozenset({"lost", "refused", "timeout"})
"""NodeError kinds of a failed connection (the others: a command or settings failed)."""

READ_CHUNK = 1 << 20
"""Most bytes taken from the SSH channel at a time: a read returns whatever is buffered, so a
large limit means fewer, bigger appends when data pours in, and no wait when it trickles."""


@dataclass(frozen=True)
class StreamState:
    """The state of a tail or command stream, for a status line."""

    status: str
    """One of CONNECTING, CONNECTED, WAITING, RECONNECTING (the connection failed),
    RETRYING (the follower failed on a live connection, or settings must be fixed), ENDED,
    LOST, STOPPED, EXCERPT (no stream: lines read once)."""
    attempt: int = 0
    """Reconnect attempt number (RECONNECTING)."""
    retry_at: float = 0.0
    """``time.monotonic()`` of the next try (RECONNECTING)."""
    exit_status: int | None = None
    """Exit status of an ended command (ENDED)."""
    message: str = ""
    """The reason, in one line (the error that caused a reconnect, for instance)."""
    path: str = ""
    """The remote file waited for (WAITING)."""

    def describe(self, now: float | None = None) -> str:
        """Return a one-line description, e.g. ``RECONNECTING attempt 2, next try in 3s``."""
        if self.status == WAITING:
            text = f"waiting for {self.path} to appear (no log yet)"
        elif self.status in (RECONNECTING, RETRYING):
            left = max(0.0, self.retry_at - (time.monotonic() if now is None else now))
            text = f"{self.status} attempt {self.attempt}, next try in {left:.0f}s"
        elif self.status == ENDED:
            text = f"stream ended, exit status {self.exit_status}"
        else:
            text = self.status
        return f"{text} — {self.message}" if self.message else text


StateCallback = Callable[[StreamState], None]


def _error_message(error: BaseException) -> str:
    return getattr(error, "message", None) or str(error) or type(error).__name__


def _is_node_error(error: BaseException) -> bool:
    """True for :class:`redfix_tui.node.NodeError` (matched by name: no import cycle)."""
    return any(cls.__name__ == "NodeError" for cls in type(error).__mro__)


@dataclass
class Backoff:
    """Exponential reconnect delays: ``first``, doubling, capped at ``limit`` seconds."""

    first: float = 0.5
    limit: float = 15.0

    def delay(self, attempt: int) -> float:
        """Return the wait before reconnect ``attempt`` (1-based)."""
        return min(self.limit, self.first * 2 ** max(0, attempt - 1))


class FollowError(Exception):
    """The follower on the node failed (not the connection): ``message`` says how."""

    kind = "command"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


MARK_TRUNCATED = "── log truncated (copytruncate): following from the start ──"
MARK_REPLACED = "── log replaced: following the new file from its start ──"
MARK_REMOVED = "── log removed: following it from its start when it appears ──"
MARK_PLAIN = "── no python3 on the node: following with tail -F (a rotation may repeat lines) ──"


class RemoteTail:
    """Follow a remote file into a spool, exactly once across drops and rotation; see the
    module docstring."""

    def __init__(
        self,
        node: Node,
        path: str,
        spool: LogSpool,
        *,
        on_state: StateCallback | None = None,
        backoff: Backoff | None = None,
        offset: int = 0,
        chunk_size: int = READ_CHUNK,
    ) -> None:
        """Tail ``path`` on ``node`` into ``spool``, starting at byte ``offset`` of the file."""
        if not path or "\n" in path or "\0" in path:
            raise ValueError(f"not a usable remote path: {path!r}")
        self.node = node
        self.path = path
        self.spool = spool
        self.offset = offset
        """Bytes of the remote file held in the spool (the next byte to ask for)."""
        self.inode: int | None = None
        """The inode of the file followed (None until the follower reported it)."""
        self._head: bytearray | None = bytearray()
        """The file's first bytes as received (up to HEAD), when it was followed from 0."""
        self._head_known = (0, sha256(b""))
        """(k, sha256) of the first k bytes, when the follow started past them."""
        self.attempt = 0
        self.starts = 0
        """Follower commands started (one per connection, plus one per rotation)."""
        self.noticed: list[tuple[str, str]] = []
        """Each rotation noticed, as (``live`` or ``resume``, its marker): one marker each."""
        self.plain = False
        """True when the node has no python3: ``tail -F`` without the exactly-once checks."""
        self.state = StreamState(CONNECTING)
        self._on_state = on_state
        self._backoff = backoff or Backoff()
        self._chunk_size = chunk_size
        self._stopped = False

    def _set_state(self, state: StreamState) -> None:
        self.state = state
        if self._on_state is not None:
            self._on_state(state)

    def watch(self, on_state: StateCallback) -> None:
        """Report state changes to ``on_state`` from now on, starting with the current state (a
        tail begun before its view existed is handed to the view this way)."""
        self._on_state = on_state
        on_state(self.state)

    def _identity(self) -> tuple[int, str]:
        if self._head is not None:
            return len(self._head), sha256(bytes(self._head))
        return self._head_known

    def tail_command(self) -> str:
        """The remote command that checks the file's identity and follows it (one command)."""
        size, digest = self._identity()
        python = getattr(self.node, "python", "python3")  # a local node: the console's own
        return follower_command(self.path, self.offset, self.inode, size, digest, python)

    def _forget(self, marker: str, how: str) -> None:
        """The file followed is gone (rotated or removed): mark it and start over at 0."""
        self.spool.mark(marker)
        self.noticed.append((how, marker))
        self.offset = 0
        self.inode = None
        self._head = bytearray()

    def _header(self, fields: list[str]) -> None:
        """``H reason inode size start k sha256``: what the follower found at its start."""
        reason, inode, _size, start, k, digest = fields
        if reason == "truncated":
            self._forget(MARK_TRUNCATED, "resume")
        elif reason == "replaced":
            self._forget(MARK_REPLACED, "resume")
        self.inode = int(inode)
        self.offset = int(start)
        if self.offset == 0:
            self._head = bytearray()
        else:
            self._head, self._head_known = None, (int(k), digest)
        self._set_state(StreamState(CONNECTED))

    def _line(self, text: str) -> bool:
        """Act on one of the follower's lines; True when it ended on a rotation."""
        tag, _, rest = text.partition(" ")
        if tag == "H" and len(rest.split()) == 6:
            self._header(rest.split())
        elif tag == "W":
            if self.offset or self.inode is not None:
                self._forget(MARK_REMOVED, "resume")
            self._set_state(StreamState(WAITING, path=self.path))
        elif tag in ("T", "R", "G"):
            self._forget({"T": MARK_TRUNCATED, "R": MARK_REPLACED, "G": MARK_REMOVED}[tag], "live")
            return True
        elif tag == "E":
            raise FollowError(rest or f"cannot follow {self.path}")
        elif tag != "K":
            raise FollowError(f"unexpected output from the log follower: {text[:80]!r}")
        return False

    def _data(self, data: bytes) -> None:
        record(self.spool, self.offset, data)  # appends, noting the file offset (evidence)
        self.offset += len(data)
        if self._head is not None and len(self._head) < HEAD:
            self._head += data[: HEAD - len(self._head)]
        self.attempt = 0

    async def _follow(self) -> bool:
        """Run the follower once; True when it ended on a rotation (start again at once)."""
        reader = FrameReader()
        self.starts += 1
        stream = self.node.stream(self.tail_command(), chunk_size=self._chunk_size)
        async with contextlib.aclosing(stream):  # leaving early stops the follower at once
            async for chunk in stream:
                for kind, value in reader.feed(chunk):
                    if kind == "data":
                        self._data(cast(bytes, value))  # data frames carry bytes
                    elif self._line(cast(str, value)):  # the others a text line
                        return True
                if self._stopped:
                    return False
        status = self.node.last_exit_status
        stderr = (getattr(self.node, "last_stderr", "") or "").strip().splitlines()
        why = stderr[-1] if stderr else "no message"
        if status == 127 and "python3" in why:
            self.plain = True
            self.spool.mark(MARK_PLAIN)
            return True
        raise FollowError(f"the log follower ended (exit status {status}): {why}")

    async def _follow_plain(self) -> bool:
        """Without python3 on the node: ``stat`` (size, inode), then ``tail -c +N -F``.

        A rotation noticed at a (re)start gets a marker; one during a live tail is followed by
        ``tail -F`` itself without one, and may repeat or skip lines (hence :data:`MARK_PLAIN`).
        """
        quoted = shlex.quote(self.path)
        result = await self.node.run(f"stat -L -c '%s %i' -- {quoted} 2>/dev/null", timeout=30)
        fields = (result.stdout or "").split()
        if len(fields) == 2 and all(field.isdigit() for field in fields):
            size, inode = int(fields[0]), int(fields[1])
            if self.inode is not None and inode != self.inode:
                self._forget(MARK_REPLACED, "resume")
            elif size < self.offset:
                self._forget(MARK_TRUNCATED, "resume")
            self.inode = inode
            self._set_state(StreamState(CONNECTED))
        else:
            if self.offset or self.inode is not None:
                self._forget(MARK_REMOVED, "resume")
            self._set_state(StreamState(WAITING, path=self.path))
        self.starts += 1
        command = f"tail -c +{self.offset + 1} -F -- {quoted}"
        stream = self.node.stream(command, chunk_size=self._chunk_size)
        async with contextlib.aclosing(stream):
            async for chunk in stream:
                if self.state.status != CONNECTED:
                    self._set_state(StreamState(CONNECTED))
                record(self.spool, self.offset, chunk)
                self.offset += len(chunk)
                self.attempt = 0
                if self._stopped:
                    return False
        raise FollowError(f"tail ended (exit status {self.node.last_exit_status})")

    async def run(self) -> None:
        """Follow until :meth:`stop` is called or the task is cancelled."""
        self._stopped = False
        while not self._stopped:
            try:
                self._set_state(StreamState(CONNECTING, attempt=self.attempt))
                await self.node.connect()
                if await (self._follow_plain() if self.plain else self._follow()):
                    continue  # a rotation: the new file at once
                if self._stopped:
                    break
            except Exception as error:
                if not _is_node_error(error) and not isinstance(error, OSError | FollowError):
                    raise
                reason = _error_message(error)
                transport = getattr(error, "kind", "lost") in TRANSPORT or isinstance(
                    error, OSError
                )
            self.attempt += 1
            delay = self._backoff.delay(self.attempt)
            self._set_state(
                StreamState(
                    RECONNECTING if transport else RETRYING,
                    attempt=self.attempt,
                    retry_at=time.monotonic() + delay,
                    message=reason,
                )
            )
            await asyncio.sleep(delay)
        self._set_state(StreamState(STOPPED))

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current chunk (cancel its task to stop at once)."""
        self._stopped = True


class RemoteCommandStream:
    """Stream a command's output into a spool until it ends, then report its exit status."""

    def __init__(
        self,
        node: Node,
        command: str,
        spool: LogSpool,
        *,
        on_state: StateCallback | None = None,
        chunk_size: int = READ_CHUNK,
    ) -> None:
        """Run ``command`` (already quoted by the caller) on ``node`` into ``spool``."""
        self.node = node
        self.command = command
        self.spool = spool
        self.state = StreamState(CONNECTING)
        self._on_state = on_state
        self._chunk_size = chunk_size

    def _set_state(self, state: StreamState) -> None:
        self.state = state
        if self._on_state is not None:
            self._on_state(state)

    async def run(self) -> int | None:
        """Stream to the end; return the exit status (``None`` if the connection was lost)."""
        self._set_state(StreamState(CONNECTING))
        try:
            await self.node.connect()
            self._set_state(StreamState(CONNECTED))
            async for chunk in self.node.stream(self.command, chunk_size=self._chunk_size):
                self.spool.append(chunk)
        except Exception as error:
            if not _is_node_error(error) and not isinstance(error, OSError):
                raise
            message = _error_message(error)
            with contextlib.suppress(OSError):
                self.spool.mark(f"── stream lost: {message} ──")
            self._set_state(StreamState(LOST, message=message))
            return None
        status = self.node.last_exit_status
        self.spool.mark(f"── stream ended, exit status {status} ──")
        self._set_state(StreamState(ENDED, exit_status=status))
        return status
