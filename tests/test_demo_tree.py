"""The simulated cc-ci node: its tree, its fake tools, and the fake runner run for real."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from lxml import etree

from redfix_tui.config import Config, config_from_dict
from redfix_tui.demo import make_fixtures
from redfix_tui.demo.tree import RECIPES, DemoNode, build_demo_node
from redfix_tui.shellcmd import fill_path, render

STAGES = ["install", "upgrade", "backup", "restore", "custom"]
SWEEP_FAILS = {
    "discourse": "upgrade",
    "mattermost-lts": "restore",
    "mumble": "custom",
    "bluesky-pds": "custom",
    "gitea": "install",
    "keycloak": "backup",
}
ANSI_RE = re.compile(rb"\x1b\[[0-9;]*m")


@pytest.fixture
def node(tmp_path: Path) -> DemoNode:
    """A freshly built demo node."""
    return build_demo_node(tmp_path / "node", speed=0.02)


def sh(node: DemoNode, command: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    """Run ``command`` the way the demo server does: ``/bin/sh -c`` with the node's env."""
    return subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=node.root / "home",
        env={**os.environ, **node.env(), **env},
        capture_output=True,
        timeout=30,
        check=False,
    )


def start_rerun(node: DemoNode, recipe: str, speed: float = 0.02) -> subprocess.Popen[bytes]:
    """Start the config's default rerun command for ``recipe`` through ``/bin/sh -c``."""
    command = render(Config().commands.rerun, harness=str(node.harness), recipe=recipe)
    return subprocess.Popen(
        ["/bin/sh", "-c", command],
        cwd=node.root / "home",
        env={**os.environ, **node.env(), "REDFIX_DEMO_SPEED": str(speed)},
        stdout=subprocess.PIPE,
        start_new_session=True,
    )


def in_flight(node: DemoNode) -> subprocess.CompletedProcess[bytes]:
    """Run the node's in-flight check."""
    config = config_from_dict(node.config_overrides())
    return sh(node, render(config.commands.in_flight))


def stacks(node: DemoNode) -> list[str]:
    """Run the default ``docker stack ls`` template and return the names."""
    result = sh(node, render(Config().commands.stacks))
    assert result.returncode == 0, result.stderr
    return result.stdout.decode().split()


def check_results_schema(data: dict) -> None:
    """Assert that ``data`` is a schema-2 results.json."""
    assert set(data) == {
        "recipe",
        "version",
        "pr",
        "ref",
        "run_id",
        "finished",
        "stages",
        "level",
        "rungs",
        "lint",
        "skips",
        "flags",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["finished"])
    assert [s["name"] for s in data["stages"]] == STAGES
    for stage in data["stages"]:
        assert set(stage) == {"name", "status", "tests"}
        assert stage["status"] in {"passed", "failed", "error", "skipped"}
        for test in stage["tests"]:
            assert set(test) == {"name", "status", "ms"}
            assert isinstance(test["ms"], int) and test["ms"] > 0
    assert set(data["flags"]) == {"clean_teardown", "no_secret_leak"}
    assert data["version"] == RECIPES[data["recipe"]]["tag"]


def test_build_lays_out_cc_ci(tmp_path: Path) -> None:
    """(How fast it builds: benchmarks/bench_guards.py.)"""
    node = build_demo_node(tmp_path / "node")
    assert node.root == (tmp_path / "node").resolve()
    assert node.recipes == tuple(SWEEP_FAILS)
    assert sorted(p.name for p in (node.harness / "tests").iterdir()) == sorted(SWEEP_FAILS)
    for recipe in SWEEP_FAILS:
        assert {p.name for p in (node.harness / "tests" / recipe).glob("test_*.py")} == {
            f"test_{s}.py" for s in STAGES
        }
    for name in ("run_recipe_ci.py", "abra.py", "nightly_sweep.py"):
        assert (node.harness / "runner" / name).is_file()
    mumble = json.loads((node.warm_root / "mumble" / "canonical.json").read_text())
    assert mumble == {**mumble, "version": "1.0.0+v1.6.870-0", "ts": "20260617T180501Z"}
    assert set(mumble) == {"version", "commit", "status", "ts"}
    assert not (node.warm_root / "bluesky-pds" / "canonical.json").exists()
    for recipe in ("discourse", "mattermost-lts"):
        log = (node.root / "tmp" / f"redfix-{recipe}.log").read_bytes()
        assert b"==== stage: restore ====" in ANSI_RE.sub(b"", log)
        assert b"==== verdict: FAIL" in log


