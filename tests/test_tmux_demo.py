"""The console in a real tmux: ``redfix-tui --demo`` shows the six recipes and quits on ``q``."""

from __future__ import annotations

import re
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
        # The board stacks above the log, at most a third of the height: it shows some rows and
        # scrolls to the others (the walk below visits all six).
        screen = tmux.wait_for(lambda s: "Recipes (6)" in s and "connected" in s, timeout=30)
        assert len(screen.splitlines()) <= 24
        # it starts on the recipe whose isolation rerun finished last, with that rerun's log
        tmux.wait_for(lambda s: "mattermost-lts  tag 2.1.9+10.11.15" in s, timeout=10)
        tmux.wait_for(lambda s: "verdict: FAIL mattermost-lts" in s, timeout=10)
        # keyboard only: move up the list and see the detail line follow
        tmux.send("Up")
        tmux.wait_for(lambda s: "keycloak  tag 10.2.0+26.3.2" in s, timeout=10)
        # every recipe is on the board: walk it from the top, each row in view as it is reached
        for _ in RECIPES:
            tmux.send("Up")
        for step, recipe in enumerate(sorted(RECIPES)):
            if step:
                tmux.send("Down")
            row = re.compile(rf"^│ {re.escape(recipe)} ", re.MULTILINE)  # the board's row
            tmux.wait_for(lambda s, r=recipe, row=row: f"{r}  tag" in s and row.search(s), 10)
        tmux.send("q")
        tmux.wait_for(lambda s: tmux.dead(), timeout=10)
    finally:
        tmux.kill()
