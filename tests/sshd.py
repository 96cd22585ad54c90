"""Start OpenSSH's sshd on a free 127.0.0.1 port with a temporary host key, for tests; and a
latency proxy to put in front of it."""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")


def find_sshd() -> str | None:
    """Return the sshd binary, or None when OpenSSH server is not installed."""
    for candidate in SSHD_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("sshd")


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SSHD:
    """A running sshd: its port, host public key line and process."""

    port: int
    host_public_key: str
    process: subprocess.Popen[bytes]
    log: Path

    def known_hosts_line(self) -> str:
        """The known_hosts line pinning this sshd's host key."""
        return f"[127.0.0.1]:{self.port} {self.host_public_key}\n"

    def stop(self) -> None:
        """Terminate sshd (and so every session it serves)."""
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_sshd(workdir: Path, authorized_key: str) -> SSHD:
    """Start sshd in the foreground on a free port, accepting only ``authorized_key``."""
    sshd = find_sshd()
    if sshd is None:
        if os.environ.get("CI"):
            pytest.fail("OpenSSH sshd is not installed (.ci/run must apt-get install it)")
        pytest.skip("OpenSSH sshd is not installed (apt-get install openssh-server)")
    workdir.mkdir(parents=True, exist_ok=True)
    host_key = workdir / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    authorized = workdir / "authorized_keys"
    authorized.write_text(authorized_key.strip() + "\n")
    authorized.chmod(0o600)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    port = free_port()
    config = workdir / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
        f"PidFile {workdir / 'sshd.pid'}\nAuthorizedKeysFile {authorized}\n"
        f"AllowUsers {getpass.getuser()}\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nLogLevel VERBOSE\n"
        "MaxStartups 50\nMaxSessions 50\nClientAliveInterval 5\n"
    )
    log = workdir / "sshd.log"
    process = subprocess.Popen(
        [sshd, "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"sshd exited at start: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("sshd did not start listening within 10s")
    public = (host_key.with_suffix(".pub")).read_text().split()
    return SSHD(port, f"{public[0]} {public[1]}", process, log)


class LatencyProxy:
    """A TCP proxy on 127.0.0.1 that delays each direction by ``delay`` seconds, in order.

    It runs its own event loop in a daemon thread (independent of the test's loop), so the
    delay holds however busy the test is. Each direction is a bounded queue of chunks stamped
    with their due time; a full queue stops reading (back-pressure), so memory stays bounded.
    :meth:`close` stops every connection and the thread.
    """

    QUEUE_CHUNKS = 256
    CHUNK = 65536

    def __init__(self, target_port: int, delay: float = 0.06) -> None:
        self.target_port = target_port
        self.delay = delay
        self.port = 0
        self.connections = 0
        """How many client connections it has accepted."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> LatencyProxy:
        """Listen on a free port (see :attr:`port`) and start forwarding."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(10)
        return self

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            self._tasks.discard(task)
            return
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            for end in (writer, up_writer):
                end.close()
            self._tasks.discard(task)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Copy ``source`` to ``sink``, each chunk ``delay`` seconds after it was read."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(self.QUEUE_CHUNKS)

        async def read() -> None:
            try:
                while chunk := await source.read(self.CHUNK):
                    await queue.put((loop.time() + self.delay, chunk))
            except OSError:
                pass  # the peer reset the connection: deliver what came, then end
            await queue.put((loop.time() + self.delay, b""))

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    if sink.can_write_eof() and not sink.is_closing():
                        sink.write_eof()
                    return
                sink.write(chunk)
                await sink.drain()

        reader = asyncio.ensure_future(read())
        try:
            await deliver()
        except OSError:
            sink.close()  # the other side is gone: stop reading this side too
        finally:
            reader.cancel()

    def close(self) -> None:
        """Stop listening, drop every connection and stop the thread."""

        async def shut() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.sleep(0)

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(shut(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self._loop.close()
