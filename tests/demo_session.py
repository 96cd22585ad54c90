"""Helpers for tests that run reruns on the demo node: serve it, configure a console for it."""

from __future__ import annotations

import asyncio
import shlex
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from redfix_tui.config import CommandsConfig, Config, config_from_dict
from redfix_tui.demo.launch import DemoNodeServer, start_demo_node
from redfix_tui.demo.tree import DemoNode, build_demo_node
from redfix_tui.node import NodeConnection
from redfix_tui.runs.control import RunControl
from redfix_tui.runs.state import NodeStatus, RerunState
from tests.conftest import SSHFiles, node_config_for

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


def openssh_config(node: DemoNode, files: SSHFiles, port: int) -> Config:
    """A console config for the demo tree served by sshd, with absolute tool paths."""
    config = config_from_dict(node.config_overrides(), "<test>")
    config.node = node_config_for(files, port)
    bin_dir = node.root / "bin"
    tool = {name: shlex.quote(str(bin_dir / name)) for name in ("python3", "cc-ci-run")}
    defaults = CommandsConfig()
    config.commands.checkout = defaults.checkout.replace("python3 -c", f"{tool['python3']} -c")
    config.commands.rerun = defaults.rerun.replace("cc-ci-run", tool["cc-ci-run"])
    config.commands.sweep_next = f"{shlex.quote(str(bin_dir / 'systemctl'))} " + " ".join(
        defaults.sweep_next.split()[1:]
    )
    config.commands.stacks = f"{shlex.quote(str(bin_dir / 'docker'))} " + " ".join(
        defaults.stacks.split()[1:]
    )
    return config


def local_site(root: Path, speed: float = FAST) -> tuple[DemoNode, Config, dict[str, str]]:
    """A demo tree and a ``host = "local"`` config for it, with the environment the demo
    server gives its commands (the fake tools first on PATH)."""
    tree = build_demo_node(root, python=sys.executable, speed=speed)
    config = config_from_dict(tree.config_overrides(), "<test>")
    config.node.host = "local"
    env = {**tree.env(), "LANG": "C.UTF-8", "REDFIX_DEMO_SPEED": str(speed)}
    return tree, config, env
