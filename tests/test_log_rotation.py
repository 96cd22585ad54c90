"""Exactly-once tail across rotation and dropped connections, on both test servers.

Ten rotations (five copytruncate, five mv + create), each combined with a dropped connection:
half of them rotate while the connection is down (and the new file grows past the old offset
before the tail is back), half rotate while the tail is live and drop right after. The file keeps
growing with numbered lines; every line must be seen exactly once, in order, with exactly one
marker per rotation.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from redfix_tui.logs.spool import LogSpool
from redfix_tui.logs.tail import (
    CONNECTED,
    MARK_REPLACED,
    MARK_TRUNCATED,
    RECONNECTING,
    Backoff,
    RemoteTail,
)
from redfix_tui.node import NodeConnection

BURST = 40


async def _wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _rotate(log: Path, kind: str) -> None:
    rotated = log.with_name(log.name + ".1")
    if kind == "copytruncate":
        shutil.copyfile(log, rotated)
        with log.open("r+b") as f:
            f.truncate(0)
    else:
        os.replace(log, rotated)
        log.write_bytes(b"")


async def _rotations(
    node: NodeConnection, drop: Callable[[], Awaitable[object]], log: Path, rotations: int = 10
) -> tuple[int, list[tuple[str, str]]]:
    """Run the scenario; return the number of lines written and how each rotation was seen."""
    spool = LogSpool()
    tail = RemoteTail(node, str(log), spool, backoff=Backoff(first=0.5, limit=0.5))
    written = 0

    def write(count: int) -> None:
        nonlocal written
        with log.open("ab") as f:
            f.write(b"".join(b"line %06d\n" % i for i in range(written + 1, written + count + 1)))
        written += count

    async def caught_up() -> None:
        await _wait_for(lambda: spool.complete_lines - len(spool.marks) == written)

    log.write_bytes(b"")
    task = asyncio.create_task(tail.run())
    expected_marks = []
    expected_how = []
    try:
        write(BURST)
        await caught_up()
        for i in range(rotations):
            kind = "copytruncate" if i % 2 == 0 else "mv"
            while_down = i in (0, 1, 4, 7, 8)  # each kind both ways, 5 and 5
            write(BURST)
            await caught_up()
            if while_down:
                starts = tail.starts
                await drop()
                await _wait_for(lambda: tail.state.status == RECONNECTING)
                _rotate(log, kind)
                write(BURST * 3)  # the new file grows past the old offset while disconnected
            else:
                _rotate(log, kind)
                write(BURST)
                await caught_up()
                starts = tail.starts
                await drop()
                write(BURST)
            await _wait_for(lambda n=starts: tail.starts > n and tail.state.status == CONNECTED)
            await caught_up()
            expected_marks.append(MARK_TRUNCATED if kind == "copytruncate" else MARK_REPLACED)
            expected_how.append("resume" if while_down else "live")
        write(BURST)
        await caught_up()
        await asyncio.sleep(0.5)  # anything shown twice would arrive now
    finally:
        tail.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    lines = [spool.read_line(i) for i in range(spool.line_count)]
    marks = [lines[i] for i in spool.marks]
    numbers = [int(line.split()[1]) for i, line in enumerate(lines) if i not in spool.marks]
    spool.close()
    assert numbers == list(range(1, written + 1))  # every line once, in order
    assert len(marks) == rotations
    assert all(want in got for want, got in zip(expected_marks, marks, strict=True)), marks
    assert [how for how, _ in tail.noticed] == expected_how
    return written, tail.noticed


async def test_ten_rotations_with_drops_in_process(node, ssh_server, tmp_path: Path) -> None:
    written, noticed = await _rotations(node, ssh_server.drop_connections, tmp_path / "r.log")
    assert written == 1480 and len(noticed) == 10


@pytest.mark.sshd
async def test_ten_rotations_with_drops_openssh(sshd, sshd_node, tmp_path: Path) -> None:
    from tests.ssh_drops import drop_sessions

    async def drop() -> None:
        assert drop_sessions(sshd) > 0

    written, noticed = await _rotations(sshd_node, drop, tmp_path / "r.log")
    assert written == 1480 and len(noticed) == 10
