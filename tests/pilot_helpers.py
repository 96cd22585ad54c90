"""Helpers for Pilot tests of the console (shared by the board, JUnit, log and node tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from redfix_tui.app import RedfixApp, create_app
from redfix_tui.config import Config
from redfix_tui.session import Session
from redfix_tui.widgets.recipe_board import RecipeBoard


def new_app(config: Config, tmp_path: Path) -> RedfixApp:
    """A console on ``config`` (the demo node is served by the test, not the session)."""
    return create_app(Session(config, tmp_path / "JOURNAL-redfix.md", "redfix"))


async def until(pilot: Pilot, check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until ``check()`` holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:g}s")
        await pilot.pause(0.05)


def notes(app: RedfixApp) -> list[str]:
    """Every notification shown so far, as ``title: message``."""
    return [f"{n.title}: {n.message}" for n in app._notifications]


def board(app: RedfixApp) -> RecipeBoard:
    """The recipe board."""
    return app.screen.query_one(RecipeBoard)


async def loaded(pilot: Pilot) -> None:
    """Wait for the first refresh."""
    await until(pilot, lambda: board(pilot.app).row_count == 6)
