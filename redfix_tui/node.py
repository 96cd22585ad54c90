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
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import NodeConfig
from .hostkeys import KnownHostsCheck, MissingFile, SSHTarget, resolve_target

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
        """One of: host, hostkey, auth, config, refused, timeout, lost, command, error."""

    @property
    def transport(self) -> bool:
        """True when the connection itself failed (worth reconnecting); False for a command
        that failed, or settings that must be fixed first (host key, key, files)."""
        return self.kind in TRANSPORT_KINDS


TRANSPORT_KINDS = frozenset({"refused", "timeout", "lost"})
"""Failures of the connection itself: the only ones that make it "lost" (reconnecting)."""
DOWN_KINDS = frozenset({"host", "hostkey", "auth", "config"})
"""Failures that retrying cannot fix: the connection is "down" until the operator acts."""
AUTH_ATTEMPTS = 3
"""Refused authentications in a row after which the connection stops trying (fail2ban)."""
CIPHERS = "^aes128-gcm@openssh.com,aes256-gcm@openssh.com"
"""The ciphers asyncssh offers first, unless the ssh config names its own (``Ciphers``): AES-GCM
takes one call into OpenSSL per packet where asyncssh's chacha20-poly1305 takes three, and a
1M-line log then streams about 1.5x faster (``benchmarks/bench_log.py``). The rest of asyncssh's
defaults follow them."""
SESSIONS = 6
"""Most short commands in flight at once (OpenSSH's MaxSessions defaults to 10; a tail and a
rerun stream hold two more)."""


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


