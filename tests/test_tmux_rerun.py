"""Reruns in a real tmux at 80×24, keyboard only: pick a red recipe, start its rerun, watch it,
close the console and reopen it on the same still-running rerun, see its verdicts, classify it.
"""

from __future__ import annotations

import re
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests.tmux import Tmux

pytestmark = pytest.mark.tmux


def console(demo: Path) -> Tmux:
    return Tmux(
        [sys.executable, "-m", "redfix_tui", "--demo-dir", str(demo)],
        width=80,
        height=24,
        env={"REDFIX_DEMO_SPEED": "0.35", "XDG_STATE_HOME": str(demo / "state")},
    )


def test_rerun_flow_keyboard_only(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    tmux = console(demo)
    try:
        tmux.wait_for(lambda s: "keycloak" in s and "connected" in s, timeout=30)
        tmux.wait_for(lambda s: "mattermost-lts  tag" in s, timeout=10)  # where it starts
        tmux.send("Up", "Up", "Up")  # → keycloak → gitea → discourse (red in the sweep: upgrade)
        tmux.wait_for(lambda s: "discourse  tag 0.8.1+3.5.0" in s, timeout=10)
        tmux.send("r")
        screen = tmux.wait_for(lambda s: "Start an isolation rerun of discourse?" in s, timeout=10)
        assert "RECIPE=discourse CCCI_SKIP_FETCH=1" in screen.replace("\n", " ")
        tmux.send("Enter")
        tmux.wait_for(lambda s: "▶ discourse pid" in s, timeout=15)
        tmux.wait_for(lambda s: "stage: install" in s, timeout=20)  # the log follows the rerun
        tmux.send("r")  # a second rerun is refused while this one runs
        tmux.wait_for(lambda s: "in flight" in s, timeout=10)
        tmux.send("q")
        tmux.wait_for(lambda s: tmux.dead(), timeout=10)
    finally:
        tmux.kill()

    state = (demo / "node" / "tmp" / "redfix-discourse.rerun").read_text()
    assert "exit" not in state  # closing the console did not stop the run

    again = console(demo)
    try:
        again.wait_for(lambda s: "▶ discourse pid" in s, timeout=30)  # re-attached
        again.wait_for(lambda s: re.search(r"stage: (upgrade|backup|restore|custom)", s), 40)
        again.wait_for(lambda s: "idle" in s, timeout=60)  # run ended; in-flight check quiet
        # the board shows the isolation verdicts: upgrade failed, the rest passed (after the
        # canonical and its age when the board has room for them)
        verdicts = r"discourse\s+(?:\S+\s+){0,2}\S{5}\s+✔✘✔✔✔"
        again.wait_for(lambda s: re.search(verdicts, s), timeout=30)
        again.send("c")
        again.wait_for(lambda s: "Classify discourse" in s, timeout=10)
        time.sleep(0.3)  # let the dialog take the keyboard
        again.send("Home")
        again.send("Down", "Down")  # flake under load → recipe defect → stale or wrong test
        again.send("Enter")
        time.sleep(0.3)  # the pick moves the keyboard to the root-cause field (human pace)
        again.type("overlay test asserts a migration absent upstream")
        again.wait_for(lambda s: "overlay test asserts" in s, timeout=10)
        again.send("Enter")
        again.wait_for(lambda s: "Classify discourse" not in s, timeout=10)
        tracker = demo / "JOURNAL-redfix.tracker.toml"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            row = (
                tomllib.loads(tracker.read_text())["recipe"].get("discourse", {})
                if (tracker.exists())
                else {}
            )
            if row.get("root_cause"):
                break
            time.sleep(0.1)
        assert row["classification"] == "stale or wrong test"
        assert row["root_cause"] == "overlay test asserts a migration absent upstream"
        assert "upgrade ✘" in row["result"] or "upgrade ✘" in row.get("stages", "")
    finally:
        again.send("q")
        time.sleep(0.3)
        again.kill()
