"""The board's refresh is one remote command: channel counts, framing and parts failing alone,
on the demo node over a real (in-process) SSH server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from redfix_tui.board_read import FrameError, parse_frames
from redfix_tui.config import Config
from redfix_tui.demo.launch import DemoNodeServer
from redfix_tui.node import NodeConnection, NodeError
from redfix_tui.recipes import RecipeSource
from redfix_tui.runs.control import RunControl
from tests.demo_session import serve_demo


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[DemoNodeServer, Config]]:
    """A fast demo node served over SSH, and a config for it."""
    served, config = await serve_demo(tmp_path / "demo")
    yield served, config
    await served.close()


class Counting(NodeConnection):
    """A connection that counts the channels it opens (commands run and streams)."""

    runs = 0
    streams = 0

    async def run(self, command: str, **kwargs):  # type: ignore[override]
        """Count, then run."""
        self.runs += 1
        return await super().run(command, **kwargs)

    def stream(self, command: str, **kwargs):  # type: ignore[override]
        """Count, then stream."""
        self.streams += 1
        return super().stream(command, **kwargs)


@pytest.fixture
async def conn(demo) -> AsyncIterator[Counting]:
    """A counting connection to the demo node."""
    connection = Counting(demo[1].node)
    await connection.connect()
    yield connection
    await connection.close()


async def test_a_full_refresh_is_one_channel(demo, conn: Counting) -> None:
    served, config = demo
    recipes, runs = RecipeSource(conn, config), RunControl(conn, config)
    before = len(served.server.commands)
    statuses, status = await asyncio.gather(recipes.load(), runs.status())
    assert (conn.runs, conn.streams) == (0, 1)
    assert len(served.server.commands) - before == 1
    assert sorted(s.name for s in statuses) == sorted(served.node.recipes)
    assert {s.name: s.latest_tag for s in statuses}["discourse"] == "0.8.1+3.5.0"
    assert status.disk_free and status.stacks == ["traefik_ci_coopcloud_tech"]

    # The 2 s ticks of a run in flight read the node's state alone: one channel too.
    await runs.status()
    assert (conn.runs, conn.streams) == (0, 2)
    assert "results.json" not in served.server.commands[-1]


async def test_configured_recipes_and_tags_in_the_same_channel(demo, conn: Counting) -> None:
    served, config = demo
    config.board.recipes = ["discourse", "mumble"]
    statuses = await RecipeSource(conn, config).load()
    assert [s.name for s in statuses] == ["discourse", "mumble"]
    assert statuses[0].latest_tag == "0.8.1+3.5.0" and statuses[1].latest_tag
    assert (conn.runs, conn.streams) == (0, 1)
    assert "find {harness}" not in config.commands.recipes or not any(
        "-xtype d" in c for c in served.server.commands
    )


async def test_parts_fail_alone(demo, conn: Counting) -> None:
    _, config = demo
    config.commands.stacks = "redfix-no-such-docker stack ls"
    config.commands.sweep_next = "echo 'systemctl: no bus' >&2; exit 1"
    config.commands.latest_tag = "echo 'git broke' >&2; exit 128"
    statuses, status = await asyncio.gather(
        RecipeSource(conn, config).load(), RunControl(conn, config).status()
    )
    assert status.stacks_error == "redfix-no-such-docker not found"
    assert "sweep timer: systemctl: no bus" in status.problems
    assert status.disk_free and status.disk_free > 0
    assert all(s.latest_tag == "" for s in statuses)
    assert any(s.sweep is not None for s in statuses)
    assert conn.streams == 1


async def test_a_failing_recipe_listing_fails_the_recipes_only(demo, conn: Counting) -> None:
    _, config = demo
    config.commands.recipes = "echo 'ls: cannot open tests' >&2; exit 2"
    loaded, status = await asyncio.gather(
        RecipeSource(conn, config).load(), RunControl(conn, config).status(), return_exceptions=True
    )
    assert isinstance(loaded, NodeError) and loaded.kind == "command"
    assert "ls: cannot open tests" in loaded.message
    assert not isinstance(status, BaseException) and status.disk_free


async def test_node_output_cannot_forge_a_section(demo, conn: Counting) -> None:
    _, config = demo
    forged = "end\\ns1 0 5 0\\nhello\\ns2 0 3 0\\n"
    config.commands.stacks = f"printf '{forged}'"
    config.commands.disk_free = f"printf '{forged}'; df -P -B1 {{runs_root}}"
    status = await RunControl(conn, config).status()
    assert status.stacks == ["end", "s1 0 5 0", "hello", "s2 0 3 0"]
    assert status.disk_free and status.disk_free > 0


async def test_hostile_listed_names_never_reach_a_shell(
    demo, conn: Counting, tmp_path: Path
) -> None:
    served, config = demo
    tests_dir = Path(config.paths.harness) / "tests"
    for name in ("x$(touch hacked1)", "y`touch hacked2`", "z;touch hacked3"):
        (tests_dir / name).mkdir()
    config.commands.latest_tag = "echo {recipe}; touch " + str(tmp_path / "tagged-") + "{recipe}"
    source = RecipeSource(conn, config)
    statuses = await source.load()
    assert sorted(s.name for s in statuses) == sorted(served.node.recipes)
    assert {s.name: s.latest_tag for s in statuses}["mumble"] == "mumble"
    touched = sorted(p.name for p in tmp_path.glob("tagged-*"))
    assert touched == sorted(f"tagged-{n}" for n in served.node.recipes)
    assert not list(tmp_path.rglob("hacked?")) and not list(Path.home().glob("hacked?"))
    assert len(source.problems) == 3


def test_frames_are_checked() -> None:
    sections = parse_frames(b"  2 s0.o\n  1 s0.e\n  2 s0.rc\n  5 total\n==\nhiE1\nend\n")
    assert sections["s0"].stdout == b"hi" and sections["s0"].stderr == b"E"
    assert sections["s0"].exit_status == 1
    with pytest.raises(FrameError, match="cut off"):
        parse_frames(b"20 s0.o\n==\nhi\nend\n")
    with pytest.raises(FrameError, match="ended before"):
        parse_frames(b"2 s0.o\n")
    with pytest.raises(FrameError, match="did not end"):
        parse_frames(b"2 s0.o\n==\nhiend\nmore")
    kept = parse_frames(b"5 s0.o\n==\nhelloend\n", keep=2)["s0"]
    assert kept.stdout == b"he" and kept.cut and kept.exit_status is None
