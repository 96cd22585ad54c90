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
    RECONNECTING,
    WAITING,
    Backoff,
    RemoteCommandStream,
    RemoteTail,
    StreamState,
)
from redfix_tui.node import NodeConnection

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
            await ssh_server.drop_connections()
            drops += 1
            await _wait_for(lambda: tail.state.status == CONNECTED)
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
    assert sum(1 for c in ssh_server.commands if c.startswith("tail -c +1 ")) == 1


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
