"""Pilot tests of LogView / LogPane: follow, pause, search, filter, jumps, selection, evidence."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time

import pytest
from textual.app import App, ComposeResult

from redfix_tui.evidence import LogEvidence
from redfix_tui.logs.search import find_all
from redfix_tui.logs.spool import LogSpool
from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.log_view import LogView


def _content(count: int = 200) -> bytes:
    lines = []
    for i in range(1, count + 1):
        if i % 50 == 1:
            lines.append(f"==== stage: {['install', 'upgrade', 'backup', 'restore'][i // 50]} ====")
        elif i % 37 == 0:
            lines.append(f"\x1b[31mFAILED\x1b[0m tests/test_x.py::test_{i} - assert {i}")
        else:
            lines.append(f"line {i} \x1b[32mok\x1b[0m")
    return ("\n".join(lines) + "\n").encode()


class PaneApp(App):
    """A pane on a fixed spool, recording the messages it posts."""

    def __init__(self, spool: LogSpool) -> None:
        super().__init__()
        self.spool = spool
        self.evidence: list[LogEvidence] = []
        self.selections: list[tuple[int | None, int | None]] = []

    def compose(self) -> ComposeResult:
        yield LogPane()

    def on_mount(self) -> None:
        pane = self.query_one(LogPane)
        pane.attach(self.spool, "/tmp/redfix-gitea.log", host="cc-ci")
        pane.log_view.focus()

    def on_log_view_evidence_requested(self, event: LogView.EvidenceRequested) -> None:
        self.evidence.append(event.evidence)

    def on_log_view_selection_changed(self, event: LogView.SelectionChanged) -> None:
        self.selections.append((event.first, event.last))


@pytest.fixture
def spool():
    spool = LogSpool()
    spool.append(_content())
    yield spool
    spool.close()


async def _settle(app: App, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause(0.05)


async def test_follow_pause_resume(spool: LogSpool) -> None:
    app = PaneApp(spool)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        await pilot.pause()
        assert view.follow and view.scroll_y == view.max_scroll_y > 0
        assert view.last_rendered_line == 199
        await pilot.press("pageup")
        await pilot.pause()
        assert not view.follow and view.has_class("-paused")
        paused_at = view.scroll_y
        spool.append(b"".join(b"new %d\n" % i for i in range(5)))
        await pilot.pause(0.1)
        assert view.scroll_y == paused_at, "paused view must not move"
        assert view.pending_lines == 5
        assert view.border_subtitle.startswith("PAUSED — 5 new lines")
        assert "205 lines" in view.border_subtitle
        await pilot.press("end")
        await pilot.pause()
        assert view.follow and not view.has_class("-paused")
        assert view.scroll_y == view.max_scroll_y
        spool.append(b"one more\n")
        await pilot.pause(0.1)
        assert view.scroll_y == view.max_scroll_y
        assert view.last_rendered_line == 205
        await pilot.press("home")
        await pilot.press("G")
        await pilot.pause()
        assert view.follow


async def test_search_highlights_and_n_N(spool: LogSpool) -> None:
    app = PaneApp(spool)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        await pilot.press("home", "slash")
        await pilot.press(*"FAILED", "enter")
        await _settle(app, pilot)
        expected = find_all(spool, "FAILED")
        assert view.match_lines == expected == [36, 73, 110, 147, 184]
        assert view.cursor_line == 36
        await pilot.press("n")
        assert view.cursor_line == 73
        await pilot.press("N", "N")
        assert view.cursor_line == 184, "N wraps around"
        row = round(view.cursor_line - view.scroll_y)
        strip = view.render_line(row)
        match_style = view.get_component_rich_style("log-view--match")
        highlighted = "".join(
            s.text for s in strip if s.style and s.style.bgcolor == match_style.bgcolor
        )
        assert "FAILED" in highlighted


async def test_bad_regex_is_reported_not_raised(spool: LogSpool) -> None:
    app = PaneApp(spool)
    async with app.run_test() as pilot:
        view = app.query_one(LogView)
        view.search("(oops")
        await pilot.pause()
        assert view.match_lines == []
        assert any("bad regular expression" in n.message for n in app._notifications)


@pytest.mark.skipif(shutil.which("grep") is None, reason="needs grep")
async def test_filter_shows_matches_with_context_and_keeps_following(spool: LogSpool) -> None:
    app = PaneApp(spool)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        await pilot.press("f")
        await pilot.press(*"FAILED", "enter")
        await _settle(app, pilot)

        def grep() -> list[int]:
            out = subprocess.run(
                ["grep", "-n", "-E", "-C", "2", "FAILED", str(spool.path)],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            return [int(n) - 1 for n in re.findall(r"^(\d+)[:-]", out, re.MULTILINE)]

        assert view.filtered_lines == grep()
        assert view.row_count == 25 and view.follow
        spool.append(b"a\nb\nc\nFAILED late\nd\ne\nf\n")
        await pilot.pause(0.15)
        assert view.filtered_lines == grep()
        assert view.scroll_y == view.max_scroll_y
        assert "FAILED late" in view.render_line(view.scrollable_content_region.height - 1 - 2).text
        await pilot.press("f")
        await pilot.pause()
        assert view.filtered_lines is None and view.row_count == 207


async def test_stage_and_failure_jumps(spool: LogSpool) -> None:
    app = PaneApp(spool)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        await pilot.press("home")
        for expected in (50, 100):
            await pilot.press("right_curly_bracket")
            await _settle(app, pilot)
            assert view.cursor_line == expected
        await pilot.press("left_curly_bracket")
        await _settle(app, pilot)
        assert view.cursor_line == 50
        await pilot.press("right_square_bracket")
        await _settle(app, pilot)
        assert view.cursor_line == 73
        await pilot.press("left_square_bracket")
        await _settle(app, pilot)
        assert view.cursor_line == 36


async def test_goto_line_and_jump_to(spool: LogSpool) -> None:
    app = PaneApp(spool)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        view.goto_line(120)
        await pilot.pause()
        assert view.cursor_line == 119 and not view.follow
        assert view.scroll_y <= 119 < view.scroll_y + view.scrollable_content_region.height
        worker = view.jump_to(r"test_x\.py::test_148")
        await worker.wait()
        await pilot.pause()
        assert worker.result == 148 and view.cursor_line == 147


async def test_selection_copy_and_evidence(spool: LogSpool) -> None:
    app = PaneApp(spool)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        view.goto_line(36)
        await pilot.press("v", "down", "down")
        await pilot.pause()
        assert view.selection == (35, 37)
        assert app.selections[-1] == (36, 38)
        await pilot.press("y")
        assert app.clipboard == (
            "line 36 ok\nFAILED tests/test_x.py::test_37 - assert 37\nline 38 ok\n"
        )
        await pilot.press("e")
        await pilot.pause()
        evidence = app.evidence[-1]
        assert (evidence.host, evidence.path) == ("cc-ci", "/tmp/redfix-gitea.log")
        assert (evidence.first_line, evidence.last_line) == (36, 38)
        assert evidence.lines[1] == "FAILED tests/test_x.py::test_37 - assert 37"
        await pilot.press("escape")
        await pilot.pause()
        assert view.selection is None and app.selections[-1] == (None, None)


async def test_dangerous_sequences_never_reach_the_screen() -> None:
    spool = LogSpool()
    spool.append(
        b"clip \x1b]52;c;cm0gLXJmIH4=\x07done\n"
        b"title \x1b]0;owned\x1b\\done\n"
        b"move \x1b[2J\x1b[1;1H\x1b[?1049hdone\x07\n"
        b"bad utf8 \xff\xfe done\n"
        b"progress 10%\rprogress 100%\n"
    )
    app = PaneApp(spool)
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        await pilot.pause()
        rows = [view.render_line(y) for y in range(5)]
        texts = [strip.text.rstrip() for strip in rows]
        assert texts == [
            "clip done",
            "title done",
            "move done",
            "bad utf8 \ufffd\ufffd done",
            "progress 100%",
        ]
        for strip in rows:
            for segment in strip:
                assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in segment.text)
        assert app.clipboard == ""
    spool.close()


async def test_huge_line_is_truncated_with_a_marker_and_wrap_and_numbers() -> None:
    spool = LogSpool()
    spool.append(b"short\n" + b"x" * (1 << 20) + b"\nafter\n")
    app = PaneApp(spool)
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(LogView)
        await pilot.press("home")
        await pilot.pause()
        assert view.virtual_size.width < 5000
        await pilot.press("number_sign")
        await pilot.pause()
        assert view.render_line(0).text.startswith("1 short")
        await pilot.press("w")
        await pilot.pause()
        rows = [
            view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)
        ]
        assert rows[0] == "1 short"
        assert rows[1].startswith("2 xxxx")
        assert rows[2].startswith("  xxxx"), "continuation rows have a blank gutter"
        view.goto_line(2)
        await pilot.press("w")
        await pilot.pause()
        full = view._line_strip(1).text
        assert full.endswith(f"… [+{(1 << 20) - 4096:,} bytes]")
    spool.close()


async def test_a_flood_is_painted_at_a_few_frames_a_second_and_its_end_at_once() -> None:
    """Lines pouring in faster than a screenful per tick: repaints are spaced out (at most 8 a
    second) and render only the last screen; when the data stops, the last line, the end of the
    scroll range and the scrollbar are all brought up to date within a tick or two."""
    spool = LogSpool()
    app = PaneApp(spool)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(LogView)
        await pilot.pause()
        screens: set[float] = set()  # distinct scroll positions painted
        render_lines = view.render_lines

        def counting(crop):
            screens.add(view.scroll_y)
            return render_lines(crop)

        view.render_lines = counting  # type: ignore[method-assign]
        drawn: set[int] = set()
        content = view._content

        def recording(line: int):
            drawn.add(line)
            return content(line)

        view._content = recording  # type: ignore[method-assign]
        loop = asyncio.get_running_loop()
        start, count = loop.time(), 0
        while loop.time() - start < 1.5:  # ~100k lines/s
            spool.append(b"".join(b"flood line %08d\n" % i for i in range(count, count + 500)))
            count += 500
            await asyncio.sleep(0.005)
        painted = len(screens)
        assert 3 <= painted <= 1.5 * 8 + 2, painted
        assert len(drawn) <= (painted + 1) * view.scrollable_content_region.height < count / 10
        await pilot.pause(0.15)
        assert view.last_rendered_line == count - 1
        assert view.follow and view.scroll_y == view.max_scroll_y
        bar = view.vertical_scrollbar
        assert bar.window_virtual_size == view.virtual_size.height == count
        assert bar.position == view.scroll_y
    spool.close()


class EmptyPaneApp(App):
    """A pane with no source yet."""

    def compose(self) -> ComposeResult:
        yield LogPane()


async def test_pane_says_it_waits_for_a_log_that_does_not_exist_yet(node, tmp_path) -> None:
    log = tmp_path / "rerun.log"
    app = EmptyPaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(LogPane)
        tail = pane.follow_remote(node, str(log))
        for _ in range(200):
            if tail.state.status == "WAITING":
                break
            await pilot.pause(0.02)
        await pilot.pause()
        state_line = pane.query_one("#log-state")
        assert pane.state_text == f"waiting for {log} to appear (no log yet)"
        assert str(state_line.render()) == pane.state_text
        assert state_line.has_class("-waiting") and not state_line.has_class("-connected")
        log.write_bytes(b"rerun started\n")
        for _ in range(200):
            if pane.log_view.last_rendered_line == 0:
                break
            await pilot.pause(0.02)
        assert pane.state_text == "CONNECTED" and state_line.has_class("-connected")
        assert "rerun started" in pane.log_view.render_line(0).text


async def test_search_filter_and_jumps_before_any_log_say_so_and_keep_running() -> None:
    app = EmptyPaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        view.focus()
        await pilot.press("slash", *"x", "enter")
        await pilot.press("f", *"y", "enter")
        await pilot.press("right_curly_bracket", "left_square_bracket")
        await app.workers.wait_for_complete()
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert "no log to search yet" in messages and "no log to filter yet" in messages
        assert app.is_running and view.match_lines == [] and view.filtered_lines is None


async def test_attaching_a_new_log_to_a_paused_view_follows_it(spool: LogSpool) -> None:
    app = PaneApp(spool)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        await pilot.press("home")
        await pilot.pause()
        assert not view.follow
        with LogSpool() as other:
            other.append(b"another log\n")
            view.attach(other, "/tmp/other.log")
            await pilot.pause()
            assert view.follow and not view.has_class("-paused")
            assert view.border_subtitle.startswith("1 lines")
            assert "another log" in view.render_line(0).text
            view.attach(spool, "/tmp/redfix-gitea.log")
            await pilot.pause()


async def test_a_flood_ending_on_a_lazy_repaint_is_brought_up_to_date(spool: LogSpool) -> None:
    """The last lines of a flood taken in by a repaint that left the scrollbar behind: the next
    tick without new data brings the scrollbar (and the line cache) up to date."""
    app = PaneApp(spool)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        await pilot.pause()
        now = time.monotonic()
        view._pacer.scrollbar_synced(now)
        spool.append(b"".join(b"flood %d\n" % i for i in range(1000)))
        view._take_in(now, flooding=True)
        assert view._scrollbar_stale and view.vertical_scrollbar.window_virtual_size == 200
        await pilot.pause(0.15)
        assert not view._scrollbar_stale
        assert view.vertical_scrollbar.window_virtual_size == view.virtual_size.height == 1200
        assert view.vertical_scrollbar.position == view.scroll_y == view.max_scroll_y
