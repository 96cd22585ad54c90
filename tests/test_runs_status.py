"""One status vocabulary: ``runs.model.Status`` for JUnit cases and stage verdicts alike.

The ledger fixture (``tests/data/ledger/``) is the listing the ledger command sent for a demo
node with a history; ``runs.json``, ``runs.txt``, ``tracker.toml`` and ``tracker.md`` are what
``runs --json``, ``runs`` and the tracker wrote for it while stage verdicts were plain strings:
the output must stay byte for byte the same now that they are :class:`Status` members.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from redfix_tui.config import Config
from redfix_tui.junit import model as junit_model
from redfix_tui.runs.cli import ledger_text
from redfix_tui.runs.ledger import RecipeLedger, parse_ledger
from redfix_tui.runs.model import BAD, GOOD, VERDICTS, RunSummary, Status, normalise_status
from redfix_tui.runs.progress import verdict_from_suites
from redfix_tui.runs.results import read_results
from redfix_tui.tracker import Tracker

DATA = Path(__file__).parent / "data" / "ledger"


@pytest.fixture(scope="module")
def ledgers() -> dict[str, RecipeLedger]:
    """Every recipe's ledger parsed from the fixture listing."""
    data = gzip.decompress((DATA / "listing.bin.gz").read_bytes())
    found, problems = parse_ledger(data, Config())
    assert problems == []
    return dict(sorted(found.items()))


def test_junit_and_the_run_model_share_one_status() -> None:
    assert junit_model.Status is Status and junit_model.BAD is BAD
    assert {Status.FAILED, Status.ERROR} == BAD and {Status.PASSED, Status.SKIPPED} == GOOD
    assert {Status.PASSED, Status.FAILED, Status.ERROR} == VERDICTS
    assert Status.FAILED == "failed" and json.dumps({"s": Status.FAILED}) == '{"s": "failed"}'


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("ok", Status.PASSED),
        (" FAIL ", Status.FAILED),
        ("errored", Status.ERROR),
        ("skip", Status.SKIPPED),
        ("running", Status.RUNNING),
        ("sideways", Status.UNKNOWN),
        (None, Status.UNKNOWN),
        (3, Status.UNKNOWN),
    ],
)
def test_status_words_from_the_node(word: object, status: Status) -> None:
    found = normalise_status(word)
    assert found is status


def test_parsers_give_status_members() -> None:
    data = {
        "recipe": "gitea",
        "stages": [
            {"name": "install", "status": "pass", "tests": []},
            {"name": "upgrade", "status": "failure", "tests": []},
            {"name": "backup", "status": 7, "tests": []},
        ],
    }
    summary, problem = read_results("sweep-1-gitea", "", json.dumps(data))
    assert summary is not None and "stages[2].status" in problem
    assert summary.stages == {"install": "passed", "upgrade": "failed", "backup": "unknown"}
    assert all(type(v) is Status for v in summary.stages.values())
    assert summary.verdict is Status.FAILED
    assert RunSummary("m", "gitea", stages={"install": Status.SKIPPED}).verdict is Status.PASSED
    assert RunSummary("m", "gitea").verdict is Status.UNKNOWN
    tags = ['<testsuite name="t" tests="3" failures="0" errors="1" skipped="0">']
    assert verdict_from_suites(tags) is Status.ERROR
    assert verdict_from_suites(['<testsuite tests="2" skipped="2">']) is Status.SKIPPED
    assert verdict_from_suites(['<testsuite tests="x">']) is Status.UNKNOWN


def test_ledger_verdicts_are_status_members(ledgers: dict[str, RecipeLedger]) -> None:
    runs = [run for ledger in ledgers.values() for run in ledger.runs]
    assert {run.kind for run in runs} == {"sweep", "isolation"}
    assert all(type(v) is Status for run in runs for v in run.stages.values())
    assert any(v is Status.FAILED for run in runs for v in run.stages.values())


def test_runs_json_and_text_are_unchanged(ledgers: dict[str, RecipeLedger]) -> None:
    """``runs --json`` prints ``json.dumps(..., indent=1)``; ``runs`` prints the text."""
    printed = "".join(json.dumps(ledger.to_json(), indent=1) + "\n" for ledger in ledgers.values())
    assert printed == (DATA / "runs.json").read_text(encoding="utf-8")
    text = "".join(ledger_text(ledger) + "\n" for ledger in ledgers.values())
    assert text == (DATA / "runs.txt").read_text(encoding="utf-8")


def test_tracker_file_is_unchanged(ledgers: dict[str, RecipeLedger], tmp_path: Path) -> None:
    tracker = Tracker.load(tmp_path / "tracker.toml")
    for ledger in ledgers.values():
        tracker.record_ledger(ledger)
    written = (tmp_path / "tracker.toml").read_bytes()
    assert written == (DATA / "tracker.toml").read_bytes()
    assert tracker.to_markdown() == (DATA / "tracker.md").read_text(encoding="utf-8")
