"""Reruns and recipe status against the demo node, over a real (in-process) SSH server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from redfix_tui.config import Config
from redfix_tui.demo.launch import DemoNodeServer
from redfix_tui.node import NodeConnection
from redfix_tui.recipes import RecipeSource
from redfix_tui.runs.control import RunControl
from redfix_tui.runs.state import RerunRefused, parse_state
from redfix_tui.shellcmd import UnsafeValue
from tests.demo_session import serve_demo, wait_finished, wait_for


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[DemoNodeServer, Config]]:
    """A fast demo node served over SSH, and a config for it."""
    served, config = await serve_demo(tmp_path / "demo")
    yield served, config
    await served.close()


@pytest.fixture
async def conn(demo) -> AsyncIterator[NodeConnection]:
    """A connection to the demo node."""
    connection = NodeConnection(demo[1].node)
    await connection.connect()
    yield connection
    await connection.close()


async def test_idle_status_and_recipes(demo, conn: NodeConnection) -> None:
    served, config = demo
    runs = RunControl(conn, config)
    status = await runs.status()
    assert status.in_flight == [] and status.active_rerun is None and not status.busy
    assert status.disk_free and status.disk_free > 0
    assert status.sweep_next is not None and status.sweep_next.timestamp() > time.time()
    assert status.stacks == ["traefik_ci_coopcloud_tech"]
    assert status.problems == []

    statuses = {s.name: s for s in await RecipeSource(conn, config).load()}
    assert sorted(statuses) == sorted(served.node.recipes)
    discourse = statuses["discourse"]
    assert discourse.latest_tag == "0.8.1+3.5.0"
    assert discourse.canonical is not None and discourse.canonical.version == "0.8.0+3.4.6"
    assert discourse.sweep is not None and discourse.sweep.stages["upgrade"] == "failed"
    assert discourse.sweep.verdict == "failed"
    assert statuses["bluesky-pds"].canonical is None
    # manual/ holds the last isolation rerun of the journal: mattermost-lts, restore red.
    matt = statuses["mattermost-lts"].isolation
    assert matt is not None and matt.run_id == "manual" and matt.stages["restore"] == "failed"
    assert statuses["mumble"].isolation is None


async def test_rerun_lifecycle(demo, conn: NodeConnection) -> None:
    served, config = demo
    runs = RunControl(conn, config)
    state = await runs.start("mumble", "1.0.0+v1.6.870-0")
    assert state.recipe == "mumble" and state.pid > 1 and state.exit_status is None
    assert state.start_epoch is not None
    assert state.stacks_before == ("traefik_ci_coopcloud_tech",)
    assert state.command == runs.build_command("mumble", "1.0.0+v1.6.870-0")
    state_file = Path(runs.state_path("mumble"))
    assert parse_state(state_file.read_text()).pid == state.pid

    # The in-flight check sees the harness, and the rerun is ours.
    async def harness_seen() -> bool:
        return bool((await runs.status()).in_flight)

    await wait_for(harness_seen)
    status = await runs.status()
    assert status.active_rerun is not None and status.active_rerun.pid == state.pid
    assert all(p.pgid == state.pid for p in status.in_flight)
    assert any(str(served.node.runner) in p.command for p in status.in_flight)

    # A second rerun (of any recipe) is refused while the first runs.
    with pytest.raises(RerunRefused, match="in flight"):
        await runs.start("gitea", "3.4.1+1.24.5-rootless")
    assert not Path(runs.state_path("gitea")).exists()

    # Progress: a stage from the log's banners, later stages' JUnit verdicts.
    async def in_a_stage() -> bool:
        return (await runs.progress(state)).stage is not None

    await wait_for(in_a_stage)

    final = await wait_finished(runs, "mumble")
    assert final.exit_status == 0 and final.how() == "passed (exit 0)"
    # The in-flight check stays quiet once the run has ended (it never matches itself).
    for _ in range(3):
        status = await runs.status()
        assert status.in_flight == [] and status.active_rerun is None and not status.busy
    outcome = await runs.outcome(final)
    assert outcome.source == "results.json"
    assert outcome.stages == dict.fromkeys(
        ("install", "upgrade", "backup", "restore", "custom"), "passed"
    )
    assert outcome.teardown_clean is True
    assert outcome.summary() == "install ✔ upgrade ✔ backup ✔ restore ✔ custom ✔"
    log = Path(runs.log_path("mumble")).read_text(errors="replace")
    assert "==== stage: install ====" in log and "verdict: PASS mumble" in log

    statuses = {s.name: s for s in await RecipeSource(conn, config).load()}
    iso = statuses["mumble"].isolation
    assert iso is not None and iso.verdict == "passed" and iso.stages["custom"] == "passed"
    # manual/ now holds mumble's run; mattermost-lts's earlier rerun stays on the board, read
    # from the run archive (its verdicts as they were).
    matt = statuses["mattermost-lts"].isolation
    assert matt is not None and matt.run_id == "20260617T234340Z"
    assert matt.path.endswith("/mattermost-lts/20260617T234340Z")
    assert matt.stages["restore"] == "failed" and matt.stages["install"] == "passed"


async def test_failed_rerun_reports_failed_stage(demo, conn: NodeConnection) -> None:
    _, config = demo
    runs = RunControl(conn, config)
    await runs.start("discourse", "0.8.1+3.5.0")
    final = await wait_finished(runs, "discourse")
    assert final.exit_status == 1 and final.how() == "failed (exit 1)"
    outcome = await runs.outcome(final)
    assert outcome.stages["upgrade"] == "failed" and outcome.stages["install"] == "passed"
    assert outcome.summary() == "install ✔ upgrade ✘ backup ✔ restore ✔ custom ✔ — exit 1"


async def test_sweep_guard_refuses(demo, conn: NodeConnection) -> None:
    served, config = demo
    runs = RunControl(conn, config)
    served.node.set_sweep_next(int(time.time()) + 30 * 60)
    with pytest.raises(RerunRefused, match=r"sweep timer fires in 2[89] min"):
        await runs.start("mumble", "1.0.0+v1.6.870-0")
    assert not any("setsid" in c for c in served.server.commands)
    assert not Path(runs.state_path("mumble")).exists()
    # Outside the window it is allowed again.
    served.node.set_sweep_next(int(time.time()) + 3 * 3600)
    assert runs.refusal(await runs.status(), "mumble", "1.0.0+v1.6.870-0") is None


async def test_cancel_kills_the_whole_group(demo, conn: NodeConnection) -> None:
    served, config = demo
    runs = RunControl(conn, config)
    # Slow this run down so it is surely mid-stage when cancelled.
    served.server.env["REDFIX_DEMO_SPEED"] = "1"
    state = await runs.start("keycloak", "10.2.0+26.3.2")

    async def deployed() -> bool:
        status = await runs.status()
        return bool(status.in_flight) and "keycloak_ci_coopcloud_tech" in status.stacks

    await wait_for(deployed)
    await runs.cancel(state)
    final = await wait_finished(runs, "keycloak", timeout=10)
    assert final.terminated and final.exit_status == 143
    assert final.how() == "terminated (exit 143)"
    status = await runs.status()
    assert status.in_flight == [] and status.active_rerun is None

    # No process of the group is left at all (not only the harness; the leader goes last).
    async def group_gone() -> bool:
        return (await conn.run(f"pgrep -g {state.pid}")).stdout.strip() == ""

    await wait_for(group_gone, timeout=5)
    assert "terminated" in Path(runs.log_path("keycloak")).read_text(errors="replace")
    # No teardown ran: the stack is left, and the check says so.
    outcome = await runs.outcome(final)
    assert outcome.teardown_clean is False
    assert outcome.source in ("junit", "")
    assert "terminated" in outcome.summary()
    # Cancelling again is refused: the run is no longer there.
    with pytest.raises(RerunRefused, match="no longer running"):
        await runs.cancel(state)


@pytest.mark.parametrize(
    ("recipe", "tag"),
    [
        ("x; touch {tmp}/pwned", "1.0.0"),
        ("x; touch /tmp/pwned", "1.0.0"),
        ("mumble", "$(touch {tmp}/pwned)"),
        ("mumble", "$(touch /tmp/pwned)"),
        ("mumble", "1.0`touch {tmp}/pwned`"),
    ],
)
async def test_hostile_values_never_reach_a_shell(
    demo, conn: NodeConnection, tmp_path: Path, recipe: str, tag: str
) -> None:
    served, config = demo
    recipe, tag = recipe.format(tmp=tmp_path), tag.format(tmp=tmp_path)
    runs = RunControl(conn, config)
    before = len(served.server.commands)
    reason = runs.refusal(await runs.status(), recipe, tag)
    assert reason is not None and "not a valid" in reason
    with pytest.raises(UnsafeValue):
        runs.build_command(recipe, tag)
    with pytest.raises(UnsafeValue):
        runs.log_path(recipe) if ";" in recipe else runs.build_command("mumble", tag)
    with pytest.raises(RerunRefused, match="not a valid"):
        await runs.start(recipe, tag)
    sent = served.server.commands[before:]
    assert sent, "the refusal is made after a fresh status"
    assert not any("pwned" in c or "setsid" in c for c in sent)
    assert not (tmp_path / "pwned").exists()
    assert not list(Path(config.paths.rerun_state).parent.glob("redfix-x*"))


async def test_config_recipe_list_is_validated(demo, conn: NodeConnection) -> None:
    _, config = demo
    config.board.recipes = ["mumble", "x; touch /tmp/pwned"]
    with pytest.raises(UnsafeValue):
        await RecipeSource(conn, config).load()
