"""Pilot tests of the recipe board: rerun, progress, end of run, refusal, classify, export,
re-attach after a restart and cancel — on the demo node over SSH."""

from __future__ import annotations

import re
import time
import tomllib
from pathlib import Path

from textual.message import Message

from redfix_tui.screens.main import BOARD_BINDINGS, MainScreen
from redfix_tui.widgets.choice_dialog import ChoiceDialog
from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.rerun_dialogs import CancelConfirm, ClassifyDialog, RerunConfirm
from redfix_tui.widgets.status_bar import NodeStatusBar
from tests.pilot_helpers import board, loaded, new_app, notes, until

TAG = "0.8.1+3.5.0"


async def test_rerun_from_the_board(demo, tmp_path: Path) -> None:
    served, config = demo
    messages: list[Message] = []
    app = new_app(config, tmp_path)
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        await loaded(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        board(app).focus()
        # it starts on the recipe whose isolation rerun finished last (the demo's manual run)
        assert board(app).selected.name == "mattermost-lts"
        await pilot.press("up", "up", "up")  # → keycloak → gitea → discourse
        assert board(app).selected.name == "discourse"
        assert board(app).selected.sweep.verdict == "failed"

        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RerunConfirm))
        dialog = app.screen
        expected = main.session.runs.build_command("discourse", TAG)
        await until(pilot, lambda: dialog.command != "", 5)  # filled in once the tag is set
        assert dialog.command == expected
        shown = dialog.query_one("#command")  # painted at the next refresh (a loaded machine)
        await until(pilot, lambda: str(shown.render()) == expected, 5)
        assert str(dialog.query_one("#log").render()) == main.session.runs.log_path("discourse")
        # An invalid tag disables the start and says why.
        tag_input = dialog.query_one("#tag")
        tag_input.value = "$(touch /tmp/pwned)"
        await pilot.pause()
        assert dialog.query_one("#start").disabled
        assert "not a valid tag" in str(dialog.query_one("#error").render())
        tag_input.value = TAG
        await pilot.pause()
        await pilot.press("enter")

        await until(pilot, lambda: app.screen is main)
        await until(pilot, lambda: main.rerun_state is not None)
        pane = main.query_one(LogPane)
        view = pane.log_view
        await until(pilot, lambda: view.spool is not None and view.spool.line_count > 5)
        # From its first byte: the checkout's line, then the harness's first line.
        assert view.spool.read_line(0).startswith(f"INFO discourse: checked out {TAG}")
        assert "recipe=discourse" in view.spool.read_line(1)
        assert not any("pwned" in c for c in served.server.commands)
        # Progress on the board and in the status bar.
        await until(pilot, lambda: board(app).progress.get("discourse") is not None)
        await until(pilot, lambda: board(app).progress["discourse"].stage is not None)
        bar = main.query_one(NodeStatusBar)
        assert "discourse pid" in str(bar.render())
        assert board(app).progress["discourse"].describe().split()[0] in (
            "install",
            "upgrade",
            "backup",
            "restore",
            "custom",
        )

        # A second rerun is refused while the first runs.
        await pilot.press("down")  # gitea
        await pilot.press("r")
        await until(pilot, lambda: any("in flight" in n for n in notes(app)))
        assert app.screen is main

        # The run ends: a notification, the new verdicts, the tracker row.
        await until(pilot, lambda: any(n.startswith("Rerun ended") for n in notes(app)), 40)
        ended = next(n for n in notes(app) if n.startswith("Rerun ended"))
        assert "failed (exit 1)" in ended and "upgrade ✘" in ended and "teardown clean" in ended
        assert board(app).progress == {}
        discourse = board(app).statuses["discourse"]
        assert discourse.isolation is not None and discourse.isolation.stages["upgrade"] == "failed"
        # The 2 s ticks while it ran read the node's state only; every results.json was read
        # once at start-up and once when the run ended (refresh_seconds is 30 here).
        # The ledger (one command per read, "t=$(mktemp)…") is read at start-up and once the
        # run's archived copy appeared, for the tracker.
        reads = [c for c in served.server.commands if "find -L" in c and "results.json" in c]
        ledger_reads = [c for c in reads if c.startswith("t=$(mktemp)")]
        run_reads = [c for c in reads if c not in ledger_reads]
        assert len(run_reads) == 2, run_reads
        assert 1 <= len(ledger_reads) <= 2, len(ledger_reads)
        entry = main.tracker.get("discourse")
        assert entry.isolation_run.startswith("manual 20")
        assert entry.result == "install ✔ upgrade ✘ backup ✔ restore ✔ custom ✔ — exit 1"

        # Classify it.
        board(app).focus()
        board(app).move_cursor(row=board(app).get_row_index("discourse"))
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ClassifyDialog))
        await pilot.press("up", "up", "up", "enter")  # unknown → … → stale or wrong test
        await pilot.press(*"overlay test asserts a migration absent upstream", "enter")
        await until(pilot, lambda: app.screen is main)
        saved = tomllib.loads(main.session.tracker_path.read_text())["recipe"]["discourse"]
        assert saved["classification"] == "stale or wrong test"
        assert saved["root_cause"] == "overlay test asserts a migration absent upstream"
        assert saved["stages"] == "install ✔ upgrade ✘ backup ✔ restore ✔ custom ✔"

        # Export the M1 table.
        await pilot.press("T")
        await pilot.pause()
        # One message (the hook sees it again as it bubbles from the screen to the app).
        exported = list(
            {id(m): m for m in messages if isinstance(m, MainScreen.TrackerExported)}.values()
        )
        assert len(exported) == 1
        table = exported[0].markdown
        assert app.clipboard == table
        # The result cell ends with the ledger's grade of the failing stage (the demo node has
        # a history: the sweep and this isolation run on the same tag).
        assert re.search(
            r"^\| discourse \| manual 20\S+ \| install ✔ upgrade ✘ backup ✔ restore ✔ custom ✔ "
            r"— exit 1 — grade: upgrade \w[^|]*\(\d+ of \d+ failed on [^|]+\) \| overlay test "
            r"asserts a migration absent upstream \| stale or wrong test \|$",
            table,
            re.MULTILINE,
        ), table
        assert table.count("\n") == 2 + 6
        # The journal takes it too (the editor opens with the table in its draft).
        await until(
            pilot,
            lambda: (
                main.journal_editor is not None
                and "| discourse | manual 20" in main.journal_editor.form.body_text
            ),
        )


