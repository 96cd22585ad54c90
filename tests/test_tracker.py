"""The M1 tracker: atomic TOML storage and the STATUS table export."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from redfix_tui.tracker import Tracker, TrackerError


def test_update_saves_and_reloads(tmp_path: Path) -> None:
    path = tmp_path / "JOURNAL-redfix.tracker.toml"
    tracker = Tracker.load(path)
    tracker.update(
        "discourse",
        classification="stale or wrong test",
        isolation_run="manual",
        result="upgrade FAIL",
        root_cause='overlay test asserts "discourse/discourse:3.5.3"',
    )
    again = Tracker.load(path)
    entry = again.get("discourse")
    assert entry.classification == "stale or wrong test"
    assert entry.root_cause == 'overlay test asserts "discourse/discourse:3.5.3"'
    assert tomllib.loads(path.read_text())["recipe"]["discourse"]["result"] == "upgrade FAIL"
    left = [p for p in os.listdir(tmp_path) if p.startswith(".") and not p.endswith(".lock")]
    assert not left  # no temp file left (the lock file stays, by design)


def test_unknown_classification_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TrackerError, match="unknown classification"):
        Tracker.load(tmp_path / "t.toml").update("gitea", classification="bad luck")


def test_markdown_table(tmp_path: Path) -> None:
    tracker = Tracker.load(tmp_path / "t.toml")
    tracker.update(
        "mattermost-lts",
        isolation_run="manual",
        result="restore FAIL",
        root_cause="no restore post-hook | hot PGDATA",
        classification="recipe defect",
    )
    table = tracker.to_markdown(["discourse", "mattermost-lts"])
    assert table.splitlines() == [
        "| Recipe | Isolation run | Result | Root cause | Classification |",
        "| --- | --- | --- | --- | --- |",
        "| discourse | — | — | — | unknown |",
        "| mattermost-lts | manual | restore FAIL | no restore post-hook \\| hot PGDATA "
        "| recipe defect |",
    ]


def test_corrupt_tracker_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text("[recipe\n")
    with pytest.raises(TrackerError, match="cannot read the tracker"):
        Tracker.load(path)


WRITER = """
import sys
from pathlib import Path
from redfix_tui.tracker import Tracker

path, who = Path(sys.argv[1]), sys.argv[2]
tracker = Tracker.load(path)
for i in range(10):
    tracker.record_run(f"{who}-r{i}", f"run-{who}-{i}", result="passed")
    tracker.update(f"shared-{i}", root_cause=who)
"""


def test_concurrent_consoles_lose_no_tracker_row(tmp_path: Path) -> None:
    """Eight processes recording rows at the same moment: every row of every one is kept."""
    import subprocess
    import sys

    path = tmp_path / "J.tracker.toml"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"c{n}"]) for n in range(8)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    entries = Tracker.load(path).entries
    for n in range(8):
        for i in range(10):
            assert entries[f"c{n}-r{i}"].run_key == f"run-c{n}-{i}"
    assert all(entries[f"shared-{i}"].root_cause.startswith("c") for i in range(10))
    assert (tmp_path / ".J.tracker.toml.lock").exists()
