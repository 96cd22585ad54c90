"""The detached rerun wrapper archives each isolation run; the ledger reads it back.

Against the demo node served by the in-process SSH server (no console: RunControl only).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from redfix_tui.config import Config
from redfix_tui.demo.launch import DemoNodeServer
from redfix_tui.demo.tree import build_demo_node
from redfix_tui.node import NodeConnection
from redfix_tui.recipes import RecipeSource
from redfix_tui.runs.control import RunControl
from redfix_tui.runs.ledger import Ledger
from redfix_tui.runs.results import parse_ts
from tests.demo_session import FAST, serve_demo, wait_finished


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[DemoNodeServer, Config]]:
    """A fast demo node with its history, served over SSH, and a config for it."""
    build_demo_node(tmp_path / "demo" / "node", history=True, speed=FAST)
    served, config = await serve_demo(tmp_path / "demo")  # serves the tree built above
    yield served, config
    await served.close()


@pytest.fixture
async def conn(demo) -> AsyncIterator[NodeConnection]:
    """A connection to the demo node."""
    connection = NodeConnection(demo[1].node)
    await connection.connect()
    yield connection
    await connection.close()


async def test_rerun_archived_with_retention_and_read_by_the_ledger(
    demo, conn: NodeConnection
) -> None:
    served, config = demo
    config.board.keep_runs = 2
    recipe_dir = served.node.archive / "discourse"
    for stamp in ("20200101T000000Z", "20200102T000000Z", "20200103T000000Z"):
        (recipe_dir / stamp).mkdir(parents=True)
        old = {"recipe": "discourse", "tag": "0.8.0+3.4.6", "end": 1577900000, "exit_status": 0}
        (recipe_dir / stamp / "run.json").write_text(json.dumps(old))
    (recipe_dir / "notes").mkdir()  # not a run directory: never pruned
    runs = RunControl(conn, config)
    await runs.start("discourse", "0.8.1+3.5.0")
    await conn.close()  # no console while the run goes on and ends
    again = NodeConnection(config.node)
    try:
        state = await wait_finished(RunControl(again, config), "discourse", timeout=60)
        kept = sorted(p.name for p in recipe_dir.iterdir())
        assert len(kept) == 3 and kept[:2] == ["20200103T000000Z", kept[1]] and kept[2] == "notes"
        archived = recipe_dir / kept[1]
        assert parse_ts(kept[1]).timestamp() == state.start_epoch
        run = json.loads((archived / "run.json").read_text())
        assert run["recipe"] == "discourse" and run["tag"] == "0.8.1+3.5.0"
        assert run["exit_status"] == state.exit_status and run["end"] == state.end_epoch
        assert run["user"]
        manual = served.node.runs_root / "manual"
        assert (archived / "results.json").read_bytes() == (manual / "results.json").read_bytes()
        junit = sorted(p.name for p in (archived / "junit").iterdir())
        assert junit and junit == sorted(p.name for p in (manual / "junit").glob("*.xml"))
        log = served.node.root / "tmp" / "redfix-discourse.log"
        assert (archived / "log").read_bytes() == log.read_bytes()
        canonical = json.loads((archived / "canonical.json").read_text())
        assert canonical["version"] == "0.8.0+3.4.6"
        state_text = Path(runs.state_path("discourse")).read_text()
        assert f"archive {archived}\n" in state_text

        ledger = await Ledger(again, config).recipe("discourse")
        newest = ledger.runs[0]
        results = json.loads((manual / "results.json").read_text())
        assert (newest.kind, newest.run_id, newest.tag) == ("isolation", kept[1], "0.8.1+3.5.0")
        assert newest.stages == {s["name"]: s["status"] for s in results["stages"]}
        assert newest.exit_status == state.exit_status and newest.canonical == "0.8.0+3.4.6"
        kinds = [r.kind for r in ledger.runs]
        assert "sweep" in kinds and kinds.count("isolation") == 2
        assert ledger.runs[-1].run_id == "20200103T000000Z" and ledger.runs[-1].tag == "0.8.0+3.4.6"
    finally:
        await again.close()


async def test_failed_archive_is_recorded(demo, conn: NodeConnection) -> None:
    served, config = demo
    served.node.archive.mkdir(parents=True, exist_ok=True)
    (served.node.archive / "mumble").write_text("a file where the recipe's directory goes\n")
    runs = RunControl(conn, config)
    await runs.start("mumble", "1.0.0+v1.6.870-0")
    state = await wait_finished(runs, "mumble", timeout=60)
    assert state.exit_status is not None
    text = Path(runs.state_path("mumble")).read_text()
    assert f"archive-failed mkdir {served.node.archive}/mumble/" in text


async def test_board_iso_column_reads_the_archive(demo, conn: NodeConnection) -> None:
    """After a rerun of A, then of B, the board still shows A's isolation verdicts."""
    served, config = demo
    runs = RunControl(conn, config)
    for recipe, tag in (("discourse", "0.8.1+3.5.0"), ("mumble", "1.0.0+v1.6.870-0")):
        await runs.start(recipe, tag)
        await wait_finished(runs, recipe, timeout=60)
    statuses = {s.name: s for s in await RecipeSource(conn, config).load()}
    for recipe in ("discourse", "mumble"):
        (run_dir,) = (served.node.archive / recipe).iterdir()
        results = json.loads((run_dir / "results.json").read_text())
        iso = statuses[recipe].isolation
        assert iso is not None and iso.stages == {s["name"]: s["status"] for s in results["stages"]}
    # discourse's run is no longer in manual/ (mumble's is): its verdicts come from the archive.
    (run_dir,) = (served.node.archive / "discourse").iterdir()
    iso = statuses["discourse"].isolation
    assert iso.run_id == run_dir.name and iso.path == str(run_dir)
    # manual/ now holds mumble's run; mattermost-lts's past rerun is still shown, archived.
    matt = statuses["mattermost-lts"].isolation
    assert matt is not None and matt.run_id == "20260617T234340Z"
    assert matt.stages["restore"] == "failed"
    assert statuses["gitea"].isolation is None


async def test_demo_history_gives_a_flake_a_deterministic_failure_and_a_since(
    demo, conn: NodeConnection
) -> None:
    _served, config = demo
    ledgers = await Ledger(conn, config).load(["discourse", "mattermost-lts", "gitea"])
    discourse = ledgers["discourse"]
    assert [r.kind for r in discourse.runs] == ["sweep"] * 4
    upgrade = discourse.verdicts["upgrade"]
    assert upgrade.grade == "flaky" and (upgrade.failed, len(upgrade.attempts)) == (1, 2)
    matt = ledgers["mattermost-lts"]
    assert [r.kind for r in matt.runs] == ["isolation"] + ["sweep"] * 4
    restore = matt.verdicts["restore"]
    assert restore.grade == "deterministic" and (restore.failed, len(restore.attempts)) == (3, 3)
    since = matt.failing_since
    assert since.run.run_id == "sweep-20260616T0300Z-mattermost-lts"
    assert since.last_green.tag == "2.1.8+10.11.14" and since.changed == ["tag"]
    install = ledgers["gitea"].verdicts["install"]
    assert install.grade == "not enough evidence" and install.note == "no isolation run yet"
    assert all(not found.problems for found in ledgers.values())
