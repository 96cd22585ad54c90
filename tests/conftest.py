"""Shared fixtures: real SSH servers on 127.0.0.1 and node connections to them."""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from redfix_tui.config import Config, NodeConfig
from redfix_tui.demo.launch import DemoNodeServer
from redfix_tui.demo.server import LocalShellServer, new_client_key
from redfix_tui.node import NodeConnection


@dataclass
class SSHFiles:
    """Client-side files for one test server: the client key, known_hosts and an ssh config."""

    client_key: Path
    known_hosts: Path
    ssh_config: Path
    public_key: str


@pytest.fixture
def ssh_files(tmp_path: Path) -> SSHFiles:
    """A fresh client key pair and empty known_hosts/ssh config in a temp dir."""
    key, public = new_client_key()
    client_key = tmp_path / "client_key"
    key.write_private_key(str(client_key))
    client_key.chmod(0o600)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    ssh_config = tmp_path / "ssh_config"
    ssh_config.write_text("")
    return SSHFiles(client_key, known_hosts, ssh_config, public)


def node_config_for(files: SSHFiles, port: int, host: str = "127.0.0.1") -> NodeConfig:
    """A NodeConfig that reaches a loopback test server with the test's own key and pins."""
    return NodeConfig(
        host=host,
        port=port,
        username=getpass.getuser(),
        known_hosts=str(files.known_hosts),
        client_keys=[str(files.client_key)],
        ssh_config=str(files.ssh_config),
        connect_timeout=5.0,
        keepalive_interval=5.0,
    )


@pytest.fixture
async def ssh_server(ssh_files: SSHFiles, tmp_path: Path) -> AsyncIterator[LocalShellServer]:
    """An in-process asyncssh server on 127.0.0.1 whose host key is pinned in known_hosts."""
    server = LocalShellServer(client_public_key=ssh_files.public_key, cwd=tmp_path)
    await server.start()
    ssh_files.known_hosts.write_text(server.known_hosts_line())
    yield server
    await server.close()


@pytest.fixture
async def node(ssh_server: LocalShellServer, ssh_files: SSHFiles) -> AsyncIterator[NodeConnection]:
    """A connected NodeConnection to :func:`ssh_server`."""
    connection = NodeConnection(node_config_for(ssh_files, ssh_server.port))
    await connection.connect()
    yield connection
    await connection.close()


@pytest.fixture
def sshd(tmp_path: Path, ssh_files: SSHFiles):
    """OpenSSH sshd on a free 127.0.0.1 port, pinned in known_hosts, accepting the test key."""
    from tests.sshd import start_sshd

    server = start_sshd(tmp_path / "sshd", ssh_files.public_key)
    ssh_files.known_hosts.write_text(server.known_hosts_line())
    yield server
    server.stop()


@pytest.fixture
async def sshd_node(sshd, ssh_files: SSHFiles) -> AsyncIterator[NodeConnection]:
    """A connected NodeConnection to the OpenSSH :func:`sshd`."""
    connection = NodeConnection(node_config_for(ssh_files, sshd.port))
    await connection.connect()
    yield connection
    await connection.close()


DATA = Path(__file__).resolve().parent / "data"
"""Files the tests read, kept in the repository (copies of the reference journal and more)."""


@pytest.fixture
def reference_journal() -> Path:
    """The reference phase journal (tests/data/JOURNAL-redfix.md); copy it before writing."""
    return DATA / "JOURNAL-redfix.md"


@pytest.fixture
def flattened_journal() -> Path:
    """The reference journal with its line breaks lost (tests/data/…flattened.txt)."""
    return DATA / "JOURNAL-redfix.flattened.txt"


@pytest.fixture
def slow_sshd(sshd, ssh_files: SSHFiles):
    """:func:`sshd` behind a proxy that delays each direction by 60 ms (a distant node); the
    host key is pinned under the proxy's port too. Connect to ``slow_sshd.port``."""
    from tests.sshd import LatencyProxy

    proxy = LatencyProxy(sshd.port, delay=0.06).start()
    with ssh_files.known_hosts.open("a") as handle:
        handle.write(f"[127.0.0.1]:{proxy.port} {sshd.host_public_key}\n")
    yield proxy
    proxy.close()


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[DemoNodeServer, Config]]:
    """A demo node whose reruns take about 9 s."""
    from tests.demo_session import serve_demo

    served, config = await serve_demo(tmp_path / "demo", speed=0.15)
    yield served, config
    await served.close()
