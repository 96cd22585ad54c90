"""A console over fixed data for snapshots and layout tests: six recipes, tracker rows, the node's
state and a rerun in flight, on a main screen that neither loads nor ticks, with a fixed clock, so
nothing shown depends on time, ports or temporary paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.pilot import Pilot

from redfix_tui.app import RedfixApp, create_app
from redfix_tui.config import Config
from redfix_tui.recipes import RecipeStatus
from redfix_tui.runs.model import Canonical, RunSummary
from redfix_tui.runs.state import NodeStatus, Process, RerunState
from redfix_tui.session import Session
from redfix_tui.tracker import TrackerEntry
from redfix_tui.widgets.recipe_board import Progress, RecipeBoard
from redfix_tui.widgets.status_bar import NodeStatusBar

NOW = datetime(2026, 6, 18, 0, 20, 0, tzinfo=UTC)
STAGES = ("install", "upgrade", "backup", "restore", "custom")


def run(run_id: str, failed: tuple[str, ...] = (), skipped: tuple[str, ...] = ()) -> RunSummary:
    """A run whose stages passed except ``failed`` (and ``skipped``)."""
    stages = {
        s: "failed" if s in failed else "skipped" if s in skipped else "passed" for s in STAGES
    }
    return RunSummary(run_id, "", stages=stages, stage_ms=dict.fromkeys(STAGES, 70_000))


def canonical(version: str, ts: datetime) -> Canonical:
    """A green canonical written at ``ts``."""
    return Canonical(version, "abc", "green", ts)


STATUSES = [
    RecipeStatus("bluesky-pds", "0.3.2+v0.4.158", None, run("sweep", failed=("custom",)), None),
    RecipeStatus(
        "discourse",
        "0.8.1+3.5.0",
        canonical("0.8.0+3.4.6", NOW - timedelta(days=7)),
        run("sweep", failed=("upgrade",)),
        run("manual", failed=("upgrade",)),
    ),
    RecipeStatus(
        "gitea",
        "3.4.1+1.24.5-rootless",
        canonical("3.4.0+1.24.3-rootless", NOW - timedelta(days=24)),
        run("sweep", failed=("install",), skipped=STAGES[1:]),
        None,
    ),
    RecipeStatus(
        "keycloak",
        "10.2.0+26.3.2",
        canonical("10.1.1+26.2.5", NOW - timedelta(days=7)),
        run("sweep", failed=("backup",)),
        None,
    ),
    RecipeStatus(
        "mattermost-lts",
        "2.1.9+10.11.15",
        canonical("2.1.8+10.11.14", NOW - timedelta(days=14)),
        run("sweep", failed=("restore",)),
        None,
    ),
    RecipeStatus(
        "mumble",
        "1.0.0+v1.6.870-0",
        canonical("1.0.0+v1.6.870-0", NOW - timedelta(hours=6)),
        run("sweep", failed=("custom",)),
        None,
    ),
]
TRACKER = {
    "discourse": TrackerEntry(
        "discourse", "manual 2026-06-17T23:19Z", "upgrade ✘", "overlay test", "stale or wrong test"
    ),
    "mattermost-lts": TrackerEntry(
        "mattermost-lts",
        "manual 2026-06-17T23:43Z",
        "restore ✘",
        "no restore post-hook",
        "recipe defect",
        stages="install ✔ upgrade ✔ backup ✔ restore ✘ custom ✔",
    ),
}
RERUN = RerunState(
    recipe="mumble",
    tag="1.0.0+v1.6.870-0",
    pid=4242,
    log="/tmp/redfix-mumble.log",
    started="2026-06-18T00:08:00+00:00",
    command="",
)
NODE = NodeStatus(
    in_flight=[Process(4242, "python3 /etc/cc-ci/runner/run_recipe_ci.py", 4242, 720)],
    reruns=[RERUN],
    disk_free=38 * 1024**3,
    sweep_next=NOW + timedelta(days=3, hours=2, minutes=40),
    stacks=["traefik_ci_coopcloud_tech", "mumble_ci_coopcloud_tech"],
    refreshed=NOW,
)


def app() -> RedfixApp:
    """The console over fixed data (cc-ci's default paths; nothing is loaded)."""
    session = Session(Config(), Path("/srv/redfix/JOURNAL-redfix.md"), "redfix", clock=lambda: NOW)
    return create_app(session, tick=False, load=False)


async def inject(pilot: Pilot, *, cursor: str = "discourse") -> None:
    """Put the fixed statuses, tracker rows, node status and run progress on the screen."""
    await pilot.pause()
    screen = pilot.app.screen
    screen.tracker.entries = dict(TRACKER)
    screen.statuses = STATUSES
    screen.node_status = NODE
    bar = screen.query_one(NodeStatusBar)
    bar.connection, bar.host, bar.node_status = "connected", "cc-ci", NODE
    bar.run_progress = "backup 0:42/1:10"
    board = screen.query_one(RecipeBoard)
    board.show(STATUSES, screen.tracker.entries)
    board.set_progress(
        {"mumble": Progress("backup", 42, 70, {"install": "passed", "upgrade": "passed"})}
    )
    board.set_teardown("keycloak", False)
    board.focus()
    board.move_cursor(row=board.get_row_index(cursor))
    screen.selected = cursor
    await pilot.pause()
    # No log is followed here (nothing is loaded): drop the selection's pending follow.
    if screen._follow_timer is not None:
        screen._follow_timer.stop()
    screen._show_detail()
    await pilot.pause()
