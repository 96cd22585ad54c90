"""Pilot tests of the log's time gutter (t), marks (m, ', e on a mark) and saving (s)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from redfix_tui.logs.clock import ArrivalTimes
from redfix_tui.logs.spool import LogSpool
from redfix_tui.node import NodeConnection
from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.log_view import TIME_GUTTER, LogView
from tests.pilot_helpers import until

T0 = datetime(2026, 6, 18, 23, 40, 0, tzinfo=UTC).timestamp()
LOG = "/tmp/redfix-gitea.log"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def fed_spool(clock: FakeClock) -> LogSpool:
    """Two runs of three stages, then a third run's install, each stage some minutes long."""
    spool = LogSpool()
    spool.arrivals = ArrivalTimes(clock)
    minutes = {"install": 4, "upgrade": 2, "backup": 3}
    for run in range(2):
        for stage, length in minutes.items():
            spool.append(f"\x1b[1m==== stage: {stage} ====\x1b[0m\n".encode())
            for step in range(3):
                clock.now += length * 20
                spool.append(f"run {run} {stage} step {step} \x1b[32mok\x1b[0m\n".encode())
        clock.now += 30 * (run + 1)  # the second run's backup takes longer
    spool.append(b"==== stage: install ====\nFAILED tests/gitea/test_install.py::test_x\n")
    clock.now += 3
    return spool


class TimeApp(App):
    """A log pane on a spool fed with a controlled clock, recording what the view posts."""

    def __init__(self, spool: LogSpool) -> None:
        super().__init__()
        self.spool = spool
        self.evidence: list[LogView.EvidenceRequested] = []
        self.saved: list[LogView.Saved] = []

    def compose(self) -> ComposeResult:
        yield LogPane()

    def on_mount(self) -> None:
        pane = self.query_one(LogPane)
        pane.attach(self.spool, LOG, host="cc-ci")
        pane.log_view.focus()

    def on_log_view_evidence_requested(self, event: LogView.EvidenceRequested) -> None:
        self.evidence.append(event)

    def on_log_view_saved(self, event: LogView.Saved) -> None:
        self.saved.append(event)


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch) -> Path:
    """Marks go under the test's own XDG_STATE_HOME."""
    home = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


def row_text(view: LogView, y: int) -> str:
    return view.render_line(y).text


async def test_t_shows_arrival_time_and_time_since_the_stage() -> None:
    clock = FakeClock()
    spool = fed_spool(clock)
    app = TimeApp(spool)
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(LogView)
        await pilot.press("home")
        assert not view.show_times
        first = row_text(view, 1)
        assert first.startswith("run 0 install step 0")
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: len(view.stages.stages) == 7)
        await pilot.pause()
        # line 2 arrived 80 s after the install banner (23:40:00 + 80 s)
        assert row_text(view, 1).startswith("23:41:20    +1:20 run 0 install step 0")
        assert len(row_text(view, 1)) - len(row_text(view, 1).lstrip()) == 0
        # the first install took 4 minutes; the first run has no earlier one
        assert row_text(view, 0).rstrip().endswith("==== stage: install ====  took 4:00")
        # run 1's backup: 3:00 plus the 30 s pause before the next banner, the last run's 3:30
        banner = spool.line_count - 6
        view.goto_line(banner + 1)
        await pilot.pause()
        backups = [row_text(view, y) for y in range(38) if "stage: backup" in row_text(view, y)]
        assert "took 3:30" in backups[0] and "last run" not in backups[0]
        assert "took 4:00 (last run 3:30)" in backups[-1]
        # the third run's install has not finished: no duration yet
        last = row_text(view, spool.line_count - 2 - round(view.scroll_y))
        assert "==== stage: install ====" in last and "took" not in last
        await pilot.press("t")
        await pilot.pause()
        assert not row_text(view, 0).startswith("23:")
        assert TIME_GUTTER == 18


async def test_ledger_durations_are_the_yardstick_when_present() -> None:
    clock = FakeClock()
    app = TimeApp(fed_spool(clock))
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(LogView)
        view.previous_stage_s = {"install": 250.0}.get
        await pilot.press("home", "t")
        await until(pilot, lambda: len(view.stages.stages) == 7)
        await pilot.pause()
        assert row_text(view, 0).rstrip().endswith("took 4:00 (last run 4:10)")


async def test_title_says_how_fresh_the_log_is() -> None:
    clock = FakeClock()
    app = TimeApp(fed_spool(clock))
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(LogPane)
        view = pane.log_view

        def title() -> str:
            return Text.from_markup(str(view.border_title)).plain

        await until(pilot, lambda: title() == "log · redfix-gitea.log · live · last byte 3 s ago")
        clock.now += 150
        await until(pilot, lambda: title() == "log · redfix-gitea.log · quiet 2 min")


