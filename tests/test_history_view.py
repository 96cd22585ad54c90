"""The history view (``h`` on the board): a recipe's run ledger, its grades, a run's JUnit and
log, and the comparison of two marked runs — against the demo node over SSH."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from redfix_tui.config import Config
from redfix_tui.node import NodeError
from redfix_tui.screens.history import HistoryScreen
from redfix_tui.session import Session
from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.run_history import RunHistory
from tests.pilot_helpers import board, loaded, new_app, until

MATT_ISO = "20260617T234340Z"
"""The demo's archived isolation rerun of mattermost-lts (restore failed, as in the journal)."""


def history(app) -> RunHistory:
    """The history widget of the open history screen."""
    assert isinstance(app.screen, HistoryScreen)
    return app.screen.query_one(RunHistory)


def answers(app) -> str:
    """The answers above the table, as plain text."""
    return "\n".join(" ".join(line.split()) for line in history(app).answers.plain.splitlines())


def state_line(app) -> str:
    """The one-line state (loading, empty, error, problems)."""
    return history(app).state


async def open_history(pilot, recipe: str, rows: int) -> RunHistory:
    """Select ``recipe`` on the board, press ``h`` and wait for its ``rows`` runs."""
    app = pilot.app
    await loaded(pilot)
    table = board(app)
    table.focus()
    table.move_cursor(row=table.get_row_index(recipe))
    await pilot.pause()
    await pilot.press("h")
    await until(pilot, lambda: bool(app.screen.query(RunHistory)))
    await until(pilot, lambda: history(app).table.row_count == rows)
    return history(app)


async def test_history_rows_and_grades(demo, tmp_path: Path) -> None:
    _served, config = demo
    app = new_app(config, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        view = await open_history(pilot, "mattermost-lts", 5)
        runs = list(view.runs.values())
        assert [r.kind for r in runs] == ["isolation"] + ["sweep"] * 4
        assert runs[0].run_id == MATT_ISO and runs[0].exit_status == 1
        assert [r.run_id for r in runs[1:]] == [
            f"sweep-202606{day}T0300Z-mattermost-lts" for day in (17, 16, 15, 14)
        ]
        assert [r.tag for r in runs] == ["2.1.9+10.11.15"] * 3 + ["2.1.8+10.11.14"] * 2
        row = [str(cell) for cell in view.table.get_row_at(0)]
        assert row[1:6] == ["2026-06-18 00:03", "isolation", "2.1.9+10.11.15", "✔✔✔✘✔", "1"]
        assert [str(c) for c in view.table.get_row_at(4)][4] == "✔✔✔✔✔"
        text = answers(app)
        assert "Grades on 2.1.9+10.11.15" in text
        restore = next(line for line in text.splitlines() if line.startswith("restore"))
        assert "deterministic 3 of 3 failed" in restore
        assert restore.count("✘") == 3 and "isolation 06-18 00:03" in restore
        assert "install passing 3 of 3 passed" in text
        assert "Failing since sweep sweep-20260616T0300Z-mattermost-lts" in text
        assert "tag was 2.1.8+10.11.14" in text
        assert state_line(app) == ""

        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HistoryScreen))
        # The flake, and a failure on one attempt.
        await open_history(pilot, "discourse", 4)
        upgrade = next(ln for ln in answers(app).splitlines() if ln.startswith("upgrade"))
        assert "flaky 1 of 2 failed" in upgrade
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HistoryScreen))
        await open_history(pilot, "keycloak", 4)
        backup = next(ln for ln in answers(app).splitlines() if ln.startswith("backup"))
        assert "not enough evidence 1 of 1 failed (one attempt)" in backup


