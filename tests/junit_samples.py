# ruff: noqa: E501  (verbatim runner output below keeps its long lines)
"""JUnit XML for the junit tests: produced by real runners where possible, else written to match.

``pytest_xml`` runs real pytest (xunit1 / xunit2), ``node_xml`` Node's test runner, ``ctest_xml``
real ctest when cmake is installed. ``BAD_FILES`` are the broken inputs a loader must survive
(truncated, empty, HTML, XXE, entity bombs…).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

SAMPLE_TESTS = """
import sys
import pytest

def test_ok():
    print("hello from test_ok")

def test_fail():
    print("about to fail")
    print("warning on stderr", file=sys.stderr)
    assert 1 == 2, "image is bitnamilegacy"

@pytest.fixture
def broken():
    raise RuntimeError("setup boom")

def test_error(broken):
    pass

def test_skip():
    pytest.skip("not today")

@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False

class TestGroup:
    def test_in_class(self):
        assert "a" == "b"

    @pytest.mark.parametrize("value", ["a.b", "c<d&e"])
    def test_param(self, value):
        pass
"""

NODE_TESTS = """
import test, { describe, it } from 'node:test';
import assert from 'node:assert';
test('top ok', () => {});
test('top fail', () => { assert.strictEqual(1, 2); });
test('top skip', { skip: 'nope' }, () => {});
describe('group', () => {
  it('inner ok', () => {});
  it('inner fail', () => { throw new Error('boom & <bad>'); });
  describe('nested', () => { it('deep ok', () => {}); });
});
"""

NODE_WRITTEN = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites>
\t<testcase name="top ok" time="0.001" classname="test"/>
\t<testcase name="top fail" time="0.001" classname="test" failure="1 !== 2">
\t\t<failure type="testCodeFailure" message="1 !== 2">AssertionError
    at TestContext.&lt;anonymous> (file:///t/a.test.mjs:4:33)</failure>
\t</testcase>
\t<testcase name="top skip" time="0.0002" classname="test">
\t\t<skipped type="skipped" message="nope"/>
\t</testcase>
\t<testsuite name="group" time="0.004" tests="3" failures="1" skipped="0">
\t\t<testcase name="inner ok" time="0.0003" classname="test"/>
\t\t<testcase name="inner fail" time="0.0003" classname="test">
\t\t\t<failure type="testCodeFailure" message="boom &amp; &lt;bad>">Error: boom</failure>
\t\t</testcase>
\t\t<testsuite name="nested" time="0.0005" tests="1" failures="0" skipped="0">
\t\t\t<testcase name="deep ok" time="0.0003" classname="test"/>
\t\t</testsuite>
\t</testsuite>
\t<!-- tests 6 -->
</testsuites>
"""

CTEST_WRITTEN = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="t" tests="3" failures="1" disabled="0" skipped="1" hostname="" time="0"
\ttimestamp="2026-06-17T23:20:00" >
\t<testcase name="ok" classname="ok" time="0.0018" status="run">
\t\t<system-out>fine
</system-out>
\t</testcase>
\t<testcase name="bad" classname="bad" time="0.0017" status="fail">
\t\t<failure message=""/>
\t\t<system-out>broken
</system-out>
\t</testcase>
\t<testcase name="skipme" classname="skipme" time="0.0016" status="notrun">
\t\t<skipped message="SKIP_RETURN_CODE=77"/>
\t\t<system-out></system-out>
\t</testcase>
</testsuite>
"""

SUREFIRE = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.example.AppTest" tests="3" failures="1" errors="0" skipped="0" time="1.2">
  <testcase name="testFlaky" classname="com.example.AppTest" time="0.3">
    <flakyFailure message="timeout" type="java.lang.AssertionError">
      <stackTrace>java.lang.AssertionError: timeout
\tat com.example.AppTest.testFlaky(AppTest.java:12)</stackTrace>
      <system-out>first attempt</system-out>
    </flakyFailure>
  </testcase>
  <testcase name="testBroken" classname="com.example.AppTest" time="0.5">
    <failure message="expected 1" type="java.lang.AssertionError">trace</failure>
    <rerunFailure message="expected 1" type="java.lang.AssertionError">
      <stackTrace>t</stackTrace>
    </rerunFailure>
  </testcase>
  <testcase name="testFine" classname="com.example.AppTest" time="0.1"/>
</testsuite>
"""

LOLZ = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b']>\n<testsuite name="&lol9;"><testcase name="&lol9;"/></testsuite>\n'
)


def xxe(secret: Path) -> bytes:
    """A JUnit file whose entity points at ``secret``."""
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE testsuite [<!ENTITY x SYSTEM "file://'
        + str(secret).encode()
        + b'">]>\n<testsuite name="x"><testcase name="&x;"><failure message="&x;">&x;</failure>'
        b"</testcase></testsuite>\n"
    )


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "truncated": (
        b'<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="pytest tests">\n'
        b'<testsuite name="pytest"><testcase classname="tests.a.test_x" name="test_1" ti',
        "truncated",
    ),
    "empty": (b"", "empty file"),
    "html": (
        b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
        b"<body><h1>502</h1><br></body></html>",
        "HTML page, not JUnit XML: “502 Bad Gateway”",
    ),
    "text": (b"Traceback (most recent call last):\n  File x\nOSError: disk full\n", "not XML"),
    "utf8": (
        b'<?xml version="1.0" encoding="utf-8"?><testsuite name="s">'
        b'<testcase name="caf\xe9 \xff"/></testsuite>',
        "invalid UTF-8",
    ),
    "bomb": (LOLZ, "rejected: DOCTYPE with entity declarations"),
    "passwd": (
        b'<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        b'<testsuite name="x"><testcase name="&x;"/></testsuite>\n',
        "rejected: DOCTYPE with an external entity",
    ),
}


