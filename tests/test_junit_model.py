"""The JUnit model on real runner output (pytest, Node, ctest) and on every kind of bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redfix_tui.junit import (
    Status,
    load_case_output,
    load_junit_bytes,
    load_junit_file,
    load_run,
    load_run_from_bytes,
    reload_changed,
)
from redfix_tui.junit.compare import Verdict, compare_runs
from redfix_tui.junit.load import OUTPUT_HEAD, OUTPUT_TAIL, pytest_test_id
from redfix_tui.junit.model import STAGE_ORDER, split_junit_name
from redfix_tui.junit.safe_xml import XMLRejected, parse_fragment
from redfix_tui.junit.tree import build_tree, failures
from tests.junit_samples import (
    BAD_FILES,
    SUREFIRE,
    ctest_xml,
    node_xml,
    pytest_xml,
    xxe,
)

MODULE = "tests/discourse/test_upgrade.py"


@pytest.fixture(scope="module", params=["xunit1", "xunit2"])
def pytest_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Real pytest JUnit output in both families."""
    directory = tmp_path_factory.mktemp(request.param)
    return load_junit_bytes(
        f"upgrade__cc-ci__{request.param}.xml", pytest_xml(directory, request.param)
    )


def test_pytest_counts_and_statuses(pytest_file) -> None:
    jf = pytest_file
    assert jf.error is None
    c = jf.counts
    assert (c.total, c.passed, c.failed, c.errors, c.skipped, c.xfail) == (8, 3, 2, 1, 1, 1)
    by_id = {case.test_id: case for case in jf.iter_cases()}
    assert by_id[f"{MODULE}::test_fail"].status is Status.FAILED
    assert by_id[f"{MODULE}::test_error"].status is Status.ERROR
    assert by_id[f"{MODULE}::test_skip"].status is Status.SKIPPED
    assert by_id[f"{MODULE}::test_xfail"].status is Status.XFAIL
    assert by_id[f"{MODULE}::TestGroup::test_in_class"].status is Status.FAILED
    assert f"{MODULE}::TestGroup::test_param[c<d&e]" in by_id
    assert jf.stage == "upgrade" and jf.source == "cc-ci"


def test_pytest_failures_first_with_detail(pytest_file) -> None:
    cases = list(pytest_file.iter_cases())
    assert [c.status for c in cases[:3]] == [Status.FAILED, Status.FAILED, Status.ERROR]
    fail = next(c for c in cases if c.name == "test_fail")
    assert fail.message.startswith("AssertionError: image is bitnamilegacy")
    assert "E       assert 1 == 2" in fail.traceback
    assert fail.file == MODULE and fail.line == 11  # the assert line, from the traceback
    assert "about to fail" in fail.stdout and "warning on stderr" in fail.stderr
    assert fail.time is not None and fail.time >= 0


def test_passing_output_is_read_on_demand(pytest_file) -> None:
    ok = next(c for c in pytest_file.iter_cases() if c.name == "test_ok")
    assert ok.status is Status.PASSED and ok.stdout == "" and ok.output_pending
    stdout, _ = load_case_output(pytest_file, ok)
    assert "hello from test_ok" in stdout


def test_node_cases_under_testsuites_are_kept(tmp_path: Path) -> None:
    data, _real = node_xml(tmp_path)
    jf = load_junit_bytes("custom__recipe__a.test.xml", data)
    assert jf.error is None
    c = jf.counts
    assert (c.total, c.passed, c.failed, c.skipped) == (6, 3, 2, 1)
    ids = {case.test_id for case in jf.iter_cases()}
    assert {"top ok", "top fail", "top skip", "group::inner fail", "group > nested::deep ok"} <= ids
    inner = next(c for c in jf.iter_cases() if c.name == "inner fail")
    assert inner.message == "boom & <bad>"


def test_ctest_output(tmp_path: Path) -> None:
    data, _real = ctest_xml(tmp_path)
    jf = load_junit_bytes("custom__ctest__ctest.xml", data)
    c = jf.counts
    assert (c.total, c.passed, c.failed, c.skipped) == (3, 1, 1, 1)
    bad = next(jf.iter_cases())
    assert bad.name == "bad" and bad.message == "broken"  # empty message: falls back to output


