"""Node access: one asyncssh connection to the CI node, and clear words for every failure.

:class:`NodeConnection` runs commands, streams a command's output as raw byte chunks (read in
64 KiB chunks and split by the caller: asyncssh's per-line iterator is several times slower), and
reads remote files. Host keys are always verified; output is never decoded strictly (one invalid
byte must not close the connection), so callers decode with replacement characters.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import shlex
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import NodeConfig

if TYPE_CHECKING:
    import asyncssh
else:

    class _LazyAsyncssh:
        """Imports asyncssh on first use: it costs ~180 ms, which the first frame need not wait."""

        def __getattr__(self, name: str) -> Any:
            import asyncssh as module

            globals()["asyncssh"] = module
            return getattr(module, name)

    asyncssh = _LazyAsyncssh()

STDERR_KEEP = 64 * 1024
"""How much of a streamed command's stderr is kept for the error message."""


class NodeError(Exception):
    """A failure talking to the node; ``message`` is one clear line for the operator."""

    def __init__(self, message: str, *, kind: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        """One of: host, hostkey, auth, refused, timeout, lost, command, error."""


@dataclass(frozen=True)
class CommandResult:
    """What a finished remote command produced."""

    command: str
    stdout: str
    stderr: str
    exit_status: int | None

    @property
    def ok(self) -> bool:
        """True when the command exited with status 0."""
        return self.exit_status == 0


def decode(data: bytes | str | None) -> str:
    """Decode remote output as UTF-8 with replacement characters (never raises)."""
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", errors="replace")


def _expand(path: str) -> str:
    return str(Path(path).expanduser())


class NodeConnection:
    """One SSH connection to the node, reconnected on demand.

    State listeners are called with ``"connecting"``, ``"connected"``, ``"lost"`` or
    ``"closed"`` and an optional message; the UI maps these to its status bar.
    """

    def __init__(
        self, config: NodeConfig, *, host_override: str | None = None, label: str | None = None
    ) -> None:
        self.config = config
        self.host = host_override or config.host
        self.label = label
        """A name to show instead of ``host:port`` (the demo calls itself ``demo``)."""
        self._conn: asyncssh.SSHClientConnection | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[str, str], None]] = []
        self.last_exit_status: int | None = None
        self.last_stderr = ""

    # -- connection -------------------------------------------------------------------------

    @property
    def host_label(self) -> str:
        """A short ``host`` or ``host:port`` label for borders and evidence."""
        if self.label:
            return self.label
        return f"{self.host}:{self.config.port}" if self.config.port else self.host

    @property
    def is_connected(self) -> bool:
        """True while the SSH transport is up."""
        return self._conn is not None and not self._conn.is_closed()

    def add_listener(self, listener: Callable[[str, str], None]) -> None:
        """Call ``listener(state, message)`` on every connection state change."""
        self._listeners.append(listener)

    def _notify(self, state: str, message: str = "") -> None:
        for listener in list(self._listeners):
            listener(state, message)

    def _options(self) -> dict[str, Any]:
        cfg = self.config
        options: dict[str, Any] = {
            "connect_timeout": cfg.connect_timeout,
            "keepalive_interval": cfg.keepalive_interval,
            "keepalive_count_max": 3,
        }
        if cfg.port:
            options["port"] = cfg.port
        if cfg.username:
            options["username"] = cfg.username
        if cfg.known_hosts:
            options["known_hosts"] = _expand(cfg.known_hosts)
        if cfg.client_keys:
            options["client_keys"] = [_expand(key) for key in cfg.client_keys]
        if cfg.ssh_config:
            options["config"] = [_expand(cfg.ssh_config)]
        return options

    async def connect(self) -> None:
        """Open the connection (a no-op when already connected); raise :class:`NodeError`."""
        async with self._lock:
            if self.is_connected:
                return
            self._notify("connecting", f"connecting to {self.host_label}")
            try:
                conn = await asyncssh.connect(self.host, **self._options())
            except BaseException as exc:  # mapped to one clear line below
                if isinstance(exc, asyncio.CancelledError):
                    raise
                error = self._explain(exc)
                self._notify("lost", error.message)
                raise error from None
            self._conn = conn
            self._notify("connected", f"connected to {self.host_label}")
            asyncio.get_running_loop().create_task(self._watch(conn))

    async def _watch(self, conn: asyncssh.SSHClientConnection) -> None:
        """Report the connection's end to the listeners."""
        await conn.wait_closed()
        if self._conn is conn:
            self._conn = None
            self._notify("lost", f"connection to {self.host_label} lost")

    async def close(self) -> None:
        """Close the connection."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            with contextlib.suppress(Exception):
                await conn.wait_closed()
        self._notify("closed", "")

    async def _connection(self) -> asyncssh.SSHClientConnection:
        await self.connect()
        assert self._conn is not None
        return self._conn

    def _explain(self, exc: BaseException) -> NodeError:
        """Turn a connection failure into one clear line, saying how to fix it where we can."""
        target = self.host_label
        if isinstance(exc, asyncssh.HostKeyNotVerifiable):
            known = self.config.known_hosts or "~/.ssh/known_hosts"
            if self._has_known_key():
                return NodeError(
                    f"host key for {target} has CHANGED (it differs from {known}). If the node "
                    f"was rebuilt, check the new key with its admin, then run "
                    f"`ssh-keygen -R {self.host}` and `ssh {self.host}` once.",
                    kind="hostkey",
                )
            return NodeError(
                f"host key for {target} is not in {known}; run `ssh {self.host}` once and "
                f"check the fingerprint to trust it",
                kind="hostkey",
            )
        if isinstance(exc, asyncssh.PermissionDenied):
            user = self.config.username or "your user"
            return NodeError(
                f"authentication refused by {target} for {user} (check the key, the agent "
                f"and IdentityFile in ~/.ssh/config)",
                kind="auth",
            )
        if isinstance(exc, socket.gaierror):
            return NodeError(f"unknown host {self.host!r}: {exc.strerror}", kind="host")
        if isinstance(exc, ConnectionRefusedError):
            return NodeError(f"connection refused by {target} (is sshd running?)", kind="refused")
        if isinstance(exc, asyncio.TimeoutError | TimeoutError):
            return NodeError(
                f"timed out after {self.config.connect_timeout:g}s connecting to {target}",
                kind="timeout",
            )
        if isinstance(exc, asyncssh.DisconnectError):
            return NodeError(f"{target} closed the connection: {exc.reason}", kind="lost")
        if isinstance(exc, OSError):
            return NodeError(f"cannot reach {target}: {exc.strerror or exc}", kind="refused")
        if isinstance(exc, (ValueError, asyncssh.KeyImportError)):
            return NodeError(f"cannot use the SSH settings for {target}: {exc}", kind="error")
        return NodeError(f"{type(exc).__name__} talking to {target}: {exc}", kind="error")

    def _has_known_key(self) -> bool:
        """True when known_hosts holds some key for this host (so a mismatch means 'changed')."""
        path = _expand(self.config.known_hosts or "~/.ssh/known_hosts")
        try:
            known = asyncssh.read_known_hosts(path)
        except (OSError, ValueError):
            return False
        port = self.config.port or None
        for name in (self.host, "127.0.0.1" if self.host == "localhost" else self.host):
            if known.match(name, name, port)[0]:
                return True
        return False

    # -- commands ---------------------------------------------------------------------------

    async def run(
        self, command: str, *, check: bool = False, timeout: float | None = 60.0
    ) -> CommandResult:
        """Run ``command`` and return its decoded output.

        With ``check``, a non-zero exit status raises :class:`NodeError` naming the command's
        first line of stderr.
        """
        conn = await self._connection()
        try:
            result = await asyncio.wait_for(conn.run(command, encoding=None), timeout)
        except (asyncssh.Error, OSError) as exc:
            raise self._lost(exc) from None
        except TimeoutError:
            raise NodeError(
                f"`{_short(command)}` took longer than {timeout:g}s", kind="command"
            ) from None
        out = CommandResult(
            command, decode(result.stdout), decode(result.stderr), result.exit_status
        )
        if check and not out.ok:
            first = (out.stderr.strip().splitlines() or [f"exit status {out.exit_status}"])[0]
            raise NodeError(f"`{_short(command)}` failed: {first}", kind="command")
        return out

    def _lost(self, exc: BaseException) -> NodeError:
        if isinstance(exc, asyncssh.ChannelOpenError):
            return NodeError(f"{self.host_label} refused a session: {exc.reason}", kind="lost")
        return NodeError(f"connection to {self.host_label} lost: {exc}", kind="lost")

    async def stream(
        self, command: str, *, chunk_size: int = 65536, merge_stderr: bool = False
    ) -> AsyncIterator[bytes]:
        """Yield ``command``'s stdout as raw byte chunks until it ends.

        When the loop is left early, the remote command is sent SIGTERM and its channel closed.
        After a normal end, :attr:`last_exit_status` and :attr:`last_stderr` hold the outcome.
        Raises :class:`NodeError` when the connection is lost mid-stream.
        """
        conn = await self._connection()
        stderr_target = asyncssh.STDOUT if merge_stderr else asyncssh.PIPE
        try:
            process = await conn.create_process(command, encoding=None, stderr=stderr_target)
        except (asyncssh.Error, OSError) as exc:
            raise self._lost(exc) from None
        stderr_parts: list[bytes] = []

        async def drain_stderr() -> None:
            size = 0
            while chunk := await process.stderr.read(chunk_size):
                if size < STDERR_KEEP:
                    stderr_parts.append(chunk)
                    size += len(chunk)

        drainer = None if merge_stderr else asyncio.ensure_future(drain_stderr())
        finished = False
        try:
            while True:
                try:
                    chunk = await process.stdout.read(chunk_size)
                except (asyncssh.Error, OSError) as exc:
                    raise self._lost(exc) from None
                if not chunk:
                    break
                yield chunk
            if drainer is not None:
                with contextlib.suppress(asyncssh.Error, OSError):
                    await drainer
            await process.wait_closed()
            if (
                process.exit_status is None
                and process.exit_signal is None
                and not self.is_connected
            ):
                raise NodeError(f"connection to {self.host_label} lost", kind="lost")
            finished = True
            self.last_exit_status = process.exit_status
            self.last_stderr = decode(b"".join(stderr_parts))
        finally:
            if drainer is not None and not drainer.done():
                drainer.cancel()
            if not finished:
                with contextlib.suppress(Exception):
                    process.send_signal("TERM")
                with contextlib.suppress(Exception):
                    process.close()

    async def read_file(self, path: str, *, limit: int = 64 * 1024 * 1024) -> bytes:
        """Return a remote file's bytes (at most ``limit``); raise :class:`NodeError`."""
        conn = await self._connection()
        try:
            result = await conn.run(f"head -c {int(limit)} -- {shlex.quote(path)}", encoding=None)
        except (asyncssh.Error, OSError) as exc:
            raise self._lost(exc) from None
        if result.exit_status != 0:
            reason = decode(result.stderr).strip().splitlines()
            raise NodeError(
                f"cannot read {path}: {reason[0] if reason else 'failed'}", kind="command"
            )
        data = result.stdout
        return data if isinstance(data, bytes) else decode(data).encode()


def _short(command: str, width: int = 60) -> str:
    command = " ".join(command.split())
    return command if len(command) <= width else command[: width - 1] + "…"


def default_username() -> str:
    """The local user name, as ssh would use it."""
    return getpass.getuser()
