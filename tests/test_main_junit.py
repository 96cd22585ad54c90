"""The JUnit pane on the main screen, against the demo node over SSH: open it with u, land on the
failure, jump from the case to where it ran in the rerun log, and put it into the journal."""

from __future__ import annotations

from pathlib import Path

from redfix_tui.journal.model import parse
from redfix_tui.widgets.log_view import LogView
from tests.pilot_helpers import board, loaded, new_app, until


async def test_junit_drill_down_jump_and_evidence(demo, tmp_path: Path) -> None:
    _served, config = demo
    app = new_app(config, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        main = app.screen
        assert board(app).selected.name == "mattermost-lts"  # has the isolation (manual) run
        assert not main.query("#junit")  # mounted on first use only
        await pilot.press("u")
        view = await main.ensure_junit_view()
        await until(pilot, lambda: view.run is not None and view.run.run_id == "manual")
        assert main.query_one("#switcher").current == "junit"
        await until(pilot, lambda: view.other is not None)  # the sweep run, for comparison
        await pilot.press("]")  # the first failure
        case = view.results_tree.cursor_node.data.case
        assert case.name == "test_restore_returns_state"
        assert 'relation "ci_marker" does not exist' in case.message

        await pilot.press("l")  # to where it ran in the rerun log
        log = main.query_one(LogView)
        await until(pilot, lambda: main.query_one("#switcher").current == "log-pane")
        await until(
            pilot,
            lambda: (
                log.cursor_line is not None
                and "test_restore_returns_state" in log.spool.read_line(log.cursor_line)
            ),
        )

        await pilot.press("u")
        await until(pilot, lambda: main.query_one("#switcher").current == "junit")
        await pilot.press("e")  # the failing case into the journal draft
        await until(pilot, lambda: main.journal_editor is not None)
        editor = main.journal_editor
        await until(pilot, lambda: "test_restore_returns_state" in editor.form.body_text)
        await pilot.press(*"restore fails alone too")
        await pilot.press("ctrl+s")
        journal = tmp_path / "JOURNAL-redfix.md"
        await until(pilot, lambda: journal.exists() and "restore fails" in journal.read_text())
        [entry] = parse(journal.read_text()).entries
        assert "/var/lib/cc-ci-runs/manual/junit/restore__cc-ci__test_restore.xml" in entry.body
        assert "tests/mattermost-lts/test_restore.py::test_restore_returns_state" in entry.body
