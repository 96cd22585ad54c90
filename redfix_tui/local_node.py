"""The node is this machine: commands run as local processes, files are read directly.

:class:`LocalNode` has the interface of :class:`redfix_tui.node.NodeConnection` (``connect``,
``close``, ``run``, ``stream``, ``read_file``, state listeners, ``host_label``,
``is_connected``), so the board, the tail, reruns and the JUnit loader use it unchanged. It is
chosen with ``host = "local"`` (or ``--local``): on cc-ci itself, SSH to one's own machine would
need one's own key in ``authorized_keys`` and ``localhost`` in ``known_hosts``.

Each command runs as ``sh -c COMMAND`` (the shell ssh's remote side uses), in its own session
(as sshd starts it: no controlling terminal, so nothing reads the console's keyboard), with
stdin from ``/dev/null``, in the home directory. Failures are :class:`NodeError` of kind
``command`` (or ``config`` when no shell can be started); there is no transport, so never
``lost``. A command killed by signal N reports exit status 128 + N, as a shell would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncGenerator, Callable, Mapping
from pathlib import Path

from .config import NodeConfig
from .node import SESSIONS, CommandResult, NodeError, decode, keep_stderr

LOCAL_HOST = "local"
"""The ``[node] host`` value (and ``--local``) that selects :class:`LocalNode`."""
SHELL = "/bin/sh"
REAP_SECONDS = 2.0
"""How long a stopped command's process group gets after SIGTERM before SIGKILL."""
CLOSE_REAP_SECONDS = 0.3
"""The same when the console closes (it has 0.6 s for the whole session to close)."""


def is_local(host: str | None) -> bool:
    """True when ``host`` names this machine as the node (``local``)."""
    return host == LOCAL_HOST


def local_label() -> str:
    """This machine's name as the console shows it: ``cc-ci (local)``."""
    return f"{socket.gethostname()} (local)"


