"""RemoteTail / RemoteCommandStream against the real in-process SSH server (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from redfix_tui.demo.server import LocalShellServer
from redfix_tui.logs.spool import LogSpool
from redfix_tui.logs.tail import (
    CONNECTED,
    CONNECTING,
    ENDED,
    MARK_REPLACED,
    MARK_TRUNCATED,
    RECONNECTING,
    RETRYING,
    WAITING,
    Backoff,
    RemoteCommandStream,
    RemoteTail,
    StreamState,
)
from redfix_tui.node import NodeConnection, NodeError
from tests.conftest import node_config_for

FAST = Backoff(first=0.05, limit=0.2)


async def _wait_for(predicate, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_drops_mid_stream_lose_and_duplicate_nothing(
    node: NodeConnection, ssh_server: LocalShellServer, tmp_path: Path
) -> None:
    total = 60000
    log = tmp_path / "run.log"
    log.write_bytes(b"")
    states: list[StreamState] = []
    spool = LogSpool()
    tail = RemoteTail(node, str(log), spool, on_state=states.append, backoff=FAST)
    task = asyncio.create_task(tail.run())

    async def writer() -> None:
        with log.open("ab") as f:
            for start in range(1, total + 1, 1000):
                f.write(b"".join(b"%d\n" % i for i in range(start, start + 1000)))
                f.flush()
                await asyncio.sleep(0.01)

    writing = asyncio.create_task(writer())
    drops = 0
    try:
        for threshold in (5000, 15000, 30000, 45000):
            await _wait_for(lambda t=threshold: spool.line_count >= t)
            starts = tail.starts
            await ssh_server.drop_connections()
            drops += 1
            await _wait_for(lambda n=starts: tail.starts > n and tail.state.status == CONNECTED)
        await writing
        await _wait_for(lambda: spool.complete_lines >= total)
        await asyncio.sleep(0.2)  # anything duplicated would arrive now
    finally:
        tail.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    numbers = [int(spool.read_line(i)) for i in range(spool.line_count)]
    spool.close()
    assert numbers == list(range(1, total + 1))
    reconnects = [s for s in states if s.status == RECONNECTING]
    assert len(reconnects) >= drops == 4
    assert reconnects[0].attempt == 1
    assert "RECONNECTING attempt 1, next try in" in reconnects[0].describe()
    followers = [c for c in ssh_server.commands if c.startswith("exec python3 -c ")]
    assert len(followers) == tail.starts == drops + 1
    # Offset 0 with no identity only at first; every resume names the inode and offset held.
    assert [c.split()[-4:-2] == ["0", "-"] for c in followers] == [True] + [False] * drops


async def test_truncated_file_gets_a_marker_and_restarts(
    node: NodeConnection, ssh_server: LocalShellServer, tmp_path: Path
) -> None:
    log = tmp_path / "run.log"
    log.write_bytes(b"old 1\nold 2\nold 3\n")
    spool = LogSpool()
    tail = RemoteTail(node, str(log), spool, backoff=Backoff(first=0.3, limit=0.3))
    task = asyncio.create_task(tail.run())
    try:
        await _wait_for(lambda: spool.complete_lines == 3)
        await ssh_server.drop_connections()
        await _wait_for(lambda: tail.state.status == RECONNECTING)
        log.write_bytes(b"new 1\n")
        await _wait_for(lambda: spool.complete_lines == 5)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    lines = [spool.read_line(i) for i in range(spool.line_count)]
    spool.close()
    assert lines[:3] == ["old 1", "old 2", "old 3"]
    assert "truncated" in lines[3]
    assert lines[4] == "new 1"


async def test_command_stream_reports_its_exit_status(node: NodeConnection) -> None:
    states: list[StreamState] = []
    with LogSpool() as spool:
        stream = RemoteCommandStream(node, "seq 1 5; exit 3", spool, on_state=states.append)
        assert await stream.run() == 3
        assert [spool.read_line(i) for i in range(5)] == ["1", "2", "3", "4", "5"]
        assert "stream ended, exit status 3" in spool.read_line(5)
    assert states[-1].status == ENDED and states[-1].exit_status == 3
    assert states[-1].describe() == "stream ended, exit status 3"


async def test_paths_are_quoted(node: NodeConnection, ssh_server, tmp_path: Path) -> None:
    log = tmp_path / "it's a log; rm -rf x.log"
    log.write_bytes(b"safe\n")
    with LogSpool() as spool:
        tail = RemoteTail(node, str(log), spool, backoff=FAST)
        task = asyncio.create_task(tail.run())
        try:
            await _wait_for(lambda: spool.complete_lines == 1)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert spool.read_line(0) == "safe"


async def test_a_missing_file_is_waited_for_then_followed(
    node: NodeConnection, tmp_path: Path
) -> None:
    log = tmp_path / "not-yet.log"
    states: list[StreamState] = []
    with LogSpool() as spool:
        tail = RemoteTail(node, str(log), spool, on_state=states.append, backoff=FAST)
        task = asyncio.create_task(tail.run())
        try:
            await _wait_for(lambda: tail.state.status == WAITING)
            assert tail.state.describe() == f"waiting for {log} to appear (no log yet)"
            assert spool.line_count == 0
            log.write_bytes(b"first\n")
            await _wait_for(lambda: spool.complete_lines == 1)
            assert tail.state.status == CONNECTED
            assert spool.read_line(0) == "first"
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert [s.status for s in states][:3] == [CONNECTING, WAITING, CONNECTED]


async def test_a_removed_file_gets_a_marker_and_is_followed_from_its_start(
    node: NodeConnection, ssh_server: LocalShellServer, tmp_path: Path
) -> None:
    log = tmp_path / "rotating.log"
    log.write_bytes(b"old 1\nold 2\n")
    with LogSpool() as spool:
        tail = RemoteTail(node, str(log), spool, backoff=Backoff(first=0.3, limit=0.3))
        task = asyncio.create_task(tail.run())
        try:
            await _wait_for(lambda: spool.complete_lines == 2)
            log.unlink()
            await ssh_server.drop_connections()
            await _wait_for(lambda: tail.state.status == WAITING)
            log.write_bytes(b"new 1\n")
            await _wait_for(lambda: spool.complete_lines == 4)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        lines = [spool.read_line(i) for i in range(spool.line_count)]
    assert lines[:2] == ["old 1", "old 2"]
    assert "removed" in lines[2]
    assert lines[3] == "new 1"


async def _failing_commands(node: NodeConnection, missing: str) -> list[NodeError]:
    """Commands that fail in every way a command can; return the errors they raised."""
    errors: list[NodeError] = []
    assert (await node.run("exit 3")).exit_status == 3
    assert (await node.run("no-such-command-xyz")).exit_status == 127
    for attempt in (
        node.run(f"ls -- {missing}", check=True),
        node.run("cd /no/such/harness && ls", check=True),
        node.read_file(missing),
        node.run("sleep 5", timeout=0.1),
    ):
        try:
            await attempt
        except NodeError as error:
            errors.append(error)
    return errors


async def assert_failing_commands_leave_the_tail_alone(
    node: NodeConnection, log: Path, rounds: int = 8
) -> None:
    """A tail of a growing file while other commands fail over and over: it keeps streaming,
    one follower, no marker, no RECONNECTING, and the connection is never reported lost."""
    log.write_bytes(b"")
    node_states: list[str] = []
    node.add_listener(lambda state, _message: node_states.append(state))
    states: list[StreamState] = []
    spool = LogSpool()
    tail = RemoteTail(node, str(log), spool, on_state=states.append, backoff=FAST)
    task = asyncio.create_task(tail.run())
    written = 0
    errors: list[NodeError] = []
    try:
        for _round in range(rounds):
            with log.open("ab") as f:
                f.write(b"".join(b"%d\n" % i for i in range(written + 1, written + 201)))
            written += 200
            errors += await _failing_commands(node, str(log.parent / "missing"))
            await _wait_for(lambda n=written: spool.complete_lines == n)
        await asyncio.sleep(0.3)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    numbers = [int(spool.read_line(i)) for i in range(spool.line_count)]
    marks = list(spool.marks)
    spool.close()
    assert len(errors) == rounds * 4 and {e.kind for e in errors} == {"command"}
    assert all("\n" not in e.message for e in errors)
    assert numbers == list(range(1, written + 1)) and marks == []
    assert tail.starts == 1
    assert {s.status for s in states} == {CONNECTING, CONNECTED}
    assert "lost" not in node_states and node.is_connected


async def test_failing_commands_never_restart_the_tail(node: NodeConnection, tmp_path) -> None:
    await assert_failing_commands_leave_the_tail_alone(node, tmp_path / "steady.log")


async def test_a_rotation_while_live_gets_one_marker_and_no_restart_of_the_rest(
    node: NodeConnection, tmp_path: Path
) -> None:
    log = tmp_path / "live.log"
    log.write_bytes(b"a 1\na 2\na 3\n")
    with LogSpool() as spool:
        tail = RemoteTail(node, str(log), spool, backoff=FAST)
        task = asyncio.create_task(tail.run())
        try:
            await _wait_for(lambda: spool.complete_lines == 3)
            log.rename(tmp_path / "live.log.1")
            log.write_bytes(b"b 1\n")
            await _wait_for(lambda: spool.complete_lines == 5)
            with log.open("r+b") as f:
                f.truncate(0)
            with log.open("ab") as f:
                f.write(b"c 1\nc 2\nc 3\n")  # already longer than before the truncation
            await _wait_for(lambda: spool.complete_lines == 9)
            await asyncio.sleep(0.3)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        lines = [spool.read_line(i) for i in range(spool.line_count)]
    assert lines[:3] == ["a 1", "a 2", "a 3"] and lines[4] == "b 1"
    assert MARK_REPLACED in lines[3] and MARK_TRUNCATED in lines[5]
    assert lines[6:] == ["c 1", "c 2", "c 3"]
    assert [how for how, _ in tail.noticed] == ["live", "live"] and tail.starts == 3


async def test_the_follower_failing_is_retrying_not_reconnecting(
    node: NodeConnection, tmp_path: Path
) -> None:
    log = tmp_path / "a-directory.log"
    log.mkdir()
    states: list[StreamState] = []
    with LogSpool() as spool:
        tail = RemoteTail(node, str(log), spool, on_state=states.append, backoff=FAST)
        task = asyncio.create_task(tail.run())
        try:
            await _wait_for(lambda: tail.state.status == RETRYING)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert f"cannot read {log}: it is a directory" in tail.state.describe()
    assert tail.state.describe().startswith("RETRYING attempt 1, next try in")
    assert RECONNECTING not in {s.status for s in states}


async def test_without_python3_it_follows_with_tail_and_says_so(ssh_files, tmp_path: Path) -> None:
    import shutil

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("tail", "stat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    server = LocalShellServer(
        client_public_key=ssh_files.public_key, cwd=tmp_path, env={"PATH": str(bin_dir)}
    )
    await server.start()
    ssh_files.known_hosts.write_text(server.known_hosts_line())
    node = NodeConnection(node_config_for(ssh_files, server.port))
    log = tmp_path / "plain.log"
    log.write_bytes(b"1\n2\n")
    spool = LogSpool()
    tail = RemoteTail(node, str(log), spool, backoff=Backoff(first=0.3, limit=0.3))
    task = asyncio.create_task(tail.run())
    try:
        await _wait_for(lambda: spool.complete_lines == 3)
        with log.open("ab") as f:
            f.write(b"3\n")
        await _wait_for(lambda: spool.complete_lines == 4)
        await server.drop_connections()
        await _wait_for(lambda: tail.state.status == RECONNECTING)
        with log.open("ab") as f:
            f.write(b"4\n")
        await _wait_for(lambda: spool.complete_lines == 5)
        await server.drop_connections()
        await _wait_for(lambda: tail.state.status == RECONNECTING)
        log.write_bytes(b"new\n")
        await _wait_for(lambda: spool.complete_lines == 7)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await node.close()
        await server.close()
    lines = [spool.read_line(i) for i in range(spool.line_count)]
    spool.close()
    assert "no python3 on the node" in lines[0] and tail.plain
    assert lines[1:5] == ["1", "2", "3", "4"]
    assert MARK_TRUNCATED in lines[5] and lines[6] == "new"