async def test_m_marks_with_a_note_and_quote_jumps_between_marks(state_home: Path) -> None:
    clock = FakeClock()
    app = TimeApp(fed_spool(clock))
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(LogView)
        view.goto_line(5)
        await pilot.press("m")
        await pilot.press(*"restore starts", "enter")
        await pilot.pause()
        assert [(m.line, m.note) for m in view.marks.marks] == [(4, "restore starts")]
        assert row_text(view, 4 - round(view.scroll_y)).startswith("◆ ")
        view.goto_line(12)
        await pilot.press("m", "enter")  # no note
        view.goto_line(1)
        await pilot.press("apostrophe")
        assert view.cursor_line == 4
        await pilot.press("apostrophe")
        assert view.cursor_line == 11
        await pilot.press("apostrophe")
        assert view.cursor_line == 4  # wrapped
        # e on a mark: the evidence carries its note
        await pilot.press("e")
        await pilot.pause()
        assert app.evidence[-1].note == "restore starts"
        assert app.evidence[-1].evidence.first_line == 5
        # m on a marked line unmarks it
        view.goto_line(12)
        await pilot.press("m")
        assert [m.line for m in view.marks.marks] == [4]
    assert list(state_home.glob("redfix-tui/marks/cc-ci/*.json"))


async def test_marks_survive_a_restart() -> None:
    clock = FakeClock()
    first = TimeApp(fed_spool(clock))
    async with first.run_test(size=(100, 20)) as pilot:
        first.query_one(LogView).goto_line(8)
        await pilot.press("m", *"flaky", "enter")
        await pilot.pause()
    # a fresh console on the same node and file
    second = TimeApp(fed_spool(FakeClock()))
    async with second.run_test(size=(100, 20)) as pilot:
        view = second.query_one(LogView)
        assert [(m.line, m.note) for m in view.marks.marks] == [(7, "flaky")]
        await pilot.press("home", "apostrophe")
        assert view.cursor_line == 7
    # another file on the same node has none
    other = TimeApp(fed_spool(FakeClock()))
    async with other.run_test(size=(100, 20)) as pilot:
        pane = other.query_one(LogPane)
        pane.attach(other.spool, "/tmp/redfix-keycloak.log", host="cc-ci")
        await pilot.pause()
        assert len(pane.log_view.marks) == 0


async def test_s_saves_the_log_and_the_filtered_view(tmp_path: Path) -> None:
    clock = FakeClock()
    spool = fed_spool(clock)
    app = TimeApp(spool)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(LogView)
        await pilot.press("s")
        await pilot.pause()
        find = app.query_one("#log-find")
        assert find.value.startswith("./redfix-redfix-gitea-") and find.value.endswith("Z.log")
        whole = tmp_path / "whole.log"
        find.value = str(whole)
        await pilot.press("enter")
        await until(pilot, lambda: len(app.saved) == 1)
        text = whole.read_text()
        header, *lines = text.splitlines()
        assert header.startswith("# redfix-tui log node=cc-ci path=cc-ci:/tmp/redfix-gitea.log")
        assert f"filter=none lines=1-{spool.line_count} ({spool.line_count} of" in header
        assert "saved=20" in header
        assert len(lines) == spool.line_count
        assert lines[0] == "==== stage: install ===="  # escapes stripped
        assert "\x1b" not in text
        # the filtered view
        view.set_filter("backup step 1", context=0)
        await app.workers.wait_for_complete()
        await pilot.pause()
        filtered = tmp_path / "filtered.log"
        worker = view.save_to(str(filtered))
        await worker.wait()
        header, *lines = filtered.read_text().splitlines()
        assert "filter=/backup step 1/ ±0" in header and "(2 of" in header
        assert lines == ["run 0 backup step 1 ok", "run 1 backup step 1 ok"]
        # an existing file is not overwritten: one line says so
        worker = view.save_to(str(filtered))
        assert await worker.wait() == 0
        await pilot.pause()
        assert any("cannot save the log" in n.message for n in app._notifications)


async def test_title_says_since_when_the_tail_reconnects(demo, tmp_path: Path) -> None:
    served, config = demo
    node = NodeConnection(config.node)
    await node.connect()
    log = tmp_path / "followed.log"
    log.write_text("one\ntwo\n")
    app = TimeApp(LogSpool())
    try:
        async with app.run_test(size=(100, 20)) as pilot:
            pane = app.query_one(LogPane)
            clock = FakeClock()
            tail = pane.follow_remote(node, str(log))
            tail.spool.arrivals.clock = clock
            view = pane.log_view

            def title() -> str:
                return Text.from_markup(str(view.border_title)).plain

            await until(pilot, lambda: view.spool is not None and view.spool.line_count == 2)
            await until(pilot, lambda: title().endswith(" · live · last byte 0 s ago"))
            clock.now = T0 + 95  # 23:41:35
            await served.server.drop_connections()
            await until(pilot, lambda: "reconnecting since 23:41Z" in title())
            assert title().startswith("log · followed.log · ")
    finally:
        await node.close()
        app.spool.close()
