"""No silent worker death: a worker that raises is named in one notification and its traceback
lands in the error log under $XDG_STATE_HOME/redfix-tui/."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from redfix_tui.app import create_app
from redfix_tui.config import Config
from redfix_tui.session import Session
from redfix_tui.widgets.recipe_board import RecipeBoard


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "redfix-tui" / "errors.log"


def app_for(tmp_path: Path):
    return create_app(Session(Config(), tmp_path / "JOURNAL-redfix.md", "redfix"), load=False)


def notes(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def errors_shown(pilot, count: int) -> list[str]:
    """Let the app run until ``count`` internal-error notifications are up; return them."""
    for _ in range(200):
        shown = [n for n in notes(pilot.app) if n.startswith("Internal error")]
        if len(shown) >= count:
            return shown
        await pilot.pause(0.02)
    raise AssertionError(f"no internal-error notification: {notes(pilot.app)}")


async def test_failing_workers_are_announced_and_logged(tmp_path: Path, state_home: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:

        async def explode() -> None:
            await asyncio.sleep(0)
            raise KeyError("stage 'restore'")

        def explode_in_thread() -> None:
            raise ValueError("bad JUnit attribute")

        screen_worker = app.screen.run_worker(
            explode(), name="wrap-up of the rerun of discourse", exit_on_error=False
        )
        board = app.screen.query_one(RecipeBoard)
        thread_worker = board.run_worker(
            explode_in_thread, name="junit load", thread=True, exit_on_error=False
        )
        shown = await errors_shown(pilot, 2)
        assert len(shown) == 2, notes(app)
        assert screen_worker.is_finished and thread_worker.is_finished
        wrap = next(n for n in shown if "wrap-up" in n)
        assert wrap == (
            "Internal error: wrap-up of the rerun of discourse failed: "
            f"KeyError: \"stage 'restore'\" — details in {state_home}"
        )
        assert "junit load failed: ValueError: bad JUnit attribute" in "".join(shown)
        log = state_home.read_text()
        assert "wrap-up of the rerun of discourse failed" in log and "in explode" in log
        assert "Traceback (most recent call last)" in log and "bad JUnit attribute" in log
        assert app.is_running  # the console goes on


async def test_a_failing_refresh_is_reported(tmp_path: Path, state_home: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.screen

        async def broken(recipes: bool) -> None:
            raise RuntimeError("board row for an unknown recipe")

        main._refresh_locked = broken
        main.refresh_node()
        shown = await errors_shown(pilot, 1)
        assert shown[0].startswith("Internal error: node refresh failed: RuntimeError: board row")
        assert "RuntimeError: board row for an unknown recipe" in state_home.read_text()


async def test_unwritable_error_log_is_said(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:

        async def explode() -> None:
            raise OSError("disk gone")

        app.screen.run_worker(explode(), name="draft save", exit_on_error=False)
        shown = await errors_shown(pilot, 1)
        assert "draft save failed: OSError: disk gone — no error log (" in shown[0], shown
