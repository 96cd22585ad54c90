"""Reruns and recipe status against OpenSSH's sshd serving a demo tree (not the in-process demo).

sshd gives its sessions its own PATH, so the config names the demo tree's fake tools by absolute
path (as an operator would for tools outside sshd's PATH).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from redfix_tui.demo.tree import DemoNode, build_demo_node
from redfix_tui.logs.spool import LogSpool
from redfix_tui.logs.tail import RemoteTail
from redfix_tui.node import NodeConnection
from redfix_tui.recipes import RecipeSource
from redfix_tui.runs.control import RunControl
from redfix_tui.runs.state import RerunRefused
from tests.conftest import SSHFiles
from tests.demo_session import openssh_config, wait_finished, wait_for

pytestmark = pytest.mark.sshd


@pytest.fixture
def tree(tmp_path: Path) -> DemoNode:
    """A demo tree that differs from the demo's: keycloak gone, forgejo added, mumble moved on."""
    node = build_demo_node(tmp_path / "node", python=sys.executable, speed=0.1)
    shutil.rmtree(node.harness / "tests" / "keycloak")
    (node.harness / "tests" / "forgejo").mkdir()
    canonical = node.warm_root / "mumble" / "canonical.json"
    data = json.loads(canonical.read_text())
    data.update(version="1.0.1+v1.6.900-0", ts="20260618T010203Z")
    canonical.write_text(json.dumps(data))
    return node


@pytest.fixture
async def conn(sshd, ssh_files: SSHFiles, tree: DemoNode):
    """A connection to sshd and the config for the demo tree it serves."""
    config = openssh_config(tree, ssh_files, sshd.port)
    connection = NodeConnection(config.node)
    await connection.connect()
    yield connection, config
    await connection.close()


async def test_recipes_of_this_tree(conn) -> None:
    connection, config = conn
    statuses = {s.name: s for s in await RecipeSource(connection, config).load()}
    assert sorted(statuses) == [
        "bluesky-pds",
        "discourse",
        "forgejo",
        "gitea",
        "mattermost-lts",
        "mumble",
    ]
    assert statuses["mumble"].canonical.version == "1.0.1+v1.6.900-0"
    assert statuses["mumble"].canonical.ts.strftime("%H%M%S") == "010203"
    assert statuses["discourse"].canonical.version == "0.8.0+3.4.6"
    assert statuses["forgejo"].canonical is None and statuses["forgejo"].sweep is None
    assert statuses["gitea"].latest_tag == "3.4.1+1.24.5-rootless"
    assert statuses["gitea"].sweep.stages["install"] == "failed"


async def test_status_idle(conn) -> None:
    connection, config = conn
    status = await RunControl(connection, config).status()
    assert status.problems == [] and status.sweep_next is not None
    assert not status.busy and status.stacks == ["traefik_ci_coopcloud_tech"]
    assert status.disk_free and status.disk_free > 0


async def test_rerun_survives_the_console_and_reattaches(
    conn, sshd, ssh_files: SSHFiles, tree: DemoNode
) -> None:
    connection, config = conn
    runs = RunControl(connection, config)
    state = await runs.start("discourse", "0.8.1+3.5.0")

    async def harness_seen() -> bool:
        return (await runs.status()).active_rerun is not None

    await wait_for(harness_seen)
    with pytest.raises(RerunRefused, match="in flight"):
        await runs.start("mumble", "1.0.0+v1.6.870-0")

    # "Close the console": drop the connection. The run goes on without it.
    await connection.close()
    again = NodeConnection(config.node)
    try:
        runs = RunControl(again, config)
        status = await runs.status()
        active = status.active_rerun
        assert active is not None and (active.recipe, active.pid) == ("discourse", state.pid)
        assert status.in_flight and all(p.pgid == state.pid for p in status.in_flight)

        # Re-attach: follow its log from the first byte while it still streams.
        spool = LogSpool()
        tail = RemoteTail(again, active.log, spool)
        task = asyncio.ensure_future(tail.run())

        def text() -> str:
            return "\n".join(spool.read_lines(0, spool.line_count))

        async def verdict() -> bool:
            return "==== verdict: FAIL discourse" in text()

        try:
            await wait_for(verdict, timeout=60)
        finally:
            tail.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert text().index("recipe=discourse") < text().index("==== stage: install ====")
        spool.close()

        final = await wait_finished(runs, "discourse")
        assert final.exit_status == 1
        for _ in range(3):
            assert not (await runs.status()).busy
        outcome = await runs.outcome(final)
        assert outcome.source == "results.json" and outcome.teardown_clean is True
        assert outcome.stages["upgrade"] == "failed"
        statuses = {s.name: s for s in await RecipeSource(again, config).load()}
        assert statuses["discourse"].isolation.stages["upgrade"] == "failed"
        # mattermost-lts's earlier rerun left manual/ but stays on the board, from the archive.
        matt = statuses["mattermost-lts"].isolation
        assert matt is not None and matt.run_id == "20260617T234340Z"
        assert matt.stages["restore"] == "failed"
    finally:
        await again.close()