def test_surefire_flaky_and_rerun() -> None:
    jf = load_junit_bytes("custom__mvn__AppTest.xml", SUREFIRE)
    by_name = {c.name: c for c in jf.iter_cases()}
    assert by_name["testFlaky"].status is Status.FLAKY
    assert by_name["testFlaky"].message == "timeout"
    assert "AppTest.java:12" in by_name["testFlaky"].traceback
    assert by_name["testBroken"].status is Status.FAILED and by_name["testBroken"].reruns == 1
    assert (jf.counts.flaky, jf.counts.failed, jf.counts.passed) == (1, 1, 1)


def test_bom_nested_suites_and_odd_attributes() -> None:
    data = (
        b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<testsuites><testsuite name="outer &quot;x&quot; &#9;">'
        b'<testsuite name="inner"><testcase name="t &lt;1&gt; \xc3\xa9\xe2\x9c\x93" classname="c">'
        b'<error message="m&#10;2" type="E"/></testcase></testsuite>'
        b'<testcase name="p" classname="c"/></testsuite></testsuites>'
    )
    jf = load_junit_bytes("install__x__odd.xml", data)
    assert jf.error is None and jf.counts.total == 2 and jf.counts.errors == 1
    outer = jf.suites[0]
    assert outer.suites[0].name == "inner" and outer.suites[0].counts.errors == 1
    case = outer.suites[0].cases[0]
    assert case.name == "t <1> é✓" and case.message == "m\n2"


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_each_bad_file_has_a_reason(kind: str) -> None:
    data, expected = BAD_FILES[kind]
    jf = load_junit_bytes(f"backup__cc-ci__{kind}.xml", data)
    assert jf.error is not None and expected in jf.error
    assert "\n" not in jf.error and len(jf.error) <= 200
    assert jf.suites == [] and jf.counts.total == 0
    assert jf.truncated == (kind in ("truncated", "empty"))


def test_bad_files_do_not_hide_the_good_ones(tmp_path: Path) -> None:
    files = {f"junit/backup__cc-ci__{k}.xml": v[0] for k, v in BAD_FILES.items()}
    files["junit/install__cc-ci__test_install.xml"] = SUREFIRE
    run = load_run_from_bytes("manual", files)
    assert len(run.unreadable) == len(BAD_FILES)
    good = next(jf for jf in run.files if jf.error is None)
    assert good.counts.total == 3
    tree = build_tree(run)
    bad_nodes = [item for item in failures(tree) if item.case is None]
    assert len(bad_nodes) == len(BAD_FILES)


