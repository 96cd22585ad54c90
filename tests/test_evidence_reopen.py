"""Back from the journal to the lines: evidence cited in one console (over SSH, the demo node)
is reopened at the same lines — from the console's spool while it lives, read back by byte range
from the node in a fresh console after the spool is gone — and "changed since cited" shows once
the file on the node was rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from redfix_tui.app import RedfixApp
from redfix_tui.journal.citations import parse_citations
from redfix_tui.widgets.journal_editor import JournalEditor
from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.log_view import LogView
from redfix_tui.widgets.open_log import OpenLogDialog
from tests.demo_session import wait_finished
from tests.pilot_helpers import loaded, new_app, notes, until

LINES = [f"{n:03d} step {n} of the restore" for n in range(1, 41)]
LINES[21] = "022 FAIL restore: backup volume missing"
SIZE = (160, 50)


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Drafts in the test's own state directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def view_of(app: RedfixApp) -> LogView:
    return app.screen.query_one(LogView)


def selected_text(view: LogView) -> list[str]:
    assert view.spool is not None and view.selection is not None
    first, last = view.selection
    return [view.spool.read_line(n) for n in range(first, last + 1)]


async def open_entries_and_press_o(app: RedfixApp, pilot) -> None:
    """Open (or focus) the journal, put the keyboard on its entry list (last entry), press o."""
    app.screen.action_journal()  # `j` (the board would take the key as "down")
    await until(pilot, lambda: bool(app.screen.query("#je-entries")))
    entries = app.screen.query_one("#je-entries", OptionList)
    await until(pilot, lambda: entries.option_count > 0)
    entries.focus()
    entries.highlighted = entries.option_count - 1
    await pilot.pause()
    await pilot.press("o")


async def test_cited_lines_reopen_from_the_spool_then_from_the_node(demo, tmp_path: Path) -> None:
    _served, config = demo
    remote = tmp_path / "restore.log"
    remote.write_text("\n".join(LINES) + "\n")
    journal = tmp_path / "JOURNAL-redfix.md"

    # -- first console: cite lines 21-23 of the remote log, save the entry -------------------
    app = new_app(config, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        view = view_of(app)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OpenLogDialog))
        app.screen.query_one(Input).value = str(remote)
        await pilot.press("enter")
        await until(pilot, lambda: view.spool is not None and view.spool.line_count == 40)
        view.goto_line(21)
        await pilot.press("v", "down", "down", "e")
        editor = await _editor(app, pilot)
        body = editor.query_one("#je-body")
        await until(pilot, lambda: "redfix-evidence" in body.text)
        editor.query_one("#je-title", Input).value = "restore: backup volume missing"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: journal.exists() and "redfix-evidence" in journal.read_text())
        [cited] = parse_citations(journal.read_text())
        assert cited.path == str(remote) and cited.line_range == (21, 23)
        start = len("\n".join(LINES[:20])) + 1
        assert cited.byte_range == (start, start + len("\n".join(LINES[20:23])))
        assert (
            "Evidence: `" in journal.read_text() and " lines 21–23:\n<!-- " in journal.read_text()
        )

        # The console's own spool still holds the lines: o selects them there.
        spool = view.spool
        view.action_follow()
        view.action_clear()
        await open_entries_and_press_o(app, pilot)
        await until(pilot, lambda: view.selection == (20, 22))
        assert view.spool is spool
        assert selected_text(view) == LINES[20:23]

    # -- a fresh console: the spool is gone; the lines are read back from the node -----------
    app = new_app(config, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        view = view_of(app)
        await open_entries_and_press_o(app, pilot)
        await until(pilot, lambda: view.selection is not None and view.source_label == str(remote))
        assert selected_text(view) == LINES[20:23]
        assert view.spool is not None and "unchanged since cited" in view.spool.read_line(0)
        pane = app.screen.query_one(LogPane)
        assert "cited lines 21–23" in pane.title_text
        assert "changed since cited" not in pane.title_text
        assert any("read back from" in note for note in notes(app))
        # lines read once are not a live stream: no "live", no CONNECTED from the tail before
        assert "live" not in pane.freshness and "CONNECTED" not in pane.state_text
        assert pane.state_text.startswith("EXCERPT")

        # The remote file is rewritten: the same bytes now hold something else.
        remote.write_text("\n".join(line.replace("step", "STEP") for line in LINES) + "\n")
        await open_entries_and_press_o(app, pilot)
        await until(pilot, lambda: "changed since cited" in pane.title_text)
        assert any("changed since cited:" in note for note in notes(app))
        assert "CHANGED SINCE CITED" in view.spool.read_line(0)
        assert view.selection is not None
        assert selected_text(view)[0] == "021 STEP 21 of the restore"

        # The file is gone: one line says so, the pane keeps what it showed.
        remote.unlink()
        await open_entries_and_press_o(app, pilot)
        await until(pilot, lambda: any("cannot read the cited lines" in n for n in notes(app)))


async def _editor(app: RedfixApp, pilot) -> JournalEditor:
    await until(pilot, lambda: bool(app.screen.query(JournalEditor)))
    return app.screen.query_one(JournalEditor)


async def test_a_rerun_log_cites_its_run_and_reopens_from_the_archive(demo, tmp_path: Path) -> None:
    """Lines of a finished rerun's log cite the run (id, start) and its archived copy; after the
    next rerun overwrote the log, a fresh console reads them back from the archive."""
    _served, config = demo
    journal = tmp_path / "JOURNAL-redfix.md"
    app = new_app(config, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = app.screen
        runs = screen.session.runs
        await runs.start("mumble", "1.0.0+v1.6.870-0")
        final = await wait_finished(runs, "mumble", timeout=60)
        await screen.refresh_now()  # the console's node status now holds the ended rerun
        log = runs.log_path("mumble")
        screen.session.open_log = log
        screen.follow_log(log)
        view = view_of(app)
        await until(pilot, lambda: view.spool is not None and view.spool.line_count > 10)
        screen.focus_log()
        view.goto_line(3)
        await pilot.press("v", "down", "e")
        editor = await _editor(app, pilot)
        body = editor.query_one("#je-body")
        await until(pilot, lambda: "redfix-evidence" in body.text)
        [cited] = parse_citations(body.text)
        assert (cited.run, cited.started, cited.path) == ("manual", final.started, log)
        assert cited.archive.endswith("/mumble/" + Path(cited.archive).parent.name + "/log")
        assert Path(cited.archive).read_bytes()  # the wrapper's copy is where it says
        cited_lines = [view.spool.read_line(2), view.spool.read_line(3)]
        editor.query_one("#je-title", Input).value = "mumble rerun"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: journal.exists() and "redfix-evidence" in journal.read_text())

    Path(log).write_text("the next rerun's log\n" * 50)  # the log is overwritten
    app = new_app(config, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        view = view_of(app)
        await open_entries_and_press_o(app, pilot)
        await until(pilot, lambda: view.source_label == cited.archive and view.selection)
        assert selected_text(view) == cited_lines
        pane = app.screen.query_one(LogPane)
        assert "changed since cited" not in pane.title_text


async def test_at_80x24_the_journal_steps_aside_for_the_cited_lines(demo, tmp_path: Path) -> None:
    """Where the journal covers the log (stacked layout), o closes the (saved) editor and
    shows the lines; the entry was written by hand from the reference format alone."""
    import hashlib
    from datetime import UTC, datetime

    from redfix_tui.evidence import LogEvidence
    from redfix_tui.journal.store import JournalStore

    _served, config = demo
    remote = tmp_path / "restore.log"
    data = ("\n".join(LINES) + "\n").encode()
    remote.write_bytes(data)
    start = data.index(b"030 ")
    end = data.index(b"\n", data.index(b"031 "))
    app = new_app(config, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        node = app.screen.session.node.host_label
        evidence = LogEvidence(
            node,
            str(remote),
            30,
            31,
            (LINES[29], LINES[30]),
            byte_range=(start, end),
            sha256=hashlib.sha256(data[start:end]).hexdigest(),
        )
        JournalStore(tmp_path / "JOURNAL-redfix.md", "redfix").append(
            "two lines", evidence.to_markdown(), when=datetime(2026, 6, 18, 0, 41, tzinfo=UTC)
        )
        view = view_of(app)
        await open_entries_and_press_o(app, pilot)
        await until(pilot, lambda: view.selection is not None and view.source_label == str(remote))
        assert selected_text(view) == LINES[29:31]
        await until(pilot, lambda: not app.screen.query(JournalEditor))
        assert view.region.width >= 76
