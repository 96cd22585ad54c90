"""Node access against a real in-process asyncssh server on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from redfix_tui.demo.server import LocalShellServer
from redfix_tui.node import NodeConnection, NodeError
from tests.conftest import SSHFiles, node_config_for


async def test_run_returns_output_and_status(node: NodeConnection) -> None:
    result = await node.run("echo hello; echo oops >&2; exit 3")
    assert result.stdout == "hello\n"
    assert result.stderr == "oops\n"
    assert result.exit_status == 3
    with pytest.raises(NodeError, match="failed: oops"):
        await node.run("echo oops >&2; exit 3", check=True)


async def test_invalid_utf8_does_not_kill_the_connection(node: NodeConnection) -> None:
    result = await node.run(r"printf 'ok \377\376 bytes\n'")
    assert result.stdout == "ok \ufffd\ufffd bytes\n"
    chunks = [chunk async for chunk in node.stream(r"printf 'a\377b\n'")]
    assert b"".join(chunks) == b"a\xffb\n"
    assert (await node.run("echo still-alive")).stdout == "still-alive\n"


async def test_stream_yields_chunks_and_exit_status(node: NodeConnection) -> None:
    data = b"".join([c async for c in node.stream("seq 1 100000; exit 7")])
    assert data.decode().split() == [str(i) for i in range(1, 100001)]
    assert node.last_exit_status == 7


async def test_read_file(node: NodeConnection, tmp_path) -> None:
    (tmp_path / "x.bin").write_bytes(b"\x00\xffdata")
    assert await node.read_file(str(tmp_path / "x.bin")) == b"\x00\xffdata"
    with pytest.raises(NodeError, match="cannot read"):
        await node.read_file(str(tmp_path / "missing"))


async def test_leaving_a_stream_early_stops_the_remote_command(
    node: NodeConnection, ssh_server: LocalShellServer, tmp_path
) -> None:
    marker = tmp_path / "alive"
    command = f"while :; do date > {marker}; echo tick; sleep 0.05; done"
    async for _chunk in node.stream(command):
        break
    await asyncio.sleep(0.3)
    marker.unlink()
    await asyncio.sleep(0.3)
    assert not marker.exists(), "the remote loop kept running after the stream was left"


async def test_dropped_connection_raises_lost(
    node: NodeConnection, ssh_server: LocalShellServer
) -> None:
    with pytest.raises(NodeError) as info:
        async for _chunk in node.stream("while :; do echo x; sleep 0.05; done"):
            await ssh_server.drop_connections()
    assert info.value.kind == "lost"
    await node.connect()  # reconnects on demand
    assert (await node.run("echo back")).stdout == "back\n"


async def test_unknown_host_key_is_refused(ssh_server: LocalShellServer, ssh_files: SSHFiles):
    ssh_files.known_hosts.write_text("")
    connection = NodeConnection(node_config_for(ssh_files, ssh_server.port))
    with pytest.raises(NodeError, match="not in") as info:
        await connection.connect()
    assert info.value.kind == "hostkey"


async def test_changed_host_key_is_refused_and_says_so(
    ssh_server: LocalShellServer, ssh_files: SSHFiles
) -> None:
    other = LocalShellServer(client_public_key=ssh_files.public_key)
    await other.start()
    try:
        other.port, port = ssh_server.port, other.port
        ssh_files.known_hosts.write_text(other.known_hosts_line())  # a different key, same host
        other.port = port
        connection = NodeConnection(node_config_for(ssh_files, ssh_server.port))
        with pytest.raises(NodeError, match="CHANGED") as info:
            await connection.connect()
        assert "possible attack" in info.value.message
        assert "line 1" in info.value.message
        assert "ssh-keyscan" not in info.value.message  # never invite to trust it blindly
    finally:
        await other.close()


async def test_wrong_client_key_is_refused(ssh_server: LocalShellServer, ssh_files: SSHFiles):
    from redfix_tui.demo.server import new_client_key

    key, _public = new_client_key()
    key.write_private_key(str(ssh_files.client_key))
    connection = NodeConnection(node_config_for(ssh_files, ssh_server.port))
    with pytest.raises(NodeError, match="authentication refused") as info:
        await connection.connect()
    assert info.value.kind == "auth"


async def test_connection_refused_and_unknown_host(ssh_files: SSHFiles) -> None:
    server = LocalShellServer(client_public_key=ssh_files.public_key)
    await server.start()
    port = server.port
    await server.close()
    with pytest.raises(NodeError, match="refused") as info:
        await NodeConnection(node_config_for(ssh_files, port)).connect()
    assert info.value.kind == "refused"
    with pytest.raises(NodeError, match="unknown host") as info:
        await NodeConnection(node_config_for(ssh_files, 22, host="no-such-host.invalid")).connect()
    assert info.value.kind == "host"


async def test_a_burst_of_commands_costs_one_failed_attempt(
    ssh_server: LocalShellServer, ssh_files: SSHFiles
) -> None:
    from redfix_tui.demo.server import new_client_key

    key, _public = new_client_key()
    key.write_private_key(str(ssh_files.client_key))
    connection = NodeConnection(node_config_for(ssh_files, ssh_server.port))
    results = await asyncio.gather(
        *(connection.run(f"echo {i}") for i in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, NodeError) and r.kind == "auth" for r in results)
    assert connection.connects == 1 and connection.auth_failures == 1
