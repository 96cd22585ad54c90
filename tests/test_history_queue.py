"""The rerun queue on the board: space marks recipes, ``r`` queues them, the board shows each
waiting recipe's place, ``x`` on a queued recipe takes it out without touching the run in flight
— against the demo node over SSH (reruns of about 9 s)."""

from __future__ import annotations

from pathlib import Path

from redfix_tui.runs.state import parse_state
from redfix_tui.widgets.recipe_board import QUEUED
from redfix_tui.widgets.rerun_dialogs import QueueConfirm
from tests.pilot_helpers import board, loaded, new_app, notes, until


async def test_marked_recipes_queue_and_x_removes_a_queued_one(demo, tmp_path: Path) -> None:
    served, config = demo
    app = new_app(config, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        table = board(app)
        table.focus()
        for recipe in ("gitea", "bluesky-pds", "discourse"):
            table.move_cursor(row=table.get_row_index(recipe))
            await pilot.press("space")
        assert table.marked == {"gitea", "bluesky-pds", "discourse"}
        assert "●bluesky-pds" in str(table.get_row("bluesky-pds")[0])
        assert str(table.border_subtitle).startswith("3 marked: r queues")

        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, QueueConfirm))
        assert app.screen.runs == [
            ("bluesky-pds", "0.3.2+v0.4.158"),
            ("discourse", "0.8.1+3.5.0"),
            ("gitea", "3.4.1+1.24.5-rootless"),
        ]
        await pilot.press("y")
        await until(pilot, lambda: any("3 reruns queued" in n for n in notes(app)))
        assert table.marked == set()

        # The first runs; the other two wait, in order, their places on the board.
        screen = app.screen
        await until(pilot, lambda: table.queued == {"discourse": 1, "gitea": 2}, timeout=60)
        await until(pilot, lambda: screen.rerun_state is not None, timeout=30)
        running = screen.rerun_state
        assert running.recipe == "bluesky-pds"
        last = [str(cell) for cell in table.get_row("gitea")]
        assert f"{QUEUED}#2" in last or any(f"{QUEUED} queued #2" in c for c in last)
        assert screen.reruns.run_detail("discourse") == "queued #1 — runs next"
        assert screen.reruns.run_detail("gitea") == "queued #2"

        # r on one recipe while our run is in flight is refused, saying how to queue it.
        table.move_cursor(row=table.get_row_index("mumble"))
        await pilot.press("r")
        hint = "in flight (pid"
        await until(pilot, lambda: any(hint in n and "r then queues it" in n for n in notes(app)))
        assert app.screen is screen

        # x on a waiting recipe takes it out of the queue; the run in flight goes on.
        table.move_cursor(row=table.get_row_index("gitea"))
        await pilot.press("x")
        await until(pilot, lambda: table.queued == {"discourse": 1})
        assert any("gitea: 1 queued rerun removed" in n for n in notes(app))
        queue_dir = served.node.root / "tmp" / "redfix-queue"
        assert sorted(p.name.split("-", 1)[1] for p in queue_dir.glob("[0-9]*.sh")) == [
            "discourse.sh"
        ]
        assert (queue_dir / "running.sh").exists()
        assert screen.rerun_state is not None and screen.rerun_state.key == running.key
        assert app.screen is screen  # no dialog: nothing to confirm

        # Empty the queue and let the run in flight end on its own (exit 1: custom fails).
        table.move_cursor(row=table.get_row_index("discourse"))
        await pilot.press("x")
        await until(pilot, lambda: table.queued == {})
        await until(pilot, lambda: screen.rerun_state is None, timeout=60)
        state = parse_state(Path(screen.session.runs.state_path("bluesky-pds")).read_text())
        assert state is not None and state.key == running.key
        assert not state.terminated and state.exit_status == 1
        assert not list(queue_dir.glob("*.sh"))
