"""The console in a real tmux: ``redfix-tui --demo`` shows the six recipes and quits on ``q``."""

from __future__ import annotations

import shutil
import sys

import pytest

from tests.tmux import Tmux

pytestmark = pytest.mark.tmux

RECIPES = ("discourse", "mattermost-lts", "mumble", "bluesky-pds", "gitea", "keycloak")


@pytest.fixture
def tmux_available() -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (.ci/run installs it)")


def test_demo_lists_the_six_recipes_at_80x24(tmux_available, tmp_path) -> None:
    tmux = Tmux(
        [sys.executable, "-m", "redfix_tui", "--demo", "--demo-dir", str(tmp_path / "demo")],
        width=80,
        height=24,
        env={"REDFIX_DEMO_SPEED": "0.05"},
    )
    try:
        screen = tmux.wait_for(lambda s: all(r[:12] in s for r in RECIPES), timeout=30)
        assert "connected" in screen
        assert "Recipes (6)" in screen
        assert len(screen.splitlines()) <= 24
        # keyboard only: move down the list and see the detail line follow
        tmux.send("Down")
        tmux.wait_for(lambda s: "tag 0.8.1+3.5.0" in s, timeout=10)  # discourse's latest tag
        tmux.send("q")
        tmux.wait_for(lambda s: tmux.dead(), timeout=10)
    finally:
        tmux.kill()