def test_past_runs_are_schema_2_and_red_where_the_journal_says(node: DemoNode) -> None:
    for recipe, failing in SWEEP_FAILS.items():
        run_dir = node.runs_root / f"sweep-20260617T0300Z-{recipe}"
        data = json.loads((run_dir / "results.json").read_text())
        check_results_schema(data)
        assert data["run_id"] == run_dir.name
        statuses = {s["name"]: s["status"] for s in data["stages"]}
        assert [s for s, v in statuses.items() if v == "failed"] == [failing]
        if failing == "install":
            assert set(statuses.values()) == {"failed", "skipped"}
            assert [s["stage"] for s in data["skips"]] == STAGES[1:]
        assert (run_dir / "lint.txt").read_text().startswith("$ abra recipe lint")
        for stage, status in statuses.items():
            junit = run_dir / "junit" / f"{stage}__cc-ci__test_{stage}.xml"
            assert junit.is_file() == (status != "skipped")
    mumble = json.loads((node.runs_root / "sweep-20260617T0300Z-mumble/results.json").read_text())
    custom = next(s for s in mumble["stages"] if s["name"] == "custom")
    assert {
        "name": "test_handshake_completes_with_channel_presence",
        "status": "failed",
    }.items() <= (next(t for t in custom["tests"] if t["status"] == "failed").items())
    manual = json.loads((node.runs_root / "manual" / "results.json").read_text())
    check_results_schema(manual)
    assert (manual["recipe"], manual["run_id"]) == ("mattermost-lts", "manual")


def test_junit_files_are_real_pytest_xunit1(node: DemoNode) -> None:
    junit = node.runs_root / "manual" / "junit" / "restore__cc-ci__test_restore.xml"
    tree = etree.parse(str(junit), etree.XMLParser(resolve_entities=False, no_network=True))
    cases = tree.findall(".//testcase")
    assert [c.get("name") for c in cases] == [
        "test_restore_returns_state",
        "test_healthy_after_restore",
    ]
    failing = cases[0]
    assert failing.get("file") == "tests/mattermost-lts/test_restore.py"
    assert failing.get("line") == "3"
    assert failing.get("classname") == "tests.mattermost-lts.test_restore"
    failure = failing.find("failure")
    assert 'relation "ci_marker" does not exist' in failure.get("message")
    assert "E           psycopg.errors.UndefinedTable" in failure.text
    assert "Restoring Snapshot b0495d36 at /" in failing.find("system-out").text
    for path in node.runs_root.glob("*/junit/*.xml"):
        etree.parse(str(path))


def test_config_overrides_point_into_the_node(node: DemoNode) -> None:
    config = config_from_dict(node.config_overrides(), "demo")
    assert config.paths.harness == str(node.harness)
    for value in (config.paths.runs_root, config.paths.warm_root, config.paths.rerun_log):
        assert value.startswith(str(node.root) + "/")
    log = fill_path(config.paths.rerun_log, recipe="discourse")
    assert Path(log).is_file()
    assert set(node.config_overrides()["commands"]) == {"latest_tag", "in_flight"}


def test_fake_tools_answer_the_default_templates(node: DemoNode) -> None:
    defaults = Config().commands
    config = config_from_dict(node.config_overrides())
    epoch = int(node.sweep_next_file.read_text())
    assert 2 * 86400 < epoch - time.time() < 4 * 86400
    assert sh(node, render(defaults.sweep_next)).stdout.decode() == f"@{epoch}\n"
    node.set_sweep_next(1_781_000_000)
    assert sh(node, render(defaults.sweep_next)).stdout.decode() == "@1781000000\n"
    assert stacks(node) == ["traefik_ci_coopcloud_tech"]
    listing = sh(node, render(defaults.recipes, harness=str(node.harness))).stdout.decode()
    assert listing.endswith("\0") and sorted(listing.split("\0")[:-1]) == sorted(SWEEP_FAILS)
    disk = sh(node, render(defaults.disk_free, runs_root=str(node.runs_root)))
    assert disk.returncode == 0 and b"Available" in disk.stdout
    for recipe, tag in [
        ("discourse", "0.8.1+3.5.0"),
        ("mattermost-lts", "2.1.9+10.11.15"),
        ("mumble", "1.0.0+v1.6.870-0"),
    ]:
        assert sh(node, render(config.commands.latest_tag, recipe=recipe)).stdout == (
            tag.encode() + b"\n"
        )
    checkout = sh(
        node,
        render(
            defaults.checkout,
            harness=str(node.harness),
            recipe="gitea",
            tag="3.4.1+1.24.5-rootless",
        ),
    )
    assert checkout.returncode == 0, checkout.stderr
    assert b"checked out 3.4.1+1.24.5-rootless" in checkout.stdout
    bad = sh(node, render(defaults.checkout, harness=str(node.harness), recipe="gitea", tag="9.9"))
    assert bad.returncode == 1 and b"reference not found" in bad.stderr


