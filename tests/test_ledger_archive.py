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
from redfix_tui.ledger import Ledger
from redfix_tui.node import NodeConnection
from redfix_tui.run_results import parse_ts
from redfix_tui.runs import RunControl
from tests.demo_session import serve_demo, wait_finished


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
    served.node.archive.mkdir(parents=True)
    (served.node.archive / "mumble").write_text("a file where the recipe's directory goes\n")
    runs = RunControl(conn, config)
    await runs.start("mumble", "1.0.0+v1.6.870-0")
    state = await wait_finished(runs, "mumble", timeout=60)
    assert state.exit_status is not None
    text = Path(runs.state_path("mumble")).read_text()
    assert f"archive-failed mkdir {served.node.archive}/mumble/" in text