async def test_enter_opens_the_runs_junit_and_l_its_log(demo, tmp_path: Path) -> None:
    served, config = demo
    app = new_app(config, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        view = await open_history(pilot, "mattermost-lts", 5)
        await pilot.press("enter")  # the archived isolation run, from the archive
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        junit = screen.junit
        await until(pilot, lambda: junit.run is not None and junit.run.files != [])
        assert screen.switcher.current == "history-junit-box"
        assert junit.run.run_id == f"isolation {MATT_ISO}"
        archived = served.node.archive / "mattermost-lts" / MATT_ISO
        assert sorted(f.path for f in junit.run.files) == sorted(
            str(p) for p in (archived / "junit").glob("*.xml")
        )
        failed = [c.test_id for _, c in junit.run.iter_cases() if c.bad]
        assert failed and all("restore" in test_id for test_id in failed)
        await pilot.press("escape")
        assert screen.switcher.current == "history" and screen.is_current

        view.table.move_cursor(row=1)  # last night's sweep: from runs_root
        await pilot.press("enter")
        await until(pilot, lambda: junit.run is not None and junit.run.run_id.startswith("sweep "))
        assert junit.run.run_id == "sweep sweep-20260617T0300Z-mattermost-lts"
        await pilot.press("escape")
        await pilot.press("l")  # a sweep run keeps no log on the node: said, nothing else
        said = "the node keeps no log of sweep runs"
        await until(pilot, lambda: any(said in n.message for n in app._notifications))
        assert app.screen is screen

        view.table.move_cursor(row=0)
        await pilot.press("l")  # the isolation run's archived log, in the main screen's log pane
        await until(pilot, lambda: not isinstance(app.screen, HistoryScreen))
        pane = app.screen.query_one(LogPane)
        log = str(archived / "log")
        await until(pilot, lambda: app.screen._following == log)
        assert app.screen.session.open_log == log
        assert app.screen.switcher.current == "log-pane" and pane.display


async def test_two_marked_runs_open_their_comparison(demo, tmp_path: Path) -> None:
    _served, config = demo
    app = new_app(config, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        view = await open_history(pilot, "mattermost-lts", 5)
        await pilot.press("c")  # nothing marked: says what to do
        await until(pilot, lambda: any("mark two runs" in n.message for n in app._notifications))
        await pilot.press("space", "down", "space")
        assert [k.split(":")[0] for k in view.marked] == ["isolation", "sweep"]
        assert "●" in str(view.table.get_row_at(0)[0]) and "●" in str(view.table.get_row_at(1)[0])
        await pilot.press("enter")  # two marks: enter compares too
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await until(pilot, lambda: screen.junit.comparison is not None)
        comparison = screen.junit.comparison
        assert comparison.first.run_id == "sweep sweep-20260617T0300Z-mattermost-lts"
        assert comparison.second.run_id == f"isolation {MATT_ISO}"
        assert (comparison.first_label, comparison.second_label) == ("in sweep", "alone")
        still = [c for c in comparison.interesting() if c.verdict == "still failing"]
        assert still and all(c.stage == "restore" for c in still)
        assert "deterministic" in still[0].hint

        # Any two runs compare: two sweeps, labelled by their time.
        await pilot.press("escape", "space", "up", "space")  # both marks off
        assert view.marked == []
        await pilot.press("down", "down", "space", "down", "space")
        assert len(view.marked) == 2
        await pilot.press("c")
        await until(
            pilot,
            lambda: (
                screen.junit.comparison is not None
                and screen.junit.comparison.first.run_id.endswith("20260615T0300Z-mattermost-lts")
            ),
        )
        older, newer = view.marked_runs()
        shown = screen.junit.comparison
        assert shown.second.run_id == f"sweep {newer.run_id}"
        assert shown.first_label == f"in sweep {older.finished:%m-%d %H:%M}"
        assert shown.second_label == f"in sweep {newer.finished:%m-%d %H:%M}"

        # One run opened after a comparison: c has nothing stale to compare it with.
        await pilot.press("escape", "up", "space", "down", "space")  # both marks off
        assert view.marked == []
        await pilot.press("enter")
        await until(pilot, lambda: screen.junit.comparison is None and screen.junit.run is not None)
        assert screen.junit.other is None


class DownNode:
    """A node whose every command fails as a lost connection would."""

    async def connect(self) -> None:
        """Connecting works; reading does not."""

    async def stream(self, command: str, **_kwargs) -> AsyncGenerator[bytes, None]:
        """Fail at once."""
        raise NodeError("connection lost while reading", kind="lost")
        yield b""  # pragma: no cover - makes this an async generator


class HistoryApp(App[None]):
    """Just the history screen, on a session whose node is down."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        """Nothing under the screen."""
        yield from ()

    def on_mount(self) -> None:
        """Open the history of one recipe."""
        self.push_screen(HistoryScreen(self.session, "gitea"))


async def test_error_and_empty_states_are_one_line(tmp_path: Path) -> None:
    session = Session(Config(), tmp_path / "J.md", "redfix")
    session._services = (DownNode(), None, None)  # type: ignore[assignment]
    app = HistoryApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "ledger not read" in state_line(app))
        line = state_line(app)
        assert line == "ledger not read: connection lost while reading — ctrl+r tries again"
        assert app.screen.query_one(DataTable).row_count == 0

        from redfix_tui.runs.ledger import RecipeLedger

        history(app).show_ledger(RecipeLedger("gitea"))
        await pilot.pause()
        assert state_line(app).startswith("no runs of gitea in the ledger")
        history(app).show_loading()
        await pilot.pause()
        assert state_line(app) == "reading the run ledger of gitea on the node…"


async def test_an_archive_under_the_node_users_home(demo, tmp_path: Path) -> None:
    """``[paths] archive`` at its default (``~/...``): read from the node user's home."""
    served, config = demo
    config.paths.archive = "~/.local/share/redfix-tui/runs/{recipe}/{start}"
    app = new_app(config, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        view = await open_history(pilot, "mattermost-lts", 5)
        run = view.selected
        assert run is not None and run.kind == "isolation"
        assert run.path == "~/.local/share/redfix-tui/runs/mattermost-lts/" + MATT_ISO
        await pilot.press("enter")
        junit = app.screen.junit
        await until(pilot, lambda: junit.run is not None and junit.run.files != [])
        archived = served.node.archive / "mattermost-lts" / MATT_ISO
        assert all(f.path.startswith(f"{archived}/junit/") for f in junit.run.files)
        await pilot.press("escape", "l")
        await until(pilot, lambda: not isinstance(app.screen, HistoryScreen))
        await until(pilot, lambda: app.screen._following == f"{archived}/log")
