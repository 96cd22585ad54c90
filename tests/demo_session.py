"""Helpers for tests that run reruns on the demo node: serve it, configure a console for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from redfix_tui.config import Config
from redfix_tui.demo.launch import DemoNodeServer, start_demo_node
from redfix_tui.node import NodeConnection
from redfix_tui.runs import NodeStatus, RerunState, RunControl

FAST = 0.03
"""REDFIX_DEMO_SPEED for tests: a whole rerun takes about 2 s."""


async def serve_demo(workdir: Path, speed: float = FAST) -> tuple[DemoNodeServer, Config]:
    """Build and serve a demo node; return it and a config pointing at it."""
    demo = await start_demo_node(workdir, speed=speed)
    config = Config()
    demo.apply(config)
    config.node.connect_timeout = 5.0
    return demo, config


async def wait_for(
    check: Callable[[], Awaitable[bool]], timeout: float = 30.0, step: float = 0.1
) -> None:
    """Poll ``check`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:g}s")
        await asyncio.sleep(step)


async def wait_finished(runs: RunControl, recipe: str, timeout: float = 30.0) -> RerunState:
    """Wait until ``recipe``'s rerun state file holds its exit status; return that state."""
    found: list[RerunState] = []

    async def done() -> bool:
        status = await runs.status()
        found[:] = [s for s in status.reruns if s.recipe == recipe and s.finished]
        return bool(found)

    await wait_for(done, timeout)
    return found[0]


async def status_of(node: NodeConnection, runs: RunControl) -> NodeStatus:
    """A fresh node status (connecting first)."""
    await node.connect()
    return await runs.status()
