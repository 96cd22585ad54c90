"""Start OpenSSH's sshd on a free 127.0.0.1 port with a temporary host key, for tests."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
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
