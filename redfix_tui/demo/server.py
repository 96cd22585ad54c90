"""An in-process SSH server on 127.0.0.1 that runs each exec request through ``/bin/sh``.

It backs the embedded demo node and the tests: a real asyncssh server with a fresh host key,
accepting exactly one client key, so the console connects to it through the same code path as to
cc-ci (host-key verification included). Each command runs in its own process group, killed when
the client closes the channel or the connection drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import asyncssh


class _Server(asyncssh.SSHServer):
    """Tracks live connections so they can be dropped on purpose."""

    def __init__(self, owner: LocalShellServer) -> None:
        self._owner = owner
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._owner.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._owner.connections.discard(self._conn)


class LocalShellServer:
    """A loopback SSH server executing commands with a given working directory and environment."""

    def __init__(
        self,
        *,
        client_public_key: str,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        host_key: asyncssh.SSHKey | None = None,
    ) -> None:
        self.host_key = host_key or asyncssh.generate_private_key("ssh-ed25519")
        self.client_public_key = client_public_key
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self._processes: set[asyncio.subprocess.Process] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self.port = 0
        self.commands: list[str] = []
        """Every command received, in order (the tests read it)."""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (port 0 picks a free one, stored in :attr:`port`)."""
        self._acceptor = await asyncssh.create_server(
            lambda: _Server(self),
            host,
            port,
            server_host_keys=[self.host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(self.client_public_key),
            process_factory=self._handle,
            encoding=None,
            allow_scp=False,
            x11_forwarding=False,
            agent_forwarding=False,
        )
        self.port = self._acceptor.sockets[0].getsockname()[1]

    def known_hosts_line(self, host: str = "127.0.0.1") -> str:
        """The known_hosts line that pins this server's host key."""
        key = self.host_key.export_public_key("openssh").decode().strip()
        return f"[{host}]:{self.port} {key}\n"

    async def _handle(self, process: asyncssh.SSHServerProcess) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        command = process.command or ""
        self.commands.append(command)
        try:
            proc = await asyncio.create_subprocess_exec(
                "/bin/sh",
                "-c",
                command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
            )
        except OSError as exc:
            process.stderr.write(f"cannot start shell: {exc}\n".encode())
            process.exit(127)
            return
        self._processes.add(proc)
        pumps = asyncio.gather(
            _pump(proc.stdout, process.stdout), _pump(proc.stderr, process.stderr)
        )
        feeder = asyncio.ensure_future(_feed(process.stdin, proc.stdin))
        closed = asyncio.ensure_future(process.channel.wait_closed())
        try:
            waiting: set[asyncio.Future[Any]] = {pumps, closed}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if closed.done():
                _kill_group(proc)
                return
            status = await proc.wait()
            process.exit(128 - status if status < 0 else status)
        except (asyncssh.Error, OSError):
            _kill_group(proc)
        finally:
            for pending in (closed, feeder, pumps):
                pending.cancel()
            await asyncio.gather(closed, feeder, pumps, return_exceptions=True)
            if proc.returncode is None:
                _kill_group(proc)
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            with contextlib.suppress(asyncio.TimeoutError, ProcessLookupError):
                await asyncio.wait_for(proc.wait(), 5)
            transport = getattr(proc, "_transport", None)
            if transport is not None:
                transport.close()  # close the pipes now, not at GC after the loop is gone
            self._processes.discard(proc)

    async def drop_connections(self) -> None:
        """Abort every live connection, as a network drop would, and kill their commands."""
        for conn in list(self.connections):
            conn.abort()
        for proc in list(self._processes):
            _kill_group(proc)
        await asyncio.sleep(0)

    async def close(self) -> None:
        """Stop listening, drop connections, kill remaining commands and reap them."""
        await self.drop_connections()
        if self._handlers:  # each handler reaps its command and closes its pipes
            await asyncio.wait(set(self._handlers), timeout=10)
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None


async def _pump(source: asyncio.StreamReader | None, sink: asyncssh.SSHWriter) -> None:
    """Copy a subprocess pipe to the SSH channel, honouring the channel's flow control."""
    if source is None:
        return
    while chunk := await source.read(65536):
        sink.write(chunk)
        await sink.drain()


async def _feed(source: asyncssh.SSHReader, sink: asyncio.StreamWriter | None) -> None:
    """Copy the client's stdin to the subprocess, closing it at EOF."""
    if sink is None:
        return
    with contextlib.suppress(asyncssh.Error, OSError, BrokenPipeError, ConnectionResetError):
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    with contextlib.suppress(OSError, BrokenPipeError):
        sink.close()


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)


def new_client_key() -> tuple[asyncssh.SSHKey, str]:
    """Generate a client key pair; return the private key and its public key line."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    return key, key.export_public_key("openssh").decode()