async def keep_stderr(reader: Any, parts: list[bytes], chunk_size: int) -> None:
    """Read a command's stderr to its end, keeping its first :data:`STDERR_KEEP` bytes in
    ``parts`` (a stream's stderr must be drained, or a chatty command would stall)."""
    size = 0
    while chunk := await reader.read(chunk_size):
        if size < STDERR_KEEP:
            parts.append(chunk)
            size += len(chunk)


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

    State listeners are called with ``"connecting"``, ``"connected"``, ``"lost"`` (the
    transport failed: reconnecting), ``"down"`` (settings must be fixed first: host key, key,
    files) or ``"closed"`` and an optional message; the UI maps these to its status bar. A
    command that fails never changes the state: only the transport does.

    After :data:`AUTH_ATTEMPTS` refused authentications in a row, :meth:`connect` refuses at
    once, without touching the network, until :meth:`reset` (ctrl+r in the console).
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
        self._sessions = asyncio.Semaphore(SESSIONS)
        self._listeners: list[Callable[[str, str], None]] = []
        self.last_exit_status: int | None = None
        self.last_stderr = ""
        self.auth_failures = 0
        """Refused authentications in a row (reset by a success or :meth:`reset`)."""
        self.connects = 0
        """Connection attempts that reached the network (for tests and diagnostics)."""
        self._user = config.username or default_username()
        self._attempt = 0
        """Connection attempts made, to tell callers that waited during one."""
        self._failure_error: NodeError | None = None
        """The last attempt's error (None after a success)."""
        self._state: tuple[str, str] | None = None
        """The last state told to listeners (a listener added later is told it at once)."""
        self._early: asyncio.Task[None] | None = None
        """The attempt :meth:`connect_early` started, until the first :meth:`connect` takes it."""
        self._resolved: SSHTarget | None = None
        """The ssh config, keys and known_hosts files resolved for the host (kept while
        attempts succeed; resolved again after a failed one, so a fixed setting is seen)."""

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

    @property
    def auth_stopped(self) -> bool:
        """True once authentication was refused :data:`AUTH_ATTEMPTS` times in a row."""
        return self.auth_failures >= AUTH_ATTEMPTS

    def reset(self) -> None:
        """Allow one more attempt after refused authentications (ctrl+r: the operator fixed
        the key); refused again, it stops again at once."""
        self.auth_failures = min(self.auth_failures, AUTH_ATTEMPTS - 1)

    def add_listener(self, listener: Callable[[str, str], None]) -> None:
        """Call ``listener(state, message)`` on every connection state change (at once with
        the current state when there is one: the connection may have started before the UI)."""
        self._listeners.append(listener)
        if self._state is not None:
            listener(*self._state)

    def _notify(self, state: str, message: str = "") -> None:
        self._state = (state, message)
        for listener in list(self._listeners):
            listener(state, message)

    def _auth_message(self) -> str:
        who = f"{self._user}@{self.host}"
        return f"authentication refused for {who} — fix the key, then ctrl+r to retry"

    def _target(self) -> SSHTarget:
        if self._resolved is not None:
            return self._resolved
        cfg = self.config
        self._resolved = resolve_target(
            self.host,
            port=cfg.port,
            username=cfg.username,
            known_hosts=cfg.known_hosts,
            ssh_config=cfg.ssh_config,
            client_keys=list(cfg.client_keys),
        )
        return self._resolved

    def _options(self, target: SSHTarget, check: KnownHostsCheck) -> dict[str, Any]:
        cfg = self.config
        options: dict[str, Any] = {
            "connect_timeout": cfg.connect_timeout,
            "keepalive_interval": cfg.keepalive_interval,
            "keepalive_count_max": 3,
            "known_hosts": check,
            "config": target.config_paths or None,
        }
        if not target.ciphers:
            options["encryption_algs"] = CIPHERS
        if cfg.port:
            options["port"] = cfg.port
        if cfg.username:
            options["username"] = cfg.username
        if cfg.client_keys:
            options["client_keys"] = [_expand(key) for key in cfg.client_keys]
        return options

    def connect_early(self) -> None:
        """Start connecting now, in the background (the console calls this before its first
        frame, so the handshake runs while Textual starts).

        asyncssh is imported and the ssh config, keys and known_hosts are resolved in a thread,
        then the handshake runs on the loop. The first :meth:`connect` waits for this attempt
        and shares its outcome, its error too (the attempt is counted once).
        """
        if self._early is not None or self.is_connected:
            return
        self._early = task = asyncio.get_running_loop().create_task(self._connect_early())
        task.add_done_callback(_retrieved)

    async def _connect_early(self) -> None:
        await asyncio.to_thread(self._prepare)
        await self._connect_now()

    def _prepare(self) -> None:
        """Import asyncssh and resolve the target (in a worker thread). A settings error is
        left for the attempt itself, which raises it again and explains it."""
        import asyncssh as module

        globals()["asyncssh"] = module
        try:
            self._target()
        except (MissingFile, OSError, ValueError):
            self._resolved = None

    async def connect(self) -> None:
        """Open the connection (a no-op when already connected); raise :class:`NodeError`.

        Callers that waited while an attempt failed share its error: a burst of commands
        costs one attempt, not one each; the first call after :meth:`connect_early` shares
        that attempt's outcome.
        """
        early, self._early = self._early, None
        if early is not None:
            try:
                await asyncio.shield(early)
            except NodeError as error:
                raise NodeError(error.message, kind=error.kind) from None
            except asyncio.CancelledError:
                if not early.cancelled():
                    raise  # this caller was cancelled; the early attempt goes on
        await self._connect_now()

    async def _connect_now(self) -> None:
        attempt = self._attempt
        async with self._lock:
            if self.is_connected:
                return
            if attempt != self._attempt and self._failure_error is not None:
                raise NodeError(self._failure_error.message, kind=self._failure_error.kind)
            if self.auth_stopped:
                error = NodeError(self._auth_message(), kind="auth")
                self._notify("down", error.message)
                raise error
            self._notify("connecting", f"connecting to {self.host_label}")
            check: KnownHostsCheck | None = None
            try:
                target = self._target()
                self._user = target.user
                check = KnownHostsCheck(target)
                self.connects += 1
                conn = await asyncssh.connect(self.host, **self._options(target, check))
            except BaseException as exc:  # mapped to one clear line below
                if isinstance(exc, asyncio.CancelledError):
                    raise
                error = self._explain(exc, check)
                if error.kind == "auth":
                    self.auth_failures += 1
                self._attempt += 1
                self._failure_error = error
                self._resolved = None
                self._notify("down" if error.kind in DOWN_KINDS else "lost", error.message)
                raise error from None
            self._attempt += 1
            self._failure_error = None
            self.auth_failures = 0
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
        """Close the connection (and stop an early attempt still under way)."""
        early, self._early = self._early, None
        if early is not None and not early.done():
            early.cancel()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            with contextlib.suppress(asyncssh.Error, OSError):  # closing: its last error is moot
                await conn.wait_closed()
        self._notify("closed", "")

    async def _connection(self) -> asyncssh.SSHClientConnection:
        await self.connect()
        if self._conn is None:  # closed meanwhile (a node switch, the app quitting)
            raise NodeError(f"not connected to {self.host_label}: press ctrl+r", kind="lost")
        return self._conn

    def _explain(self, exc: BaseException, check: KnownHostsCheck | None) -> NodeError:
        """Turn a connection failure into one clear line, saying how to fix it; never raises."""
        try:
            return self._explain_unsafe(exc, check)
        except Exception as inner:  # the diagnosis itself must never hide the failure
            return NodeError(
                f"cannot connect to {self.host_label}: {type(exc).__name__}: {exc} "
                f"(diagnosis failed: {inner})",
                kind="error",
            )

    def _explain_unsafe(self, exc: BaseException, check: KnownHostsCheck | None) -> NodeError:
        target = self.host_label
        if isinstance(exc, MissingFile):
            return NodeError(exc.message, kind="config")
        hostkey = isinstance(exc, asyncssh.HostKeyNotVerifiable) or (
            isinstance(exc, asyncssh.KeyExchangeFailed) and check is not None and check.trusted
        )
        if hostkey and check is not None and check.called:
            return NodeError(check.explain(target), kind="hostkey")
        if isinstance(exc, asyncssh.HostKeyNotVerifiable):
            return NodeError(f"host key of {target} refused: {exc.reason}", kind="hostkey")
        if isinstance(exc, asyncssh.PermissionDenied):
            return NodeError(self._auth_message(), kind="auth")
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
        if isinstance(exc, OSError) and exc.filename:
            return NodeError(
                f"cannot read {exc.filename}: {exc.strerror or exc} (an SSH setting for {target})",
                kind="config",
            )
        if isinstance(exc, OSError):
            return NodeError(f"cannot reach {target}: {exc.strerror or exc}", kind="refused")
        if isinstance(exc, (ValueError, asyncssh.KeyImportError)):
            return NodeError(f"cannot use the SSH settings for {target}: {exc}", kind="config")
        return NodeError(f"{type(exc).__name__} talking to {target}: {exc}", kind="error")

    def _failure(self, exc: BaseException, conn: Any, command: str) -> NodeError:
        """A failure on a channel: "lost" only when the transport went down with it."""
        if conn.is_closed() or isinstance(exc, asyncssh.ConnectionLost):
            return NodeError(f"connection to {self.host_label} lost: {exc}", kind="lost")
        if isinstance(exc, asyncssh.ChannelOpenError):
            return NodeError(
                f"{self.host_label} refused a session for `{_short(command)}`: {exc.reason}",
                kind="command",
            )
        return NodeError(f"`{_short(command)}` failed: {exc}", kind="command")

    async def _open(self, conn: Any, command: str, **kwargs: Any) -> Any:
        """Open a session for ``command``; a refused session (the server's session limit) is
        retried twice before it becomes a command error."""
        for attempt in range(3):
            try:
                return await conn.create_process(command, encoding=None, **kwargs)
            except (asyncssh.Error, OSError) as exc:
                error = self._failure(exc, conn, command)
                if error.kind != "command" or attempt == 2:
                    raise error from None
                await asyncio.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    # -- commands ---------------------------------------------------------------------------

    async def _execute(self, command: str, timeout: float | None) -> Any:
        """Run ``command`` to its end; its output stays raw bytes."""
        conn = await self._connection()
        async with self._sessions:
            process = await self._open(conn, command)
            try:
                result = await asyncio.wait_for(process.wait(), timeout)
            except (asyncssh.Error, OSError) as exc:
                raise self._failure(exc, conn, command) from None
            except TimeoutError:
                raise NodeError(
                    f"`{_short(command)}` took longer than {timeout:g}s", kind="command"
                ) from None
            finally:
                process.close()
        if result.exit_status is None and result.exit_signal is None and conn.is_closed():
            raise NodeError(f"connection to {self.host_label} lost", kind="lost")
        return result

    async def run(
        self, command: str, *, check: bool = False, timeout: float | None = 60.0
    ) -> CommandResult:
        """Run ``command`` and return its decoded output.

        With ``check``, a non-zero exit status raises :class:`NodeError` (kind ``command``)
        naming the command's first line of stderr. Only a transport failure raises kind
        ``lost``; a command that fails, times out or is refused a session never does.
        """
        result = await self._execute(command, timeout)
        out = CommandResult(
            command, decode(result.stdout), decode(result.stderr), result.exit_status
        )
        if check and not out.ok:
            first = (out.stderr.strip().splitlines() or [f"exit status {out.exit_status}"])[0]
            raise NodeError(f"`{_short(command)}` failed: {first}", kind="command")
        return out

    async def stream(
        self, command: str, *, chunk_size: int = 65536, merge_stderr: bool = False
    ) -> AsyncGenerator[bytes, None]:
        """Yield ``command``'s stdout as raw byte chunks until it ends.

        When the loop is left early, the remote command is sent SIGTERM and its channel closed.
        After a normal end, :attr:`last_exit_status` and :attr:`last_stderr` hold the outcome.
        Raises :class:`NodeError` of kind ``lost`` when the connection is lost mid-stream.
        """
        conn = await self._connection()
        stderr_target = asyncssh.STDOUT if merge_stderr else asyncssh.PIPE
        process = await self._open(conn, command, stderr=stderr_target)
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
                except (asyncssh.Error, OSError) as exc:
                    raise self._failure(exc, conn, command) from None
                if not chunk:
                    break
                yield chunk
            if drainer is not None:
                with contextlib.suppress(asyncssh.Error, OSError):  # stdout ended cleanly
                    await drainer
            await process.wait_closed()
            if process.exit_status is None and process.exit_signal is None and conn.is_closed():
                raise NodeError(f"connection to {self.host_label} lost", kind="lost")
            finished = True
            self.last_exit_status = process.exit_status
            self.last_stderr = decode(b"".join(stderr_parts))
        finally:
            if drainer is not None and not drainer.done():
                drainer.cancel()
            if not finished:
                _stop(process)

    async def read_file(self, path: str, *, limit: int = 64 * 1024 * 1024) -> bytes:
        """Return a remote file's bytes (at most ``limit``); raise :class:`NodeError`."""
        command = f"head -c {int(limit)} -- {shlex.quote(path)}"
        result = await self._execute(command, None)
        if result.exit_status != 0:
            reason = decode(result.stderr).strip().splitlines()
            raise NodeError(
                f"cannot read {path}: {reason[0] if reason else 'failed'}", kind="command"
            )
        data = result.stdout
        return data if isinstance(data, bytes) else decode(data).encode()


def _retrieved(task: asyncio.Task[None]) -> None:
    """Mark an early attempt's outcome as seen: its error reaches the operator through the
    first :meth:`NodeConnection.connect` (and the listeners), not asyncio's log."""
    if not task.cancelled():
        task.exception()


def _stop(process: Any) -> None:
    """Send SIGTERM to a remote command left early and close its channel (best effort: the
    channel may already be gone with the connection)."""
    for step in (lambda: process.send_signal("TERM"), process.close):
        with contextlib.suppress(asyncssh.Error, OSError, RuntimeError):  # already closed
            step()


def _short(command: str, width: int = 60) -> str:
    command = " ".join(command.split())
    return command if len(command) <= width else command[: width - 1] + "…"


def default_username() -> str:
    """The local user name, as ssh would use it."""
    return getpass.getuser()