def test_in_flight_is_quiet_when_idle_and_never_matches_itself(node: DemoNode) -> None:
    check = render(config_from_dict(node.config_overrides()).commands.in_flight)
    assert in_flight(node).returncode == 1 and in_flight(node).stdout == b""
    # The journal's trap: a waiter loop whose own command line holds the pattern.
    waiter = subprocess.Popen(
        ["/bin/sh", "-c", f"while {check} >/dev/null; do sleep 0.05; done; sleep 30"],
        env={**os.environ, **node.env()},
        start_new_session=True,
    )
    try:
        time.sleep(0.2)
        assert in_flight(node).stdout == b""
    finally:
        os.killpg(waiter.pid, signal.SIGTERM)
        waiter.wait()


def _poll_for_truncation(path: Path, stop: threading.Event, seen: list[str]) -> None:
    """Record whether ``path`` was ever seen incomplete, then complete."""
    while not stop.is_set():
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            time.sleep(0.005)
            continue
        seen.append("complete" if data.rstrip().endswith(b"</testsuites>") else "partial")
        time.sleep(0.005)


def test_rerun_streams_writes_artifacts_and_exits(node: DemoNode, tmp_path: Path) -> None:
    other = build_demo_node(tmp_path / "other")
    stack = "mattermost-lts_ci_coopcloud_tech"
    junit_dir = node.runs_root / "manual" / "junit"
    stop, seen = threading.Event(), []
    poller = threading.Thread(
        target=_poll_for_truncation,
        args=(junit_dir / "install__cc-ci__test_install.xml", stop, seen),
    )
    poller.start()
    proc = start_rerun(node, "mattermost-lts")
    lines: list[bytes] = []
    banners: list[str] = []
    try:
        for raw in proc.stdout:
            lines.append(raw)
            text = ANSI_RE.sub(b"", raw).decode("utf-8", "replace").rstrip("\n")
            if match := re.fullmatch(r"==== stage: (\w+) ====", text):
                banners.append(match.group(1))
                if len(banners) == 1:
                    found = in_flight(node)
                    assert found.returncode == 0
                    assert str(node.runner).encode() in found.stdout
                    assert b"/bin/sh" not in found.stdout
                    assert other.root != node.root and in_flight(other).stdout == b""
                    assert stack in stacks(node)
                    assert not (node.runs_root / "manual" / "results.json").exists()
                else:
                    previous = banners[-2]
                    done = junit_dir / f"{previous}__cc-ci__test_{previous}.xml"
                    assert etree.parse(str(done)).findall(".//testcase")
        rc = proc.wait(timeout=30)
    finally:
        stop.set()
        poller.join()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    out = b"".join(lines)
    assert rc == 1
    assert banners == STAGES
    assert b"\x1b[32mPASSED" in out and b"\x1b[31mFAILED" in out
    assert b"\x1b[1m==== stage: install ====\x1b[0m" in out
    assert b"E           psycopg.errors.UndefinedTable" in out
    assert re.search(
        rb"FAILED\S* tests/mattermost-lts/test_restore.py::\S*test_restore_returns_state\S* - "
        rb"psycopg.errors.UndefinedTable: relation \"ci_marker\" does not exist",
        out,
    )
    assert b"docker stack deploy" in out and b"UpdateStatus=completed" in out
    assert max(len(line) for line in lines) > 4000
    with pytest.raises(UnicodeDecodeError):
        out.decode("utf-8")
    assert ANSI_RE.sub(b"", lines[-1]).strip() == (
        b"==== verdict: FAIL mattermost-lts 2.1.9+10.11.15 (failed: restore) ===="
    )
    assert "partial" in seen and seen[-1] == "complete"
    results = json.loads((node.runs_root / "manual" / "results.json").read_text())
    check_results_schema(results)
    statuses = [s["status"] for s in results["stages"]]
    assert statuses == ["passed", "passed", "passed", "failed", "passed"]
    assert results["flags"]["clean_teardown"] is True
    assert sorted(p.name for p in junit_dir.iterdir()) == sorted(
        f"{s}__cc-ci__test_{s}.xml" for s in STAGES
    )
    for path in junit_dir.iterdir():
        etree.parse(str(path))
    assert in_flight(node).returncode == 1 and in_flight(node).stdout == b""
    assert stack not in stacks(node)


def test_mumble_passes_in_isolation(node: DemoNode) -> None:
    proc = start_rerun(node, "mumble", speed=0.01)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert b"==== verdict: PASS mumble 1.0.0+v1.6.870-0 ====" in out
    assert b"FAILED" not in out
    results = json.loads((node.runs_root / "manual" / "results.json").read_text())
    assert {s["status"] for s in results["stages"]} == {"passed"}


def test_rerun_uses_the_checked_out_tag(node: DemoNode) -> None:
    checkout = render(
        Config().commands.checkout,
        harness=str(node.harness),
        recipe="keycloak",
        tag="10.1.1+26.2.5",
    )
    assert sh(node, checkout).returncode == 0
    proc = start_rerun(node, "keycloak", speed=0.01)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert b"version=10.1.1+26.2.5" in out


