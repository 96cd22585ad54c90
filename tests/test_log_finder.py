"""LogFinder: search, filter and marker state of a log view, without Textual."""

from __future__ import annotations

import pytest

from redfix_tui.logs.find import LogFinder
from redfix_tui.logs.search import compile_pattern
from redfix_tui.logs.spool import LogSpool


def _lines(count: int) -> bytes:
    out = []
    for i in range(count):
        if i % 10 == 0:
            out.append(f"==== stage: s{i} ====")
        elif i % 7 == 0:
            out.append(f"FAILED test_{i}")
        else:
            out.append(f"line {i} ok")
    return ("\n".join(out) + "\n").encode()


@pytest.fixture
def spool():
    with LogSpool() as spool:
        spool.append(_lines(40))
        yield spool


def _scan(finder: LogFinder, spool: LogSpool) -> None:
    """What the view's search worker does."""
    job = finder.search
    assert job is not None
    job.total = spool.line_count
    job.catch_up(spool, spool.line_count)
    assert finder.finish_search(job)


def test_search_matches_and_wrapping_next_previous(spool: LogSpool) -> None:
    finder = LogFinder()
    assert finder.regex is None and list(finder.matches) == [] and finder.summary() == []
    job = finder.start_search(compile_pattern("FAILED"))
    assert finder.progress() == "searching 0%" and finder.busy
    _scan(finder, spool)
    assert not finder.busy
    assert list(finder.matches) == [7, 14, 21, 28, 35]
    assert finder.summary() == ["/FAILED/ 5"]
    assert finder.match_from(8, 1) == 14
    assert finder.match_from(14, 1) == 14
    assert finder.match_from(36, 1) == 7, "wraps to the first"
    assert finder.match_from(7, -1) == 35, "wraps to the last"
    assert finder.match_from(20, -1) == 14
    stale = job
    finder.start_search(compile_pattern("stage"))
    assert not finder.finish_search(stale), "a replaced search's scan is ignored"
    finder.clear_search()
    assert finder.match_from(0, 1) is None and finder.summary() == []


def test_search_keeps_up_with_new_lines_in_bounded_steps(spool: LogSpool) -> None:
    finder = LogFinder()
    finder.start_search(compile_pattern("FAILED"))
    _scan(finder, spool)
    spool.append(b"a\nFAILED late\nb\nFAILED partial")
    finder.catch_up(spool, max_lines=1)
    assert list(finder.matches)[-1] == 35 and finder.search is not None
    assert finder.search.scanned == 41
    finder.catch_up(spool, max_lines=100)
    assert list(finder.matches)[-1] == 41, "complete lines only: the last one is still growing"
    spool.append(b"\n")
    finder.catch_up(spool, max_lines=100)
    assert list(finder.matches)[-2:] == [41, 43]


def test_a_busy_search_is_left_to_its_thread(spool: LogSpool) -> None:
    finder = LogFinder()
    job = finder.start_search(compile_pattern("FAILED"))
    finder.catch_up(spool, max_lines=100)
    assert job.scanned == 0 and list(job.matches) == []


def test_filter_rows_and_hidden_lines(spool: LogSpool) -> None:
    finder = LogFinder()
    assert finder.row_count(40) == 40 and finder.row_line(5) == 5 and finder.line_row(5) == 5
    assert not finder.hides(3)
    line_filter = finder.start_filter(compile_pattern("FAILED"), 1)
    assert finder.progress() == "filtering 0%" and finder.busy
    finder.filter_total = spool.complete_lines
    line_filter.extend(spool)
    assert finder.finish_filter(line_filter) and finder.progress() == ""
    assert list(line_filter.lines) == [6, 7, 8, 13, 14, 15, 20, 21, 22, 27, 28, 29, 34, 35, 36]
    assert finder.row_count(40) == 15
    assert finder.row_line(3) == 13
    assert finder.line_row(14) == 4 and finder.line_row(10) == 3, "first row after a hidden line"
    assert finder.hides(10) and not finder.hides(13) and finder.hides(39)
    assert finder.summary() == ["filter: 5 matches"]
    finder.start_filter(compile_pattern("stage"), 0)
    assert not finder.finish_filter(line_filter), "a replaced filter's scan is ignored"
    finder.clear_filter()
    assert finder.filter is None and finder.row_count(40) == 40


def test_marker_jumps(spool: LogSpool) -> None:
    finder = LogFinder()
    finder.markers.extend(spool)
    assert finder.marker_from("banners", 0, 1) == 10
    assert finder.marker_from("banners", 10, 1) == 20
    assert finder.marker_from("banners", 10, -1) == 0
    assert finder.marker_from("banners", 0, -1) is None
    assert finder.marker_from("banners", 30, 1) is None
    assert finder.marker_from("failures", 8, 1) == 14
    assert finder.marker_from("failures", 14, -1) == 7


def test_reset_forgets_everything(spool: LogSpool) -> None:
    finder = LogFinder()
    finder.start_search(compile_pattern("FAILED"))
    finder.start_filter(compile_pattern("FAILED"), 0)
    finder.markers.extend(spool)
    finder.reset()
    assert finder.search is None and finder.filter is None and not finder.filter_busy
    assert finder.markers.scanned == 0 and list(finder.markers.banners) == []