async def test_sweep_guard_refuses_from_the_board(demo, tmp_path: Path) -> None:
    served, config = demo
    served.node.set_sweep_next(int(time.time()) + 20 * 60)
    app = new_app(config, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        board(app).focus()
        await pilot.press("r")
        await until(pilot, lambda: any("sweep timer fires" in n for n in notes(app)))
        assert not isinstance(app.screen, RerunConfirm)
        assert not any("setsid" in c for c in served.server.commands)


async def test_reattach_after_restart_and_cancel(demo, tmp_path: Path) -> None:
    served, config = demo
    served.server.env["REDFIX_DEMO_SPEED"] = "0.5"  # ~30 s: still running after the restart
    first = new_app(config, tmp_path)
    async with first.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        board(first).focus()
        board(first).move_cursor(row=board(first).get_row_index("mumble"))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(first.screen, RerunConfirm))
        await pilot.press("enter")
        await until(pilot, lambda: first.screen.rerun_state is not None)
        pid = first.screen.rerun_state.pid
    # The console is closed; the run goes on. A new console re-attaches to it.
    second = new_app(config, tmp_path)
    async with second.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: getattr(second.screen, "rerun_state", None) is not None)
        main = second.screen
        assert (main.rerun_state.recipe, main.rerun_state.pid) == ("mumble", pid)
        assert any("re-attached to the rerun of mumble" in n for n in notes(second))
        assert board(second).selected.name == "mumble"
        view = main.query_one(LogPane).log_view
        await until(pilot, lambda: view.spool is not None and view.spool.line_count > 3)
        assert view.spool.read_line(0).startswith("INFO mumble: checked out")
        await until(pilot, lambda: "mumble" in board(second).progress)
        assert f"mumble pid {pid}" in str(main.query_one(NodeStatusBar).render())

        # Stop it: confirmation, then the whole group goes; the board says how it ended.
        await pilot.press("x")
        await until(pilot, lambda: isinstance(second.screen, CancelConfirm))
        await pilot.press("y")
        await until(pilot, lambda: any(n.startswith("Rerun ended") for n in notes(second)), 20)
        ended = next(n for n in notes(second) if n.startswith("Rerun ended"))
        assert "terminated (exit 143)" in ended
        assert board(second).progress == {}
        assert main.tracker.get("mumble").result.endswith("— terminated")
        status = await main.session.runs.status()
        assert not status.busy


async def test_classification_filter(demo, tmp_path: Path) -> None:
    _served, config = demo
    app = new_app(config, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        main = app.screen
        main.tracker.update("discourse", classification="stale or wrong test")
        board(app).show(main.statuses, main.tracker.entries)
        board(app).focus()

        async def pick(label: str) -> None:
            await pilot.press("C")
            await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
            labels = [label for _value, label in app.screen.choices]
            app.screen.query_one("OptionList").highlighted = labels.index(label)
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is main)

        await pick("stale or wrong test")
        assert list(board(app).rows) and [k.value for k in board(app).rows] == ["discourse"]
        await pick("all classifications")
        assert board(app).row_count == 6


async def test_palette_board_commands_come_from_the_bindings(demo, tmp_path: Path) -> None:
    _served, config = demo
    app = new_app(config, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        commands = {
            title: (help_text, run)
            for title, help_text, run in main.palette_commands()
            if title.startswith("Board: ")
        }
        assert sorted(commands) == sorted(f"Board: {b.description}" for b in BOARD_BINDINGS)
        help_text, run = commands["Board: Class filter"]
        assert help_text == "key C"
        await run()
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        await pilot.pause()
        assert app.screen.choices[0] == ("", "all classifications")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is main)
