"""Reading the ledgers of 20 recipes × 30 runs (each kind) costs one remote command.

Against OpenSSH's sshd behind the 60 ms-each-way latency proxy. The figures (commands, seconds)
are printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from redfix_tui.config import Config, config_from_dict
from redfix_tui.node import NodeConnection
from redfix_tui.runs.ledger import Ledger
from tests.conftest import SSHFiles, node_config_for

pytestmark = pytest.mark.sshd

RECIPES = [f"recipe-{n:02d}" for n in range(20)]
RUNS = 30
T0 = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)


def results(recipe: str, run_id: str, tag: str, finished: datetime, red: bool) -> str:
    stages = [
        {
            "name": stage,
            "status": "failed" if red and stage == "restore" else "passed",
            "tests": [{"name": f"test_{stage}_{n}", "ms": 1200 + n} for n in range(8)],
        }
        for stage in ("install", "upgrade", "backup", "restore", "custom")
    ]
    return json.dumps(
        {
            "recipe": recipe,
            "version": tag,
            "run_id": run_id,
            "finished": finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "stages": stages,
        }
    )


def build(root: Path) -> Config:
    """runs_root with 30 nightly sweeps per recipe, an archive with 30 isolation runs each."""
    runs_root, archive = root / "runs", root / "archive"
    for recipe in RECIPES:
        for night in range(RUNS):
            finished = T0 + timedelta(days=night)
            tag = "1.0.0" if night < 20 else "1.0.1"
            run_id = f"sweep-{finished:%Y%m%dT%H%MZ}-{recipe}"
            (runs_root / run_id).mkdir(parents=True)
            text = results(recipe, run_id, tag, finished, red=night >= 20 and night % 2 == 0)
            (runs_root / run_id / "results.json").write_text(text)
            start = finished + timedelta(hours=12)
            run_dir = archive / recipe / f"{start:%Y%m%dT%H%M%SZ}"
            run_dir.mkdir(parents=True)
            end = int((start + timedelta(minutes=20)).timestamp())
            state = {"recipe": recipe, "tag": tag, "end": end, "exit_status": 0, "user": "ci"}
            (run_dir / "run.json").write_text(json.dumps(state))
            (run_dir / "results.json").write_text(
                results(recipe, "manual", tag, start, red=night >= 20)
            )
            (run_dir / "canonical.json").write_text(json.dumps({"version": "1.0.0"}))
    return config_from_dict(
        {
            "paths": {
                "runs_root": str(runs_root),
                "archive": str(archive / "{recipe}" / "{start}"),
            }
        }
    )


async def test_thirty_runs_of_twenty_recipes_in_one_command(
    tmp_path: Path, ssh_files: SSHFiles, slow_sshd
) -> None:
    config = build(tmp_path / "node")
    node = NodeConnection(node_config_for(ssh_files, slow_sshd.port))
    commands: list[str] = []
    stream, run = node.stream, node.run

    def counted_stream(command: str, **options):
        commands.append(command)
        return stream(command, **options)

    async def counted_run(command: str, **options):
        commands.append(command)
        return await run(command, **options)

    node.stream = counted_stream  # type: ignore[method-assign]
    node.run = counted_run  # type: ignore[method-assign]
    try:
        await node.connect()
        ledger = Ledger(node, config)
        began = time.perf_counter()
        ledgers = await ledger.load(RECIPES)
        seconds = time.perf_counter() - began
    finally:
        await node.close()
    print(
        f"\nledger of {len(RECIPES)} recipes x {RUNS} sweep + {RUNS} isolation runs: "
        f"{len(commands)} command(s), {seconds:.2f} s at 60 ms each way"
    )
    assert len(commands) == 1
    assert ledger.problems == []
    assert sorted(ledgers) == RECIPES
    for found in ledgers.values():
        assert len(found.runs) == 2 * RUNS and found.problems == []
        assert [r.kind for r in found.runs[:2]] == ["isolation", "sweep"]
        restore = found.verdicts["restore"]
        assert restore.grade == "flaky" and (restore.failed, len(restore.attempts)) == (15, 20)
        assert found.verdicts["install"].grade == "passing"
        since = found.failing_since
        assert since is not None and since.run.tag == "1.0.1"
    assert seconds < 10
