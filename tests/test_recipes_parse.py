"""results.json and canonical.json checked field by field: bad fields are named, good ones kept."""

from __future__ import annotations

import json

import pytest

from redfix_tui.junit.load import load_run_from_bytes
from redfix_tui.recipes import RecipeStatus
from redfix_tui.runs.results import check_results, parse_canonical, read_results, recipe_of


def results(**overrides) -> dict:
    """A sound schema-2 results.json with an upgrade failure."""
    data = {
        "recipe": "discourse",
        "version": "0.8.1+3.5.0",
        "run_id": "sweep-1-discourse",
        "finished": "2026-06-17T03:11:40Z",
        "stages": [
            {"name": "install", "status": "passed", "tests": [{"name": "t1", "ms": 1500}]},
            {
                "name": "upgrade",
                "status": "failed",
                "tests": [{"name": "t2", "ms": 200}, {"name": "t3", "ms": 300.5}],
            },
        ],
        "flags": {"clean_teardown": True},
    }
    data.update(overrides)
    return data


def test_sound_file_has_no_problem() -> None:
    summary, problem = read_results("r", "/runs/r", json.dumps(results()).encode())
    assert problem == "" and summary is not None
    assert summary.recipe == "discourse" and summary.run_id == "sweep-1-discourse"
    assert summary.stages == {"install": "passed", "upgrade": "failed"}
    assert summary.stage_ms == {"install": 1500, "upgrade": 500}
    assert summary.verdict == "failed" and summary.flags == {"clean_teardown": True}


def test_stages_not_a_list() -> None:
    summary, problem = read_results("r", "", json.dumps(results(stages=5)))
    assert summary is not None and summary.stages == {} and summary.recipe == "discourse"
    assert problem == "results.json: stages is an integer (5), expected a list of stage objects"


def test_nan_ms_is_absent_and_the_rest_is_kept() -> None:
    text = json.dumps(results()).replace("1500", "NaN").replace("300.5", "1e400")
    summary, problem = read_results("r", "", text, "/runs/r/results.json")
    assert summary is not None and summary.stages["upgrade"] == "failed"
    assert summary.stage_ms == {"install": 0, "upgrade": 200}
    assert problem == "/runs/r/results.json: NaN is not a number; treated as absent (+1 more)"


@pytest.mark.parametrize(
    ("stages", "kept", "problem"),
    [
        (["install"], {}, "stages[0] is a string ('install'), expected a stage object"),
        ([{"status": "failed"}], {}, "stages[0].name is null, expected a stage name"),
        ([{"name": 7}], {}, "stages[0].name is an integer (7), expected a stage name"),
        (
            [{"name": "install", "status": ["x"]}],
            {"install": "unknown"},
            "stages[0].status is a list, expected a status word",
        ),
        (
            [{"name": "backup", "status": "failed", "tests": {"a": 1}}],
            {"backup": "failed"},
            "stages[0].tests is an object, expected a list of test objects",
        ),
        (
            [{"name": "backup", "status": "failed", "tests": [1]}],
            {"backup": "failed"},
            "stages[0].tests[0] is an integer (1), expected a test object",
        ),
        (
            [{"name": "backup", "status": "passed", "tests": [{"ms": -4}]}],
            {"backup": "passed"},
            "stages[0].tests[0].ms is an integer (-4), expected milliseconds (0 or more)",
        ),
        (
            [{"name": "backup", "status": "passed", "tests": [{"ms": "12"}]}],
            {"backup": "passed"},
            "stages[0].tests[0].ms is a string ('12'), expected milliseconds (0 or more)",
        ),
        (
            [{"name": "backup", "status": "passed", "tests": [{"ms": 10**30}]}],
            {"backup": "passed"},
            "stages[0].tests[0].ms is an integer (…), expected milliseconds (0 or more)",
        ),
    ],
)
def test_each_bad_field_is_named(stages: list, kept: dict, problem: str) -> None:
    summary, found = read_results("r", "", json.dumps(results(stages=stages)))
    assert summary is not None and summary.stages == kept
    assert found == f"results.json: {problem}"


def test_other_bad_fields() -> None:
    data = results(recipe="Bad Name", version=3, flags=[1], finished={"t": 1})
    summary, problem = read_results("r", "", json.dumps(data))
    assert summary is not None and summary.recipe == "" and summary.tag == ""
    assert summary.flags == {} and summary.finished is None
    assert problem == "results.json: version is an integer (3), expected a string (+3 more)"
    assert len(summary.problems) == 4


def test_unusable_files_give_no_summary() -> None:
    for data, reason in [
        (b"[" * 100_000, "nested deeper than 64 levels"),
        (b"[]", "a list, expected a JSON object"),
        (b"", "not valid JSON"),
    ]:
        summary, problem = read_results("r", "", data)
        assert summary is None and reason in problem


