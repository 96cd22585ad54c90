"""``redfix-tui junit``: text and JSON summaries and exit statuses."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from redfix_tui.junit.cli import run
from tests.junit_samples import BAD_FILES, SUREFIRE, pytest_xml


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory with real pytest output in upgrade and a clean install stage."""
    work = tmp_path_factory.mktemp("pytest")
    directory = tmp_path_factory.mktemp("runs") / "manual"
    (directory / "junit").mkdir(parents=True)
    (directory / "junit" / "upgrade__cc-ci__test_upgrade.xml").write_bytes(
        pytest_xml(work, "xunit2")
    )
    (directory / "junit" / "install__cc-ci__test_install.xml").write_bytes(
        b'<testsuites><testsuite name="pytest"><testcase classname="tests.discourse.test_install"'
        b' name="test_deploy" time="1.5"/></testsuite></testsuites>'
    )
    (directory / "results.json").write_text(
        json.dumps({"recipe": "discourse", "stages": [{"name": "upgrade", "status": "fail"}]})
    )
    return directory


def _call(argv: list[str]) -> tuple[int, str]:
    """Run the CLI in-process and capture its output."""
    out = io.StringIO()
    return run(argv, out), out.getvalue()


def test_text_summary_per_stage(run_dir: Path) -> None:
    status, text = _call([str(run_dir)])
    assert status == 1
    lines = text.splitlines()
    assert lines[0] == "run manual · discourse"
    assert lines[1] == "install: 1 test: 1 passed"
    assert lines[2].startswith("upgrade [fail]: 8 tests: 3 passed, 2 failed, 1 error")
    assert (
        "  tests/discourse/test_upgrade.py::test_fail — "
        "AssertionError: image is bitnamilegacy assert 1 == 2"
    ) in lines
    assert any(
        line.startswith("  tests/discourse/test_upgrade.py::test_error — ") for line in lines
    )
    assert not any("test_ok" in line for line in lines)


def test_json_shape(run_dir: Path) -> None:
    status, text = _call([str(run_dir), "--json"])
    assert status == 1
    files = json.loads(text)["files"]
    upgrade = next(f for f in files if f["stage"] == "upgrade")
    assert set(upgrade) == {
        "path",
        "stage",
        "error",
        "cases",
        "failures",
        "errors",
        "skipped",
        "flaky",
        "failed",
    }
    assert (upgrade["cases"], upgrade["failures"], upgrade["errors"], upgrade["skipped"]) == (
        8,
        2,
        1,
        2,
    )
    assert upgrade["error"] is None and upgrade["flaky"] == 0
    assert {f["id"] for f in upgrade["failed"]} == {
        "tests/discourse/test_upgrade.py::test_fail",
        "tests/discourse/test_upgrade.py::TestGroup::test_in_class",
        "tests/discourse/test_upgrade.py::test_error",
    }


def test_exit_zero_when_all_pass(tmp_path: Path) -> None:
    path = tmp_path / "install__cc-ci__ok.xml"
    path.write_bytes(b'<testsuite name="s"><testcase name="a"/><testcase name="b"/></testsuite>')
    status, text = _call([str(path)])
    assert status == 0 and text.strip() == "install: 2 tests: 2 passed"


def test_exit_two_for_unreadable_file(tmp_path: Path) -> None:
    good = tmp_path / "install__cc-ci__ok.xml"
    good.write_bytes(SUREFIRE)
    bad = tmp_path / "upgrade__cc-ci__half.xml"
    bad.write_bytes(BAD_FILES["truncated"][0])
    status, text = _call([str(good), str(bad)])
    assert status == 2
    assert f"  ? {bad} — truncated at line 3: still being written?" in text
    assert "  com.example.AppTest::testBroken — expected 1" in text  # the good file still shows
    status, text = _call([str(tmp_path / "missing.xml"), "--json"])
    assert status == 2 and "cannot open" in json.loads(text)["files"][0]["error"]


def test_module_entry_point(run_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "redfix_tui.junit.cli", str(run_dir), "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 1
    assert len(json.loads(done.stdout)["files"]) == 2
