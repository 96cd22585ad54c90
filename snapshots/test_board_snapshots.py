"""Snapshots of the recipe board (80×24 and 160×50) and the rerun confirmation (80×24).

Built from fixed data injected into a main screen that neither loads nor ticks, with a fixed
clock (``tests/fixed_console.py``), so nothing in them depends on time, ports or temporary paths.
"""

from __future__ import annotations

from textual.widgets import Input

from redfix_tui.widgets.rerun_dialogs import RerunConfirm
from tests.fixed_console import app, inject


def test_board_80x24(snap_compare) -> None:
    assert snap_compare(app(), terminal_size=(80, 24), run_before=inject)


def test_board_160x50(snap_compare) -> None:
    assert snap_compare(app(), terminal_size=(160, 50), run_before=inject)


def test_rerun_confirmation_80x24(snap_compare) -> None:
    async def confirm(pilot) -> None:
        await inject(pilot, cursor="gitea")
        runs = pilot.app.screen.session.runs
        await pilot.app.push_screen(
            RerunConfirm(
                "gitea",
                "3.4.1+1.24.5-rootless",
                lambda tag: runs.build_command("gitea", tag),
                runs.log_path("gitea"),
            )
        )
        await pilot.pause()
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(app(), terminal_size=(80, 24), run_before=confirm)
