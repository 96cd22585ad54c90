"""Node access against OpenSSH's sshd, started by the test on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
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


async def test_refused_authentication_stops_after_three_attempts(
    sshd, ssh_files: SSHFiles, tmp_path
) -> None:
    from redfix_tui.demo.server import new_client_key
    from redfix_tui.logs.spool import LogSpool
    from redfix_tui.logs.tail import Backoff, RemoteTail

    right_key = ssh_files.client_key.read_bytes()
    key, _ = new_client_key()
    key.write_private_key(str(ssh_files.client_key))
    connection = NodeConnection(node_config_for(ssh_files, sshd.port))
    states: list[tuple[str, str]] = []
    connection.add_listener(lambda state, message: states.append((state, message)))
    expected = (
        f"authentication refused for {getpass.getuser()}@127.0.0.1 — fix the key, "
        "then ctrl+r to retry"
    )
    # The console's two callers at once: refresh ticks and a log tail retrying with backoff.
    spool = LogSpool()
    tail = RemoteTail(connection, str(tmp_path / "x.log"), spool, backoff=Backoff(0.1, 0.5))
    tail_task = asyncio.create_task(tail.run())
    loop = asyncio.get_running_loop()
    end = loop.time() + 8.0
    refused = 0
    try:
        while loop.time() < end:
            with pytest.raises(NodeError) as info:
                await connection.connect()
            assert info.value.kind == "auth" and info.value.message == expected
            refused += 1
            await asyncio.sleep(0.2)
    finally:
        tail_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await tail_task
        spool.close()
    log = sshd.log.read_text()
    assert log.count("Failed publickey") == 3, log
    probes = log.count("kex_exchange_identification")  # the fixture's is-it-listening check
    assert log.count("Connection from 127.0.0.1") - probes == 3, log
    assert connection.connects == 3 and connection.auth_stopped
    assert refused >= 20
    assert states[-1] == ("down", expected)
    assert expected in tail.state.describe()
    # ctrl+r: one more real attempt (the key is still wrong), then stopped again at once.
    connection.reset()
    for _ in range(3):
        with pytest.raises(NodeError, match="authentication refused"):
            await connection.connect()
    assert connection.connects == 4
    # With the key fixed, ctrl+r connects.
    ssh_files.client_key.write_bytes(right_key)
    with pytest.raises(NodeError, match="authentication refused"):
        await connection.connect()  # still stopped until reset
    connection.reset()
    try:
        assert (await connection.run("echo in")).stdout == "in\n"
    finally:
        await connection.close()
    assert connection.connects == 5 and connection.auth_failures == 0


async def test_failing_commands_never_restart_the_tail_openssh(sshd_node, tmp_path) -> None:
    from tests.test_log_tail import assert_failing_commands_leave_the_tail_alone

    await assert_failing_commands_leave_the_tail_alone(sshd_node, tmp_path / "steady.log", 3)


async def test_many_commands_at_once_stay_within_the_session_limit(
    sshd, ssh_files: SSHFiles, tmp_path
) -> None:
    """40 commands at once, next to a tail, against sshd allowing 10 sessions: none refused."""
    from tests.sshd import start_sshd

    sshd.stop()
    limited = start_sshd(tmp_path / "limited", ssh_files.public_key)
    config_file = tmp_path / "limited" / "sshd_config"
    assert "MaxSessions 50" in config_file.read_text()
    limited.stop()
    config_file.write_text(config_file.read_text().replace("MaxSessions 50", "MaxSessions 10"))
    process = subprocess.Popen(
        [limited.process.args[0], "-D", "-e", "-f", str(config_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ssh_files.known_hosts.write_text(limited.known_hosts_line())
        connection = NodeConnection(node_config_for(ssh_files, limited.port))
        for _ in range(100):
            try:
                await connection.connect()
                break
            except NodeError:
                await asyncio.sleep(0.05)
        stream = connection.stream("while :; do echo t; sleep 0.1; done")
        await stream.__anext__()
        results = await asyncio.gather(*(connection.run(f"echo {i}") for i in range(40)))
        assert [r.stdout for r in results] == [f"{i}\n" for i in range(40)]
        await stream.aclose()
        await connection.close()
    finally:
        process.terminate()
        process.wait(5)