def pytest_xml(directory: Path, family: str) -> bytes:
    """Run real pytest on ``SAMPLE_TESTS`` with ``junit_family=family``; return the XML."""
    tests = directory / "tests" / "discourse"
    tests.mkdir(parents=True, exist_ok=True)
    (tests / "test_upgrade.py").write_text(SAMPLE_TESTS)
    out = directory / f"{family}.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-o",
            f"junit_family={family}",
            "-o",
            "junit_logging=all",
            f"--junitxml={out}",
            "--rootdir",
            str(directory),
            "tests",
        ],
        cwd=directory,
        capture_output=True,
        check=False,
        timeout=120,
    )
    return out.read_bytes()


def node_xml(directory: Path) -> tuple[bytes, bool]:
    """Node's junit reporter output (real when ``node`` exists); and whether it was real."""
    node = shutil.which("node")
    if node is None:
        return NODE_WRITTEN, False
    (directory / "a.test.mjs").write_text(NODE_TESTS)
    out = directory / "node.xml"
    subprocess.run(
        [
            node,
            "--test",
            "--test-reporter=junit",
            f"--test-reporter-destination={out}",
            "a.test.mjs",
        ],
        cwd=directory,
        capture_output=True,
        check=False,
        timeout=120,
    )
    return out.read_bytes(), True


def ctest_xml(directory: Path) -> tuple[bytes, bool]:
    """ctest's ``--output-junit`` (real when cmake/ctest exist); and whether it was real."""
    cmake, ctest = shutil.which("cmake"), shutil.which("ctest")
    if cmake is None or ctest is None:
        return CTEST_WRITTEN, False
    (directory / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.10)\nproject(t NONE)\nenable_testing()\n"
        'add_test(NAME ok COMMAND sh -c "echo fine")\n'
        'add_test(NAME bad COMMAND sh -c "echo broken; exit 3")\n'
        'add_test(NAME skipme COMMAND sh -c "exit 77")\n'
        "set_tests_properties(skipme PROPERTIES SKIP_RETURN_CODE 77)\n"
    )
    build = directory / "build"
    subprocess.run(
        [cmake, "-S", str(directory), "-B", str(build)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    subprocess.run(
        [ctest, "--output-junit", "ctest.xml"],
        cwd=build,
        capture_output=True,
        check=False,
        timeout=120,
    )
    return (build / "ctest.xml").read_bytes(), True


UPGRADE_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" tests="4">
<testcase classname="tests.discourse.test_upgrade" name="test_head_runs_official_image" time="2.310">
<failure message="AssertionError: app image is bitnamilegacy/discourse:3.5.0&#10;assert 'bitnamilegacy/discourse:3.5.0' == 'discourse/discourse:3.5.3'">def test_head_runs_official_image(stack):
        image = stack.image("app")
&gt;       assert image == "discourse/discourse:3.5.3", f"app image is {image}"
E       AssertionError: app image is bitnamilegacy/discourse:3.5.0
E       assert 'bitnamilegacy/discourse:3.5.0' == 'discourse/discourse:3.5.3'

tests/discourse/test_upgrade.py:41: AssertionError</failure>
<system-out>deploying head f87c612d
converged: UpdateStatus=completed
</system-out></testcase>
<testcase classname="tests.discourse.test_upgrade" name="test_sidekiq_service_dropped_by_head" time="0.870">
<failure message="AssertionError: services ['app', 'db', 'redis', 'sidekiq']">tests/discourse/test_upgrade.py:58: AssertionError</failure></testcase>
<testcase classname="tests.discourse.test_upgrade" name="test_upgrade_converges" time="61.002"><system-out>ok</system-out></testcase>
<testcase classname="tests.discourse.test_upgrade" name="test_chaos_label" time="0.101"><skipped type="pytest.skip" message="no chaos label on this tag"/></testcase>
</testsuite></testsuites>
"""

INSTALL_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" tests="3">
<testcase classname="tests.discourse.test_install" name="test_deploy" time="48.200"/>
<testcase classname="tests.discourse.test_install" name="test_status_200" time="1.100"/>
<testcase classname="tests.discourse.test_install" name="test_known_bug" time="0.300"><skipped type="pytest.xfail" message="upstream #123"/></testcase>
</testsuite></testsuites>
"""


def fixture_files() -> dict[str, bytes]:
    """A fixed run: install green, upgrade red, backup still being written, restore green."""
    return {
        "/var/lib/cc-ci-runs/manual/junit/install__cc-ci__test_install.xml": INSTALL_XML,
        "/var/lib/cc-ci-runs/manual/junit/upgrade__cc-ci__test_upgrade.xml": UPGRADE_XML,
        "/var/lib/cc-ci-runs/manual/junit/backup__cc-ci__test_backup.xml": UPGRADE_XML[:200],
        "/var/lib/cc-ci-runs/manual/junit/restore__cc-ci__test_restore.xml": SUREFIRE,
    }


FIXTURE_RESULTS = (
    b'{"recipe": "discourse", "run_id": "manual", "stages": ['
    b'{"name": "install", "status": "pass"}, {"name": "upgrade", "status": "fail"},'
    b'{"name": "backup", "status": "running"}, {"name": "restore", "status": "pass"}]}'
)
