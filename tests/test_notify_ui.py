"""The console tells the operator (bell, terminal title) when the connection to the node drops."""

from __future__ import annotations

from pathlib import Path

from redfix_tui.notify import Announcement
from redfix_tui.widgets.log_pane import LogPane
from tests.pilot_helpers import loaded, new_app, until


async def test_a_dropped_connection_is_announced_once(demo, tmp_path: Path, monkeypatch) -> None:
    served, config = demo
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    app = new_app(config, tmp_path)
    said: list[Announcement | None] = []
    app.announce = said.append  # type: ignore[method-assign]  # record instead of writing
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await until(pilot, lambda: app.screen.status_bar.connection == "connected")
        assert [a for a in said if a is not None] == []
        await served.server.drop_connections()
        await until(pilot, lambda: any(a is not None for a in said))
        titles = [a.title for a in said if a is not None]
        assert len(titles) == 1, titles
        assert titles[0].startswith("redfix: ") and "connection reconnecting" in titles[0]
        assert all(a.bell for a in said if a is not None)


async def test_a_failure_line_in_the_followed_log_when_asked(
    demo, tmp_path: Path, monkeypatch
) -> None:
    _served, config = demo
    config.notify.failure_lines = True
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    app = new_app(config, tmp_path)
    said: list[Announcement | None] = []
    app.announce = said.append  # type: ignore[method-assign]  # record instead of writing
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        pane = app.screen.query_one(LogPane)
        view = pane.log_view
        await until(pilot, lambda: view.spool is not None and view.spool.line_count > 100)
        await until(pilot, lambda: pane.failures_seen is not None)  # what was there is not news
        assert [a for a in said if a is not None] == []
        with open(view.source_label, "a") as log:
            log.write("tests/x/test_restore.py::test_marker \x1b[31mFAILED\x1b]2;evil\x07\n")
        await until(pilot, lambda: any(a is not None for a in said))
        (title,) = [a.title for a in said if a is not None]
        assert title.startswith("redfix: ") and title.endswith(
            "✘ tests/x/test_restore.py::test_marker FAILED"
        )
        assert "\x1b" not in title and "\x07" not in title