def test_sigterm_to_the_group_stops_the_runner(node: DemoNode) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(node.runner)],
        env={**os.environ, **node.env(), "RECIPE": "discourse", "REDFIX_DEMO_SPEED": "0.05"},
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    for raw in proc.stdout:
        if b"==== stage: install ====" in raw:
            break
    os.killpg(proc.pid, signal.SIGTERM)
    rest = proc.stdout.read()
    assert proc.wait(timeout=10) == 143
    assert rest.rstrip().endswith(b"terminated\x1b[0m")
    assert not (node.runs_root / "manual" / "results.json").exists()
    assert "discourse_ci_coopcloud_tech" in stacks(node)


def test_runner_refuses_an_unknown_recipe(node: DemoNode) -> None:
    result = subprocess.run(
        [sys.executable, str(node.runner)],
        env={**os.environ, "RECIPE": "x; touch /tmp/pwned"},
        capture_output=True,
        check=False,
    )
    assert result.returncode == 2 and b"not a recipe of this node" in result.stderr


def _cases(xml_path: Path) -> list[tuple[str, str]]:
    tree = etree.parse(str(xml_path))
    return [
        (case.get("name"), make_fixtures._status_of(etree.tostring(case, encoding="unicode")))
        for case in tree.iter("testcase")
    ]


def test_committed_fixtures_match_a_fresh_pytest_run(tmp_path: Path) -> None:
    fresh = make_fixtures.generate(tmp_path / "fixtures", jobs=2)
    committed_dir = make_fixtures.FIXTURES
    committed = json.loads((committed_dir / "index.json").read_text())
    assert fresh == committed
    for xml in committed_dir.glob("*/*.xml"):
        regenerated = tmp_path / "fixtures" / xml.parent.name / xml.name
        assert _cases(regenerated) == _cases(xml), xml
        console = tmp_path / "fixtures" / xml.parent.name / xml.with_suffix(".out").name
        assert console.read_text().count("PASSED") == xml.with_suffix(".out").read_text().count(
            "PASSED"
        )


async def test_demo_history_answers_the_first_questions(node: DemoNode) -> None:
    """The demo's ledger: four nights of sweeps per recipe, mattermost-lts's rerun archived (it
    fails restore alone too: deterministic), discourse's upgrade a flake, keycloak's backup
    failing on one attempt, each recipe failing since a night with what changed there."""
    from redfix_tui.local_node import LocalNode
    from redfix_tui.runs.ledger import Ledger

    config = config_from_dict(node.config_overrides(), "<test>")
    config.node.host = "local"
    local = LocalNode(config.node, env={**os.environ, **node.env()})
    ledgers = await Ledger(local, config).load(list(SWEEP_FAILS))
    for recipe in SWEEP_FAILS:
        sweeps = [r.run_id for r in ledgers[recipe].runs if r.kind == "sweep"]
        assert sweeps == [f"sweep-202606{day}T0300Z-{recipe}" for day in (17, 16, 15, 14)]
        since = ledgers[recipe].failing_since
        assert since is not None and since.last_green is not None, recipe
    archived = node.archive / "mattermost-lts" / "20260617T234340Z"
    assert sorted(p.name for p in archived.iterdir()) == [
        "canonical.json",
        "junit",
        "log",
        "results.json",
        "run.json",
    ]
    assert json.loads((archived / "run.json").read_text())["exit_status"] == 1
    assert [p.name for p in node.archive.iterdir()] == ["mattermost-lts"]

    matt = ledgers["mattermost-lts"]
    assert matt.runs[0].kind == "isolation" and matt.verdicts["restore"].grade == "deterministic"
    assert matt.failing_since.changed == ["tag"]
    flake = ledgers["discourse"].verdicts["upgrade"]
    assert (flake.grade, flake.failed, len(flake.attempts)) == ("flaky", 1, 2)
    single = ledgers["keycloak"].verdicts["backup"]
    assert (single.grade, single.note, len(single.attempts)) == (
        "not enough evidence",
        "one attempt",
        1,
    )
    assert ledgers["keycloak"].failing_since.run.run_id == "sweep-20260617T0300Z-keycloak"
    unproven = ledgers["gitea"].verdicts["install"]
    assert (unproven.grade, unproven.note) == ("not enough evidence", "no isolation run yet")
    assert all(not found.problems for found in ledgers.values())


def test_a_bare_node_has_no_history(tmp_path: Path) -> None:
    bare = build_demo_node(tmp_path / "bare", history=False)
    assert sorted(p.name for p in bare.runs_root.iterdir()) == sorted(
        ["manual", *(f"sweep-20260617T0300Z-{r}" for r in SWEEP_FAILS)]
    )
    assert not bare.archive.exists()
