"""A hostile node tree, read over SSH: each bad file marks its own recipe, every other recipe loads.

The same tree is served by the in-process asyncssh server (commands through /bin/sh) and by
OpenSSH's sshd (the user's login shell).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from redfix_tui.config import Config, config_from_dict
from redfix_tui.demo.server import LocalShellServer
from redfix_tui.demo.tree import DemoNode, build_demo_node
from redfix_tui.node import NodeConnection
from redfix_tui.recipes import RecipeSource, RecipeStatus
from tests.conftest import SSHFiles, node_config_for

SWEEP = "sweep-20260617T0300Z-{}"


async def until(pilot, check, timeout: float = 20.0) -> None:
    """Let the app run until ``check()`` holds (fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)


def _rewrite(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def hostile_tree(root: Path) -> DemoNode:
    """The demo tree with one hostile file per recipe (mattermost-lts is left sound)."""
    node = build_demo_node(root, python=sys.executable, speed=0.1)
    runs, warm = node.runs_root, node.warm_root
    # gitea: 100,000-deep nesting (the recipe key comes first, so the file is attributed).
    (runs / SWEEP.format("gitea") / "results.json").write_text(
        '{"recipe": "gitea", "stages": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    # discourse: a NaN duration and a 1e400 one; its verdicts must stay.
    discourse = runs / SWEEP.format("discourse") / "results.json"
    text = discourse.read_text()
    first, second = (n for n in json.loads(text)["stages"][0]["tests"][:2])
    text = text.replace(f'"ms": {first["ms"]}', '"ms": NaN', 1)
    discourse.write_text(text.replace(f'"ms": {second["ms"]}', '"ms": 1e400', 1))
    # mumble: "stages": 5.
    _rewrite(runs / SWEEP.format("mumble") / "results.json", lambda d: d.update(stages=5))
    # keycloak: a canonical.json that is not an object.
    (warm / "keycloak" / "canonical.json").write_text('["1.0.0"]')

    # bluesky-pds: a sweep of 3,000 tests (well over 256 KiB), custom stage failed at the end.
    def big(data: dict) -> None:
        tests = [
            {"name": f"test_custom_{n:04d}_{'x' * 60}", "status": "passed", "ms": 10}
            for n in range(3000)
        ]
        tests[-1]["status"] = "failed"
        data["stages"][-1] = {"name": "custom", "status": "failed", "tests": tests}

    _rewrite(runs / SWEEP.format("bluesky-pds") / "results.json", big)
    # A tests/ directory whose name holds a newline (two phantoms with `ls -1`).
    (node.harness / "tests" / "bad\nname").mkdir()
    (node.harness / "tests" / "bad").mkdir()  # a real recipe that shares the phantom's name
    # forgejo: a results.json over the 16 MiB limit (sparse: nothing of it is sent).
    (node.harness / "tests" / "forgejo").mkdir()
    huge = runs / SWEEP.format("forgejo") / "results.json"
    huge.parent.mkdir()
    with huge.open("wb") as out:
        out.truncate(17 * 1024 * 1024)
    # A run nobody can attribute: an unreadable manual run.
    (runs / "manual-x").mkdir()
    (runs / "manual-x" / "results.json").write_text("{not json")
    return node


@pytest.fixture(params=["inprocess", "sshd"])
async def served(
    request: pytest.FixtureRequest, tmp_path: Path, ssh_files: SSHFiles
) -> AsyncIterator[tuple[NodeConnection, Config, DemoNode]]:
    """A connection to the hostile tree served by one kind of SSH server."""
    node = hostile_tree(tmp_path / "node")
    config = config_from_dict(node.config_overrides(), "<test>")
    if request.param == "sshd":
        server = request.getfixturevalue("sshd")
        port, stop = server.port, None
    else:
        server = LocalShellServer(client_public_key=ssh_files.public_key, cwd=tmp_path)
        await server.start()
        ssh_files.known_hosts.write_text(server.known_hosts_line())
        port, stop = server.port, server.close
    config.node = node_config_for(ssh_files, port)
    connection = NodeConnection(config.node)
    await connection.connect()
    yield connection, config, node
    await connection.close()
    if stop is not None:
        await stop()


async def test_hostile_tree(served) -> None:
    connection, config, node = served
    source = RecipeSource(connection, config)
    loaded = await source.load()
    statuses: dict[str, RecipeStatus] = {s.name: s for s in loaded}
    runs, warm = config.paths.runs_root, config.paths.warm_root

    # The newline name is skipped with one line; no phantom "name", the real "bad" stays.
    assert sorted(statuses) == sorted([*node.recipes, "bad", "forgejo"])
    skipped = [p for p in source.problems if "skipped" in p]
    assert skipped == [
        f"{config.paths.harness}/tests: skipped 'bad\\nname': not a recipe name "
        "(lower-case letters, digits, '.', '-', '_')"
    ]
    # The unattributable manual run is reported once, not lost.
    assert [p for p in source.problems if "manual-x" in p] == [
        f"{runs}/manual-x/results.json: not valid JSON "
        "(Expecting property name enclosed in double quotes at line 1 column 2)"
    ]
    assert len(source.problems) == 2 and "\n" not in source.problem

    gitea = statuses["gitea"]
    assert (
        gitea.problem
        == f"{runs}/{SWEEP.format('gitea')}/results.json: nested deeper than 64 levels"
    )
    # The newest sweep is refused; the board falls back to the night before (the problem shown).
    assert gitea.sweep is not None and gitea.sweep.run_id == "sweep-20260616T0300Z-gitea"
    assert gitea.sweep.stages["install"] == "failed"
    assert gitea.canonical is not None and gitea.latest_tag

    discourse = statuses["discourse"]
    assert discourse.problem == (
        f"{runs}/{SWEEP.format('discourse')}/results.json: NaN is not a number; "
        "treated as absent (+1 more)"
    )
    assert discourse.sweep is not None and discourse.sweep.stages["upgrade"] == "failed"
    assert discourse.sweep.verdict == "failed"

    mumble = statuses["mumble"]
    assert mumble.problem == (
        f"{runs}/{SWEEP.format('mumble')}/results.json: stages is an integer (5), "
        "expected a list of stage objects"
    )
    assert mumble.sweep is not None and mumble.sweep.stages == {}

    keycloak = statuses["keycloak"]
    assert keycloak.problem == f"{warm}/keycloak/canonical.json: a list, expected a JSON object"
    assert keycloak.canonical is None and keycloak.sweep is not None

    bluesky = statuses["bluesky-pds"]
    assert (node.runs_root / SWEEP.format("bluesky-pds") / "results.json").stat().st_size > 262144
    assert bluesky.problems == []
    assert bluesky.sweep is not None and bluesky.sweep.stages["custom"] == "failed"
    assert bluesky.sweep.stage_ms["custom"] == 30_000 and bluesky.sweep.verdict == "failed"

    forgejo = statuses["forgejo"]
    assert forgejo.problem == (
        f"{runs}/{SWEEP.format('forgejo')}/results.json is 17 MiB, over the 16 MiB limit"
    )
    assert forgejo.sweep is None

    # The sound recipe loads exactly as on a clean node.
    matt = statuses["mattermost-lts"]
    assert matt.problems == [] and matt.canonical is not None
    assert matt.sweep is not None and matt.isolation is not None
    assert matt.isolation.run_id == "manual" and matt.isolation.stages["restore"] == "failed"
    assert statuses["bad"].problems == [] and statuses["bad"].sweep is None


async def test_console_marks_each_bad_recipe(tmp_path: Path, ssh_files: SSHFiles) -> None:
    from textual.widgets import Static

    from redfix_tui.app import create_app
    from redfix_tui.session import Session
    from redfix_tui.widgets.recipe_board import RecipeBoard
    from redfix_tui.widgets.status_bar import NodeStatusBar

    node = hostile_tree(tmp_path / "node")
    config = config_from_dict(node.config_overrides(), "<test>")
    server = LocalShellServer(client_public_key=ssh_files.public_key, cwd=tmp_path)
    await server.start()
    try:
        ssh_files.known_hosts.write_text(server.known_hosts_line())
        config.node = node_config_for(ssh_files, server.port)
        app = create_app(Session(config, tmp_path / "JOURNAL-redfix.md", "redfix"))
        async with app.run_test(size=(120, 30)) as pilot:
            board = app.screen.query_one(RecipeBoard)
            await until(pilot, lambda: board.row_count == 8)
            marked = {
                key.value
                for key in board.rows
                if "⚠" in board.get_row(key)[0].plain  # type: ignore[union-attr]
            }
            assert marked == {"gitea", "discourse", "mumble", "keycloak", "forgejo"}
            board.focus()
            board.move_cursor(row=board.get_row_index("mumble"))
            detail = app.screen.query_one("RecipeDetail", Static)
            await until(pilot, lambda: "⚠" in str(getattr(detail.content, "plain", "")))
            line = detail.content.plain  # type: ignore[union-attr]
            assert line.startswith("mumble  ⚠ ") and "stages is an integer (5)" in line
            bar = app.screen.query_one(NodeStatusBar)
            assert bar.problem.startswith(f"{config.paths.harness}/tests: skipped 'bad\\nname'")
            assert bar.problem.endswith("(+1 more)")
    finally:
        await server.close()


async def test_reload_reuses_unchanged_files_and_rereads_changed_ones(served) -> None:
    connection, config, node = served
    source = RecipeSource(connection, config)
    first = {s.name: s for s in await source.load()}
    _rewrite(
        node.runs_root / SWEEP.format("mumble") / "results.json",
        lambda d: d.update(stages=[{"name": "install", "status": "failed", "tests": []}]),
    )
    second = {s.name: s for s in await source.load()}
    assert second["mattermost-lts"].sweep is first["mattermost-lts"].sweep  # not parsed again
    assert second["mumble"].problems == [] and second["mumble"].sweep.stages == {
        "install": "failed"
    }
    assert second["gitea"].problems == first["gitea"].problems != []
