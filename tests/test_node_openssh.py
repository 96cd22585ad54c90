"""Node access against OpenSSH's sshd, started by the test on a free loopback port."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from redfix_tui.node import NodeConnection, NodeError
from tests.conftest import SSHFiles, node_config_for

pytestmark = pytest.mark.sshd


async def test_run_and_stream(sshd_node: NodeConnection) -> None:
    result = await sshd_node.run("echo hello; echo err >&2; exit 4")
    assert (result.stdout, result.stderr, result.exit_status) == ("hello\n", "err\n", 4)
    data = b"".join([c async for c in sshd_node.stream("seq 1 200000")])
    assert data.split() == [str(i).encode() for i in range(1, 200001)]
    assert sshd_node.last_exit_status == 0


async def test_invalid_utf8_keeps_connection(sshd_node: NodeConnection) -> None:
    result = await sshd_node.run(r"printf 'x\377\300y\n'")
    assert result.stdout == "x\ufffd\ufffdy\n"
    assert (await sshd_node.run("echo alive")).stdout == "alive\n"


async def test_leaving_stream_terminates_remote_command(sshd_node: NodeConnection, tmp_path):
    marker = tmp_path / "beat"
    async for _chunk in sshd_node.stream(f"while :; do touch {marker}; echo t; sleep 0.05; done"):
        break
    await asyncio.sleep(0.5)
    marker.unlink(missing_ok=True)
    await asyncio.sleep(0.5)
    assert not marker.exists()


async def test_changed_host_key_is_refused(sshd, ssh_files: SSHFiles, tmp_path) -> None:
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    kind, key = other.with_suffix(".pub").read_text().split()[:2]
    ssh_files.known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {kind} {key}\n")
    with pytest.raises(NodeError, match="CHANGED"):
        await NodeConnection(node_config_for(ssh_files, sshd.port)).connect()


async def test_unknown_host_key_is_refused(sshd, ssh_files: SSHFiles) -> None:
    ssh_files.known_hosts.write_text("")
    with pytest.raises(NodeError, match="not in"):
        await NodeConnection(node_config_for(ssh_files, sshd.port)).connect()


async def test_wrong_key_is_refused(sshd, ssh_files: SSHFiles) -> None:
    from redfix_tui.demo.server import new_client_key

    key, _ = new_client_key()
    key.write_private_key(str(ssh_files.client_key))
    with pytest.raises(NodeError, match="authentication refused"):
        await NodeConnection(node_config_for(ssh_files, sshd.port)).connect()


async def test_ssh_config_host_alias_is_honoured(sshd, ssh_files: SSHFiles) -> None:
    ssh_files.ssh_config.write_text(
        f"Host fake-cc-ci\n  HostName 127.0.0.1\n  Port {sshd.port}\n"
        f"  IdentityFile {ssh_files.client_key}\n"
    )
    config = node_config_for(ssh_files, 0, host="fake-cc-ci")
    config.client_keys = []
    connection = NodeConnection(config)
    try:
        assert (await connection.run("echo via-alias")).stdout == "via-alias\n"
    finally:
        await connection.close()