def test_external_entity_never_reads_the_secret(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4242")
    for path in (tmp_path / "upgrade__cc-ci__xxe.xml",):
        path.write_bytes(xxe(secret))
        jf = load_junit_file(path)
        assert jf.error is not None and "external entity" in jf.error
        assert "TOPSECRET" not in repr(jf)
    with pytest.raises(XMLRejected) as raised:
        parse_fragment(xxe(secret))
    assert "TOPSECRET" not in raised.value.reason


def test_entity_bomb_is_not_expanded() -> None:
    data, _ = BAD_FILES["bomb"]
    jf = load_junit_bytes("x.xml", data)  # how fast it is refused: benchmarks/bench_guards.py
    assert jf.error is not None and "lol" not in jf.error


def test_truncated_file_is_reread_when_it_grows(tmp_path: Path) -> None:
    junit = tmp_path / "run1" / "junit"
    junit.mkdir(parents=True)
    path = junit / "restore__cc-ci__test_restore.xml"
    full = SUREFIRE
    path.write_bytes(full[: len(full) // 2])
    run = load_run(tmp_path / "run1")
    assert run.files[0].truncated and run.files[0].size == len(full) // 2
    assert reload_changed(run) == []
    path.write_bytes(full)
    reread = reload_changed(run)
    assert [jf.path for jf in reread] == [str(path)]
    assert run.files[0].error is None and run.files[0].counts.total == 3


def test_run_directory_with_results_json(tmp_path: Path) -> None:
    directory = tmp_path / "20260617-1"
    (directory / "junit").mkdir(parents=True)
    (directory / "junit" / "custom__cc-ci__test_custom.xml").write_bytes(SUREFIRE)
    (directory / "junit" / "junit.xml").write_bytes(
        b'<testsuite name="s"><testcase name="test_install_a"/></testsuite>'
    )
    results = {
        "recipe": "gitea",
        "stages": [
            {"name": "custom", "status": "fail", "tests": []},
            {"name": "install", "status": "pass", "tests": [{"name": "test_install_a"}]},
            {"name": "backup", "status": "pass", "tests": []},
        ],
    }
    (directory / "results.json").write_text(json.dumps(results))
    run = load_run(directory)
    assert run.recipe == "gitea" and run.run_id == "20260617-1"
    assert run.stages == ["install", "backup", "custom"]
    assert run.stage_status("custom") == "fail"
    assert {jf.stage for jf in run.files} == {"custom", "install"}


def test_bad_results_json_is_reported() -> None:
    run = load_run_from_bytes("r", {"install__a__b.xml": SUREFIRE}, b"{not json")
    assert run.results is None and run.results_error.startswith("results.json:")
    assert run.files[0].counts.total == 3


def test_big_output_is_capped() -> None:
    big = "x" * (OUTPUT_HEAD + OUTPUT_TAIL + 10_000)
    data = (
        f'<testsuite name="s"><testcase name="t"><failure message="m">tb</failure>'
        f"<system-out>{big}</system-out></testcase></testsuite>"
    ).encode()
    case = next(load_junit_bytes("x.xml", data).iter_cases())
    assert "10,000 characters omitted" in case.stdout
    assert case.outcome is not None and case.outcome.stdout_size == len(big)


def test_names_and_ids() -> None:
    assert split_junit_name("/r/junit/upgrade__cc-ci__test_upgrade.xml") == (
        "upgrade",
        "cc-ci",
        "test_upgrade",
    )
    assert split_junit_name("junit.xml") == ("", "", "junit")
    assert pytest_test_id("tests.mattermost-lts.test_restore", "test_x") == (
        "tests/mattermost-lts/test_restore.py::test_x"
    )
    assert pytest_test_id("tests.a.test_b.TestC", "test_d") == "tests/a/test_b.py::TestC::test_d"
    assert STAGE_ORDER[0] == "install"


def _run(run_id: str, statuses: dict[str, str]) -> object:
    """A run whose upgrade stage has one case per entry."""
    body = "".join(
        f'<testcase classname="tests.r.test_upgrade" name="{name}">'
        + ('<failure message="boom">x</failure>' if status == "failed" else "")
        + ('<flakyFailure message="slow"/>' if status == "flaky" else "")
        + "</testcase>"
        for name, status in statuses.items()
    )
    xml = f'<testsuites><testsuite name="pytest">{body}</testsuite></testsuites>'.encode()
    return load_run_from_bytes(run_id, {"upgrade__cc-ci__test_upgrade.xml": xml})


def test_compare_sweep_and_isolation() -> None:
    sweep = _run(
        "sweep", {"a": "failed", "b": "failed", "c": "passed", "d": "passed", "e": "failed"}
    )
    alone = _run(
        "manual", {"a": "passed", "b": "failed", "c": "failed", "d": "passed", "e": "flaky"}
    )
    comparison = compare_runs(sweep, alone)
    changes = {c.test_id.rsplit("::", 1)[1]: c for c in comparison.stages[0].changes}
    assert changes["a"].verdict is Verdict.FIXED and "points to load" in changes["a"].hint
    assert changes["b"].verdict is Verdict.STILL_FAILING and "deterministic" in changes["b"].hint
    assert changes["c"].verdict is Verdict.NEW_FAILURE
    assert changes["d"].verdict is Verdict.UNCHANGED
    assert changes["e"].verdict is Verdict.FLAKY
    assert comparison.stages[0].changes[0].verdict is Verdict.NEW_FAILURE
    assert len(comparison.interesting()) == 4