class LocalNode:
    """The node interface of :class:`~redfix_tui.node.NodeConnection`, on this machine.

    ``env`` replaces the environment of the commands (default: the console's own), ``cwd``
    is where they start (default: the home directory, as over ssh).
    """

    def __init__(
        self,
        config: NodeConfig | None = None,
        *,
        label: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
    ) -> None:
        self.config = config or NodeConfig(host=LOCAL_HOST)
        self.host = LOCAL_HOST
        self.label = label
        self.env = dict(env) if env is not None else None
        self.cwd = Path(cwd) if cwd is not None else Path.home()
        self.python = sys.executable or "python3"
        """The interpreter of Python helpers (the log's follower): the console's own, which is
        surely there, where ``python3`` on the PATH may be a slow wrapper (pyenv's shim: ~0.2 s
        a start)."""
        self._sessions = asyncio.Semaphore(SESSIONS)
        self._listeners: list[Callable[[str, str], None]] = []
        self._connected = False
        self.processes: set[asyncio.subprocess.Process] = set()
        """Commands running now (streams included); :meth:`close` stops them."""
        self.last_exit_status: int | None = None
        self.last_stderr = ""
        self.auth_failures = 0
        """Always 0: there is no authentication (kept for the console's status logic)."""
        self.connects = 0
        """Times :meth:`connect` went from closed to connected."""

    # -- "connection" -----------------------------------------------------------------------

    @property
    def host_label(self) -> str:
        """``HOSTNAME (local)``, or the configured node's name."""
        return f"{self.label} (local)" if self.label else local_label()

    @property
    def is_connected(self) -> bool:
        """True between :meth:`connect` and :meth:`close`."""
        return self._connected

    @property
    def auth_stopped(self) -> bool:
        """Always False: nothing to authenticate."""
        return False

    def reset(self) -> None:
        """Nothing to reset (ctrl+r after refused keys means nothing locally)."""

    def add_listener(self, listener: Callable[[str, str], None]) -> None:
        """Call ``listener(state, message)`` on every state change (connected, closed)."""
        self._listeners.append(listener)

    def _notify(self, state: str, message: str = "") -> None:
        for listener in list(self._listeners):
            listener(state, message)

    async def connect(self) -> None:
        """Become "connected" at once (a no-op when connected); raise :class:`NodeError` of
        kind ``config`` when there is no shell to run commands with."""
        if self._connected:
            return
        if not os.access(SHELL, os.X_OK):
            error = NodeError(f"cannot run commands locally: {SHELL} is missing", kind="config")
            self._notify("down", error.message)
            raise error
        if not self.cwd.is_dir():
            error = NodeError(
                f"cannot run commands locally: {self.cwd} is not a directory", kind="config"
            )
            self._notify("down", error.message)
            raise error
        self.connects += 1
        self._connected = True
        self._notify("connected", f"running commands locally on {self.host_label}")

    async def close(self) -> None:
        """Stop the commands still running (detached reruns are in their own session and go
        on), then report ``closed``."""
        self._connected = False
        stopping = list(self.processes)
        await asyncio.gather(*(_stop(process, CLOSE_REAP_SECONDS) for process in stopping))
        self.processes.difference_update(stopping)  # a stream left at a yield drops it later
        self._notify("closed", "")

    async def _spawn(
        self, command: str, *, merge_stderr: bool = False
    ) -> asyncio.subprocess.Process:
        await self.connect()
        try:
            process = await asyncio.create_subprocess_exec(
                SHELL,
                "-c",
                command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT if merge_stderr else asyncio.subprocess.PIPE,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
            )
        except OSError as exc:
            raise NodeError(
                f"cannot start `{_short(command)}` locally: {exc.strerror or exc}", kind="command"
            ) from None
        self.processes.add(process)
        return process

    # -- commands ---------------------------------------------------------------------------

    async def run(
        self, command: str, *, check: bool = False, timeout: float | None = 60.0
    ) -> CommandResult:
        """Run ``command`` and return its decoded output (as :meth:`NodeConnection.run`).

        With ``check``, a non-zero exit status raises :class:`NodeError` (kind ``command``)
        naming the first line of stderr; a command taking longer than ``timeout`` is stopped
        (its whole process group) and raises kind ``command`` too.
        """
        stdout, stderr, status = await self._execute(command, timeout)
        out = CommandResult(command, decode(stdout), decode(stderr), status)
        if check and not out.ok:
            first = (out.stderr.strip().splitlines() or [f"exit status {out.exit_status}"])[0]
            raise NodeError(f"`{_short(command)}` failed: {first}", kind="command")
        return out

    async def _execute(self, command: str, timeout: float | None) -> tuple[bytes, bytes, int]:
        async with self._sessions:
            process = await self._spawn(command)
            try:
                stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
            except TimeoutError:
                raise NodeError(
                    f"`{_short(command)}` took longer than {timeout:g}s", kind="command"
                ) from None
            except OSError as exc:
                raise NodeError(f"`{_short(command)}` failed: {exc}", kind="command") from None
            finally:
                await _stop(process)
                self.processes.discard(process)
        return stdout, stderr, _status(process.returncode)

    async def stream(
        self, command: str, *, chunk_size: int = 65536, merge_stderr: bool = False
    ) -> AsyncGenerator[bytes, None]:
        """Yield ``command``'s stdout as raw byte chunks until it ends.

        When the loop is left early, the command's process group is sent SIGTERM (SIGKILL
        after :data:`REAP_SECONDS`). After a normal end, :attr:`last_exit_status` and
        :attr:`last_stderr` hold the outcome.
        """
        process = await self._spawn(command, merge_stderr=merge_stderr)
        assert process.stdout is not None
        stderr_parts: list[bytes] = []
        drainer = (
            None
            if merge_stderr
            else asyncio.ensure_future(keep_stderr(process.stderr, stderr_parts, chunk_size))
        )
        finished = False
        try:
            while True:
                try:
                    chunk = await process.stdout.read(chunk_size)
                except OSError as exc:
                    raise NodeError(f"`{_short(command)}` failed: {exc}", kind="command") from None
                if not chunk:
                    break
                yield chunk
            if drainer is not None:
                await drainer
            status = _status(await process.wait())
            finished = True
            self.last_exit_status = status
            self.last_stderr = decode(b"".join(stderr_parts))
        finally:
            if drainer is not None and not drainer.done():
                drainer.cancel()
            if not finished:
                await _stop(process)
            self.processes.discard(process)

    async def read_file(self, path: str, *, limit: int = 64 * 1024 * 1024) -> bytes:
        """Return a file's bytes (at most ``limit``); a relative path is taken from the home
        directory, as over ssh. Raise :class:`NodeError` (kind ``command``)."""
        await self.connect()
        target = self.cwd / path
        async with self._sessions:
            try:
                return await asyncio.to_thread(_read, target, int(limit))
            except OSError as exc:
                raise NodeError(
                    f"cannot read {path}: {exc.strerror or exc}", kind="command"
                ) from None


def _read(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(limit)


def _status(returncode: int | None) -> int:
    """A process's exit status as a shell reports it (killed by signal N: 128 + N)."""
    if returncode is None:
        return -1
    return 128 - returncode if returncode < 0 else returncode


async def _stop(process: asyncio.subprocess.Process, grace: float = REAP_SECONDS) -> None:
    """End a command left early: SIGTERM to its process group, SIGKILL if it lingers, and
    reap it (its pipes are closed here, not at garbage collection)."""
    if process.returncode is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), grace)
        except TimeoutError:
            _signal_group(process.pid, signal.SIGKILL)
            await process.wait()
    transport = getattr(process, "_transport", None)
    if transport is not None:
        transport.close()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone: what was wanted
        os.killpg(pgid, sig)


def _short(command: str, width: int = 60) -> str:
    command = " ".join(command.split())
    return command if len(command) <= width else command[: width - 1] + "…"
