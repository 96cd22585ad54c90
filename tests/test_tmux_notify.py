"""The bell and the terminal title reach a real tmux: a rerun that ends while its window is
hidden sets the pane's title (``redfix: discourse ✘ upgrade``) and the window's bell flag."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.tmux import Tmux

pytestmark = pytest.mark.tmux


def pane(tmux: Tmux, fmt: str, target: str = "t:0") -> str:
    """A tmux format of the console's window (not the current one)."""
    return tmux._tmux("display-message", "-p", "-t", target, fmt).strip()


def wait_until(check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout}s")
        time.sleep(0.1)


def test_rerun_end_rings_the_bell_and_titles_a_hidden_window(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    tmux = Tmux(
        [sys.executable, "-m", "redfix_tui", "--demo-dir", str(demo)],
        width=80,
        height=24,
        env={"REDFIX_DEMO_SPEED": "0.35", "XDG_STATE_HOME": str(tmp_path / "state")},
        cwd=tmp_path,
    )
    try:
        tmux.wait_for(lambda s: "keycloak" in s and "connected" in s, timeout=30)
        tmux.wait_for(lambda s: "mattermost-lts  tag" in s, timeout=10)
        tmux.send("Up", "Up", "Up")  # discourse: its upgrade stage fails in the demo
        tmux.wait_for(lambda s: "discourse  tag" in s, timeout=10)
        tmux.send("r")
        tmux.wait_for(lambda s: "Start an isolation rerun of discourse?" in s, timeout=10)
        tmux.send("Enter")
        tmux.wait_for(lambda s: "▶ discourse pid" in s, timeout=15)
        assert "redfix:" not in pane(tmux, "#{pane_title}")
        # hide the console: another window becomes the current one
        tmux._tmux("new-window", "-t", "t:1", "sleep 600")
        assert pane(tmux, "#{window_active}") == "0"
        wait_until(lambda: "redfix: discourse" in pane(tmux, "#{pane_title}"), timeout=120)
        assert pane(tmux, "#{pane_title}") == "redfix: discourse ✘ upgrade"
        wait_until(lambda: pane(tmux, "#{window_bell_flag}") == "1", timeout=10)
    finally:
        tmux.kill()
