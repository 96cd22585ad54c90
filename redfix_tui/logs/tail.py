"""Follow a remote log (or a remote command's output) into a :class:`LogSpool`, surviving drops.

:class:`RemoteTail` runs ``tail -c +OFFSET -F PATH`` on the node and appends the raw byte chunks
to the spool, counting the bytes of the remote file it holds. When the connection drops or the
tail ends, it reports ``RECONNECTING`` (attempt n, next try in s), waits with exponential
backoff, reconnects, and resumes from the first byte it does not hold — so no line is lost or
shown twice. Before each (re)start it checks the remote file's size and inode (``stat``): if the
file shrank or was replaced, a marker line goes into the spool and it restarts from byte 0; if it
does not exist (yet), the state is ``WAITING`` (``tail -F`` waits for it) until its first bytes
arrive — a file that was there and is gone gets a marker too, and is followed from its start.

Limitation: while one tail is running, a truncation or replacement is handled by ``tail -F``
itself (it restarts on the new content); the marker is only written when it is noticed at a
(re)start.

:class:`RemoteCommandStream` runs a command whose output ends (a rerun) and reports
``ENDED`` with its exit status. State changes go to an ``on_state`` callback; this module has no
Textual dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from redfix_tui.logs.spool import LogSpool

CONNECTING = "CONNECTING"
CONNECTED = "CONNECTED"
WAITING = "WAITING"
RECONNECTING = "RECONNECTING"
ENDED = "ENDED"
LOST = "LOST"
STOPPED = "STOPPED"

READ_CHUNK = 1 << 20
"""Most bytes taken from the SSH channel at a time: a read returns whatever is buffered, so a
large limit means fewer, bigger appends when data pours in, and no wait when it trickles."""


class Node(Protocol):
    """What the tail needs from :class:`redfix_tui.node.NodeConnection`."""

    last_exit_status: int | None

    async def connect(self) -> None:
        """Connect (a no-op when connected)."""

    async def run(self, command: str, *, check: bool = False, timeout: float | None = 60) -> Any:
        """Run a command; the result has ``stdout``, ``stderr``, ``exit_status``."""

    def stream(self, command: str, *, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """Yield a command's stdout as raw chunks; raise NodeError on connection loss."""


@dataclass(frozen=True)
class StreamState:
    """The state of a tail or command stream, for a status line."""

    status: str
    """One of CONNECTING, CONNECTED, WAITING, RECONNECTING, ENDED, LOST, STOPPED."""
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
        elif self.status == RECONNECTING:
            left = max(0.0, self.retry_at - (time.monotonic() if now is None else now))
            text = f"RECONNECTING attempt {self.attempt}, next try in {left:.0f}s"
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


class RemoteTail:
    """Follow a remote file into a spool with byte-offset resume; see the module docstring."""

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
        self.attempt = 0
        self.state = StreamState(CONNECTING)
        self._on_state = on_state
        self._backoff = backoff or Backoff()
        self._chunk_size = chunk_size
        self._stopped = False

    def _set_state(self, state: StreamState) -> None:
        self.state = state
        if self._on_state is not None:
            self._on_state(state)

    def tail_command(self) -> str:
        """The remote command that streams the file from :attr:`offset`."""
        return f"tail -c +{self.offset + 1} -F -- {shlex.quote(self.path)}"

    async def _check_remote(self) -> bool:
        """Restart from 0 with a marker if the remote file shrank or was replaced.

        Returns False when the file does not exist (yet): ``tail -F`` will wait for it.
        """
        quoted = shlex.quote(self.path)
        result = await self.node.run(
            f"stat -L -c '%s %i' -- {quoted} || {{ [ -e {quoted} ] || echo missing; }}",
            timeout=30,
        )
        fields = (result.stdout or "").split()
        if fields == ["missing"]:
            if self.offset:
                self.spool.mark("── remote file was removed; following it from its start ──")
                self.offset = 0
                self.inode = None
            return False
        if result.exit_status != 0 or len(fields) != 2 or not all(f.isdigit() for f in fields):
            return True  # cannot tell: let tail report what it finds
        size, inode = int(fields[0]), int(fields[1])
        replaced = self.inode is not None and inode != self.inode
        if self.offset and (size < self.offset or replaced):
            why = "was replaced" if replaced else "was truncated"
            self.spool.mark(f"── remote file {why}; restarting from its start ──")
            self.offset = 0
        self.inode = inode
        return True

    async def run(self) -> None:
        """Follow until :meth:`stop` is called or the task is cancelled."""
        self._stopped = False
        while not self._stopped:
            try:
                self._set_state(StreamState(CONNECTING, attempt=self.attempt))
                await self.node.connect()
                exists = await self._check_remote()
                if exists:
                    self._set_state(StreamState(CONNECTED))
                else:
                    self._set_state(StreamState(WAITING, path=self.path))
                async for chunk in self.node.stream(
                    self.tail_command(), chunk_size=self._chunk_size
                ):
                    if self.state.status == WAITING:
                        self._set_state(StreamState(CONNECTED))
                    self.spool.append(chunk)
                    self.offset += len(chunk)
                    self.attempt = 0
                    if self._stopped:
                        break
                if self._stopped:
                    break
                reason = f"tail ended (exit status {self.node.last_exit_status})"
            except Exception as error:
                if not _is_node_error(error) and not isinstance(error, OSError):
                    raise
                reason = _error_message(error)
            self.attempt += 1
            delay = self._backoff.delay(self.attempt)
            self._set_state(
                StreamState(
                    RECONNECTING,
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
