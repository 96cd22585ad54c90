"""RunControl.outcome degrades part by part; a failing command is named in one short line."""

from __future__ import annotations

import json

import pytest

from redfix_tui.config import Config
from redfix_tui.node import CommandResult, NodeError
from redfix_tui.runs.control import RunControl, command_problem
from redfix_tui.runs.state import RerunState, parse_state

SUITE = '<testsuite name="s" tests="3" failures="{f}" errors="0" skipped="0">'


class FakeNode:
    """Answers the outcome's three commands: results.json, the JUnit listing, the stacks."""

    def __init__(self, results: CommandResult | None = None, stacks: CommandResult | None = None):
        self.results = results
        self.stacks = stacks
        self.listing = "\n".join(
            [
                "junit 1500 install__cc-ci__test_install.xml",
                SUITE.format(f=0),
                "junit 1600 upgrade__cc-ci__test_upgrade.xml",
                SUITE.format(f=1),
                "junit 2100 backup__cc-ci__test_backup.xml",  # after the run's end: not its own
                SUITE.format(f=0),
            ]
        )

    async def run(self, command: str, **_: object) -> CommandResult:
        if command.startswith("cat -- "):
            return self.results or CommandResult(command, "", "cat: No such file", 1)
        if "for f in *.xml" in command:
            return CommandResult(command, self.listing, "", 0)
        if "docker" in command:
            return self.stacks or CommandResult(command, "traefik_ci\n", "", 0)
        raise AssertionError(f"unexpected command {command}")


def state(**kw) -> RerunState:
    return RerunState(
        "discourse", "1.0.0", 4242, "/tmp/l", "2026-06-18T00:05:00+00:00", "true", 1, 1000, **kw
    )


async def test_missing_docker_keeps_verdicts() -> None:
    stacks = CommandResult("docker stack ls", "", "sh: 1: docker: not found\n", 127)
    runs = RunControl(FakeNode(stacks=stacks), Config())  # type: ignore[arg-type]
    outcome = await runs.outcome(state(stacks_before=("traefik_ci",), end_epoch=2000))
    assert outcome.teardown_clean is None
    assert outcome.problems == ["teardown check: docker not found"]
    assert outcome.source == "junit"
    assert outcome.stages == {"install": "passed", "upgrade": "failed"}  # backup: a later run's


async def test_unreadable_results_json_falls_back_to_junit() -> None:
    bad = CommandResult("cat", '{"recipe": "discourse", "stages": [', "", 0)
    runs = RunControl(FakeNode(results=bad), Config())  # type: ignore[arg-type]
    outcome = await runs.outcome(state(stacks_before=("traefik_ci",)))
    assert outcome.source == "junit" and outcome.stages["upgrade"] == "failed"
    assert outcome.teardown_clean is True
    assert len(outcome.problems) == 1 and "results.json" in outcome.problems[0]


async def test_results_json_of_this_run_wins() -> None:
    data = {
        "schema": 2,
        "recipe": "discourse",
        "finished": "2026-06-18T00:09:00Z",
        "stages": [{"name": "install", "status": "passed", "tests": []}],
    }
    good = CommandResult("cat", json.dumps(data), "", 0)
    runs = RunControl(FakeNode(results=good), Config())  # type: ignore[arg-type]
    outcome = await runs.outcome(state())
    assert outcome.source == "results.json" and outcome.stages == {"install": "passed"}


async def test_lost_connection_raises() -> None:
    class Lost(FakeNode):
        async def run(self, command: str, **_: object) -> CommandResult:
            raise NodeError("connection to cc-ci lost", kind="lost")

    with pytest.raises(NodeError, match="lost"):
        await RunControl(Lost(), Config()).outcome(state())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stderr", "status", "expected"),
    [
        ("sh: 1: docker: not found\n", 127, "docker not found"),
        ("bash: docker: command not found\n", 127, "docker not found"),
        ("env: 'docker': No such file or directory\n", 127, "docker not found"),
        ("sh: 1: /srv/bin/docker: not found\n", 127, "docker not found"),
        ("Cannot connect to the Docker daemon\nmore\n", 1, "Cannot connect to the Docker daemon"),
        ("", 2, "exit status 2"),
    ],
)
def test_command_problem(stderr: str, status: int, expected: str) -> None:
    assert command_problem(CommandResult("docker stack ls", "", stderr, status)) == expected


def test_state_file_records_the_end() -> None:
    text = json.dumps(
        {"recipe": "gitea", "tag": "1", "log": "/tmp/l", "started": "2026-06-18T00:05:00+00:00"}
    )
    parsed = parse_state(f"{text}\npid 77\nstart 1000\nexit 1\nend 1234\n")
    assert parsed is not None and (parsed.exit_status, parsed.end_epoch) == (1, 1234)
    assert parsed.key == "gitea 2026-06-18T00:05:00+00:00 pid 77"