def test_a_big_sweep_is_read_whole() -> None:
    tests = [
        {"name": f"test_case_{n:05d}_" + "x" * 40, "status": "passed", "ms": 12}
        for n in range(3000)
    ]
    tests[2999]["status"] = "failed"
    data = json.dumps(
        results(stages=[{"name": "custom", "status": "failed", "tests": tests}])
    ).encode()
    assert len(data) > 256 * 1024
    summary, problem = read_results("r", "", data)
    assert problem == "" and summary is not None
    assert summary.stages == {"custom": "failed"} and summary.stage_ms == {"custom": 36_000}


def test_check_results_gives_schema_types() -> None:
    clean, problems = check_results({"stages": [5, {"name": "x", "tests": 3}], "flags": 2})
    assert clean["stages"] == [{"name": "x", "status": None, "tests": []}]
    assert clean["flags"] == {} and len(problems) == 3


def test_junit_run_survives_hostile_results_json() -> None:
    run = load_run_from_bytes("r", {}, json.dumps(results(stages=5)).encode())
    assert run.stages == [] and run.results_error is not None and "stages" in run.results_error
    run = load_run_from_bytes("r", {}, b"[" * 100_000)
    assert run.results is None and "nested deeper" in (run.results_error or "")
    run = load_run_from_bytes(
        "r", {}, json.dumps(results(stages=[7, {"name": "install"}])).encode()
    )
    assert run.stages == ["install"] and run.stage_status("install") == ""


def test_canonical() -> None:
    good = b'{"version": "1.0.0+v1", "commit": "abc", "status": "green", "ts": "20260617T180501Z"}'
    canonical, problem = parse_canonical(good, "c.json")
    assert problem == "" and canonical is not None and canonical.version == "1.0.0+v1"
    assert canonical.ts is not None and canonical.ts.hour == 18
    canonical, problem = parse_canonical(b'{"version": 5, "ts": "soon"}', "c.json")
    assert canonical is not None and canonical.version == "" and canonical.ts is None
    assert problem == "c.json: version is an integer (5), expected a string"
    canonical, problem = parse_canonical(b'["1.0"]', "c.json")
    assert canonical is None and problem == "c.json: a list, expected a JSON object"
    canonical, problem = parse_canonical(b'{"version": ' + b"[" * 100_000, "c.json")
    assert canonical is None and problem == "c.json: nested deeper than 64 levels"
    canonical, problem = parse_canonical(b'{"version": "1", "ts": NaN}', "c.json")
    assert canonical is not None and canonical.version == "1" and canonical.ts is None
    assert problem == "c.json: NaN is not a number; treated as absent"


def test_recipe_of_an_unreadable_file() -> None:
    names = ["gitea", "mattermost", "mattermost-lts"]
    assert recipe_of("run", b'{"recipe": "gitea", "stages": [[[[', names) == "gitea"
    assert recipe_of("sweep-2026-mattermost-lts", b"[[[", names) == "mattermost-lts"
    assert recipe_of("manual", b"[[[", names) is None
    assert recipe_of("manual", b'{"recipe": "forgejo"', names) is None


def test_status_problem_is_one_line() -> None:
    status = RecipeStatus("gitea")
    assert status.problem == ""
    status.problems += ["a: bad", "b: worse"]
    assert status.problem == "a: bad (+1 more)"


async def test_rerun_outcome_reads_results_json_defensively() -> None:
    from redfix_tui.config import Config
    from redfix_tui.node import CommandResult
    from redfix_tui.runs.control import RunControl
    from tests.test_runs_outcome import FakeNode, state

    async def outcome(text: str):
        node = FakeNode(results=CommandResult("cat", text, "", 0))
        return await RunControl(node, Config()).outcome(state())  # type: ignore[arg-type]

    deep = await outcome('{"recipe": "discourse", "stages": ' + "[" * 100_000)
    assert deep.source == "junit" and deep.problems == [
        "/var/lib/cc-ci-runs/manual/results.json: nested deeper than 64 levels; verdicts from JUnit"
    ]
    nan = json.dumps(results(finished="2026-06-18T00:09:00Z")).replace("1500", "NaN")
    kept = await outcome(nan)
    assert kept.source == "results.json" and kept.stages["upgrade"] == "failed"
    assert kept.problems == [
        "/var/lib/cc-ci-runs/manual/results.json: NaN is not a number; treated as absent"
    ]
    other = await outcome(nan.replace('"discourse"', '"gitea"'))
    assert other.source == "junit" and other.problems == []  # another recipe's run


def test_isolation_run_predicate() -> None:
    """One rule for 'is this an isolation run', shared by the board, the JUnit pane and the
    ledger: the configured manual run id, alone or with a ``-suffix``."""
    from redfix_tui.runs.results import is_isolation_run

    assert is_isolation_run("manual", "manual")
    assert is_isolation_run("manual-20260618T0005Z", "manual")
    assert not is_isolation_run("manualx", "manual")
    assert not is_isolation_run("sweep-20260617T0300Z-gitea", "manual")
    assert is_isolation_run("iso-2", "iso")
