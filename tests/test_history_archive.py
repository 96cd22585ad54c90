"""What the console says about the run archive: a run the wrapper could not archive (one line, and
in the detail line), and the archive's file system running low (the status bar's disk field) —
against the demo node over SSH."""

from __future__ import annotations

from pathlib import Path

from redfix_tui.runs.control import RunControl
from redfix_tui.widgets.status_bar import NodeStatusBar
from tests.pilot_helpers import loaded, new_app, notes, until

FAKE_DF = """#!/bin/sh
# the archive on a small file system of its own, runs_root on a roomy one
echo 'Filesystem     1-blocks        Used   Available Capacity Mounted on'
case "$*" in
  *redfix-tui*) echo '/dev/sdb1 1073741824 549453824 524288000 52% /archive' ;;
esac
echo '/dev/sda1 107374182400 67108864000 40265318400 63% /'
"""


async def test_a_run_that_was_not_archived_is_one_line(demo, tmp_path: Path) -> None:
    served, config = demo
    served.node.archive.mkdir(parents=True, exist_ok=True)
    (served.node.archive / "mumble").write_text("a file where the recipe's directory goes\n")
    app = new_app(config, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot)
        screen = app.screen
        await RunControl(screen.session.node, config).start("mumble", "1.0.0+v1.6.870-0")
        said = f"mumble: the run was not archived (archiving failed at mkdir ({served.node.archive}"
        await until(pilot, lambda: any(said in n for n in notes(app)), timeout=60)
        (line,) = [n for n in notes(app) if said in n]
        assert line.startswith("Archive: ") and "\n" not in line
        assert line.endswith("check free space and [paths] archive on the node")
        assert screen.reruns.run_detail("mumble").startswith(
            "last run not archived: archiving failed at mkdir ("
        )
        await pilot.pause(3)  # later refreshes do not say it again
        assert len([n for n in notes(app) if said in n]) == 1


async def test_the_archive_file_system_running_low_is_shown(demo, tmp_path: Path) -> None:
    served, config = demo
    df = served.node.root / "bin" / "df"
    df.write_text(FAKE_DF)
    df.chmod(0o755)
    app = new_app(config, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot)
        bar = app.screen.query_one(NodeStatusBar)
        await until(pilot, lambda: bar.archive_free is not None)
        assert bar.archive_free == 524288000
        text = bar.render().plain
        assert "disk 38G free · archive 500M free ⚠ low" in text
        styles = {str(span.style) for span in bar.render().spans}
        assert "bold yellow" in styles


async def test_one_file_system_shows_one_field(demo, tmp_path: Path) -> None:
    _served, config = demo
    app = new_app(config, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot)
        screen = app.screen
        await until(pilot, lambda: screen.reruns._disk_read_at > 0)
        bar = screen.query_one(NodeStatusBar)
        assert bar.archive_free is None
        assert "archive" not in bar.render().plain and " free" in bar.render().plain
