"""``redfix-tui rerun`` and ``redfix-tui runs`` against OpenSSH's sshd serving a demo tree.

No console is open at any time: the CLI queues runs on the node, a detached runner works the
queue, the detached wrapper archives each run, and ``runs --json`` reads the ledger back.
"""

from __future__ import annotations

import fcntl
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import tomli_w

from redfix_tui.cli import main
from redfix_tui.demo.tree import DemoNode, build_demo_node
from redfix_tui.node import NodeConnection
from redfix_tui.runs.queue import RerunQueue
from redfix_tui.runs.state import parse_state
from tests.conftest import SSHFiles
from tests.demo_session import openssh_config, wait_for

pytestmark = pytest.mark.sshd


@pytest.fixture
def tree(tmp_path: Path) -> DemoNode:
    """A demo tree whose reruns take about 3 s."""
    return build_demo_node(tmp_path / "node", python=sys.executable, speed=0.05)


@pytest.fixture
def config_file(tree: DemoNode, ssh_files: SSHFiles, sshd, tmp_path: Path) -> Path:
    """A config file for the tree served by sshd."""
    data = openssh_config(tree, ssh_files, sshd.port).to_dict()
    path = tmp_path / "redfix.toml"
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


def until(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def state_of(tree: DemoNode, recipe: str):
    path = tree.root / "tmp" / f"redfix-{recipe}.rerun"
    return parse_state(path.read_text()) if path.exists() else None


def archived_stages(tree: DemoNode, recipe: str) -> dict[str, str]:
    run = sorted((tree.archive / recipe).iterdir())[-1]  # the newest
    results = json.loads((run / "results.json").read_text())
    return {s["name"]: s["status"] for s in results["stages"]}


def test_rerun_wait_twice_then_runs_json(tree: DemoNode, config_file: Path, capsys) -> None:
    cfg = ["--config", str(config_file)]
    codes = {}
    for recipe in ("discourse", "mattermost-lts"):
        codes[recipe] = main([*cfg, "rerun", recipe, "--wait"])
    out = capsys.readouterr().out
    assert "queued discourse 0.8.1+3.5.0" in out and "queued mattermost-lts 2.1.9+10.11.15" in out
    assert "discourse: install" in out and "mattermost-lts: restore" in out
    for recipe in ("discourse", "mattermost-lts"):
        stages = archived_stages(tree, recipe)
        passed = set(stages.values()) <= {"passed", "skipped"}
        assert codes[recipe] == (0 if passed and state_of(tree, recipe).exit_status == 0 else 1)
        word = "passed" if codes[recipe] == 0 else "FAILED"
        exit_status = state_of(tree, recipe).exit_status
        assert f"\n{recipe} {tree_tag(recipe)}: {word} (exit {exit_status}) " in out

        assert main([*cfg, "runs", recipe, "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert set(doc) == {"recipe", "runs", "verdicts", "failing_since"}
        assert doc["recipe"] == recipe
        keys = {"run_id", "kind", "tag", "finished", "exit_status", "stages"}
        assert all(set(run) == keys for run in doc["runs"])
        assert all(set(v) == {"grade", "attempts"} for v in doc["verdicts"].values())
        kinds = [run["kind"] for run in doc["runs"]]
        assert kinds[0] == "isolation" and "sweep" in kinds
        newest = doc["runs"][0]
        assert newest["stages"] == stages and newest["tag"] == tree_tag(recipe)
        assert newest["exit_status"] == state_of(tree, recipe).exit_status
        sweep = next(run for run in doc["runs"] if run["kind"] == "sweep")
        sweep_file = tree.runs_root / sweep["run_id"] / "results.json"
        assert sweep["stages"] == {
            s["name"]: s["status"] for s in json.loads(sweep_file.read_text())["stages"]
        }
        for stage, verdict in doc["verdicts"].items():
            assert verdict["grade"] in ("deterministic", "flaky", "not enough evidence", "passing")
            assert verdict["attempts"] and all(a["run_id"] for a in verdict["attempts"])
            assert stage in newest["stages"] or stage in sweep["stages"]
    assert main([*cfg, "runs", "discourse"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("discourse: ") and "isolation" in text and "verdicts:" in text


def tree_tag(recipe: str) -> str:
    from redfix_tui.demo.tree import RECIPES

    return RECIPES[recipe]["tag"]


def test_queue_of_three_survives_and_cancel_spares_the_run_in_flight(
    tree: DemoNode, config_file: Path, capsys
) -> None:
    cfg = ["--config", str(config_file)]
    assert main([*cfg, "rerun", "mumble", "gitea", "discourse"]) == 0
    out = capsys.readouterr().out
    assert "queued mumble" in out and "queued discourse" in out and "position 3 of 3" in out
    # The CLI has exited: nothing of ours is connected while the queue works.
    until(lambda: (s := state_of(tree, "mumble")) is not None and not s.finished)
    assert main([*cfg, "rerun", "--cancel", "discourse"]) == 0
    assert "discourse: removed 1 queued run" in capsys.readouterr().out
    assert main([*cfg, "rerun", "--cancel", "mumble"]) == 0  # in flight: never touched
    assert "mumble: nothing queued" in capsys.readouterr().out
    until(lambda: (s := state_of(tree, "gitea")) is not None and s.finished)
    mumble = state_of(tree, "mumble")
    assert mumble.finished and not mumble.terminated
    assert (tree.archive / "mumble").is_dir() and (tree.archive / "gitea").is_dir()
    assert state_of(tree, "discourse") is None and not (tree.archive / "discourse").exists()
    queue = tree.root / "tmp" / "redfix-queue"
    until(lambda: not (queue / "running.sh").exists())
    assert sorted(p.name for p in queue.iterdir()) == [".lock"]


def test_rerun_refusals_and_usage(tree: DemoNode, config_file: Path, capsys) -> None:
    cfg = ["--config", str(config_file)]
    assert main([*cfg, "rerun", "Bad Name"]) == 2
    assert "not a valid recipe name" in capsys.readouterr().err
    assert main([*cfg, "rerun", "mumble", "--tag", "x;rm"]) == 2
    assert "not a valid tag" in capsys.readouterr().err
    tree.set_sweep_next(int(time.time()) + 600)
    assert main([*cfg, "rerun", "mumble"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("redfix-tui rerun: refused: the sweep timer fires in")
    assert not (tree.root / "tmp" / "redfix-queue").exists()
    assert main([*cfg, "runs"]) == 2


async def test_a_queue_left_without_runner_is_kicked(
    tree: DemoNode, ssh_files: SSHFiles, sshd
) -> None:
    """While another runner holds the lock a new one exits at once; kick() starts one later."""
    config = openssh_config(tree, ssh_files, sshd.port)
    node = NodeConnection(config.node)
    queue_dir = tree.root / "tmp" / "redfix-queue"
    queue_dir.mkdir()
    try:
        with (queue_dir / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # "a runner" is busy: the new one steps aside
            queue = RerunQueue(node, config)
            (queued,) = await queue.enqueue([("mumble", "1.0.0+v1.6.870-0")])
            waiting = await queue.items()
            assert waiting == [queued] and state_of(tree, "mumble") is None
        await queue.kick()
        await wait_for(lambda: _finished(tree, "mumble"), timeout=60)
        assert await queue.items() == []
        ours = (await queue.states(["mumble"]))["mumble"]
        assert ours[0] == queued.queue_id and ours[1].finished
    finally:
        await node.close()


async def _finished(tree: DemoNode, recipe: str) -> bool:
    state = state_of(tree, recipe)
    return state is not None and state.finished


def test_wait_names_a_run_that_could_not_be_archived(
    tree: DemoNode, config_file: Path, capsys
) -> None:
    tree.archive.mkdir(parents=True, exist_ok=True)  # the demo's history archived a run
    (tree.archive / "mumble").write_text("a file where the recipe's archive goes\n")
    assert main(["--config", str(config_file), "rerun", "mumble", "--wait"]) == 1
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("mumble 1.0.0+v1.6.870-0: ")
    assert f"archiving failed at mkdir ({tree.archive}/mumble/" in last
    assert last.endswith("check the disk and [paths] archive")


def test_queue_holds_in_the_sweep_window(tree: DemoNode, config_file: Path, capsys) -> None:
    """A queued run does not start while the sweep timer fires within the guard window."""
    cfg = ["--config", str(config_file)]
    assert main([*cfg, "rerun", "mumble", "gitea"]) == 0
    until(lambda: (s := state_of(tree, "mumble")) is not None and not s.finished)
    tree.set_sweep_next(int(time.time()) + 600)  # 10 min: inside the 120 min window
    until(lambda: state_of(tree, "mumble").finished)
    queue = tree.root / "tmp" / "redfix-queue"
    held_until = time.monotonic() + 3  # watch the runner for 3 s: gitea stays queued
    while time.monotonic() < held_until:
        assert state_of(tree, "gitea") is None
        assert [p.name.split("-", 1)[1] for p in queue.glob("[0-9]*.sh")] == ["gitea.sh"]
        time.sleep(0.2)
    tree.set_sweep_next(int(time.time()) + 3 * 86400)
    until(lambda: (s := state_of(tree, "gitea")) is not None and s.finished)
    assert "queued gitea" in capsys.readouterr().out


@pytest.mark.parametrize("minutes", [0.0, 120.0])
def test_runner_and_wrapper_scripts_parse(tree: DemoNode, minutes: float) -> None:
    """The queue runner and a queued run's body are valid sh (a syntax error would leave the
    queue waiting with nothing to say why)."""
    import subprocess

    from redfix_tui.config import config_from_dict
    from redfix_tui.runs.control import RunControl

    for config in (config_from_dict({}), config_from_dict(tree.config_overrides())):
        config.board.sweep_guard_minutes = minutes
        queue = RerunQueue(None, config)  # type: ignore[arg-type]
        body = RunControl(None, config).wrapper_body("mumble", "1.0.0", None, None, "1" * 20)  # type: ignore[arg-type]
        for script in (queue._runner(), body):
            checked = subprocess.run(["sh", "-n", "-c", script], capture_output=True, text=True)
            assert checked.returncode == 0, checked.stderr


def test_a_queue_that_cannot_be_written_is_one_line(
    tree: DemoNode, config_file: Path, capsys
) -> None:
    (tree.root / "tmp" / "redfix-queue").write_text("not a directory\n")
    assert main(["--config", str(config_file), "rerun", "mumble"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("redfix-tui rerun: error: ") and len(err.splitlines()) == 1
    assert "redfix-queue" in err and state_of(tree, "mumble") is None
