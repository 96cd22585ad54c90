"""Search, filter and marker jumps for :class:`~redfix_tui.widgets.log_view.LogView`.

Every scan over the whole spool runs in a thread worker (named and grouped, exclusive), reports
progress with coalesced ``LogView.Progress`` messages and hands its results back to the UI
thread with ``call_from_thread``. While lines keep arriving, an active search or filter is kept
current a bounded number of lines per repaint (:meth:`LogFindMixin._extend_scans`).
"""

from __future__ import annotations

import re
import time
from array import array
from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING

from textual import work
from textual.worker import Worker, get_current_worker

from redfix_tui.logs.markers import MarkerIndex
from redfix_tui.logs.search import LineFilter, compile_pattern, search_spool

if TYPE_CHECKING:
    from redfix_tui.logs.spool import LogSpool

EXTEND_BUDGET = 50_000
"""Lines a repaint may scan to keep a search or filter up to date while following."""


class LogFindMixin:
    """Regex search with highlights and n/N, the filter mode, and stage/failure jumps."""

    spool: LogSpool | None
    follow: bool
    filter_context: int

    def _reset_find(self) -> None:
        """Forget any search, filter and marker index (a new spool)."""
        self._regex: re.Pattern[str] | None = None
        self._matches = array("Q")
        self._search_scanned = 0
        self._search_busy = False
        self._filter: LineFilter | None = None
        self._filter_busy = False
        self._markers = MarkerIndex()
        self._progress = ""

    def _extend_scans(self) -> None:
        """Scan new lines for the active search/filter (bounded; the workers do the bulk)."""
        spool = self.spool
        assert spool is not None
        if self._filter is not None and not self._filter_busy:
            self._filter.extend(spool, max_lines=EXTEND_BUDGET)
        if self._regex is not None and not self._search_busy:
            stop = min(spool.complete_lines, self._search_scanned + EXTEND_BUDGET)
            for step in search_spool(spool, self._regex, start=self._search_scanned, stop=stop):
                self._matches.extend(step.matches)
                self._search_scanned = step.scanned

    # -- markers: stages and failures ------------------------------------------------------

    def action_stage(self, direction: int) -> None:
        """Jump to the next (1) or previous (-1) stage banner."""
        self._marker_jump("banners", direction)

    def action_failure(self, direction: int) -> None:
        """Jump to the next (1) or previous (-1) failure line."""
        self._marker_jump("failures", direction)

    @work(thread=True, group="log-markers", exclusive=True, name="log-markers")
    def _marker_jump(self, kind: str, direction: int) -> None:
        worker = get_current_worker()
        assert self.spool is not None
        self._markers.extend(self.spool, cancel=worker.cancelled_event)
        if worker.is_cancelled:
            return
        self.app.call_from_thread(self._marker_jump_done, kind, direction)

    def _marker_jump_done(self, kind: str, direction: int) -> None:
        lines: array[int] = getattr(self._markers, kind)
        current = self.current_line
        if direction > 0:
            index = bisect_right(lines, current)
            target = lines[index] if index < len(lines) else None
        else:
            index = bisect_left(lines, current) - 1
            target = lines[index] if index >= 0 else None
        if target is None:
            what = "stage" if kind == "banners" else "failure"
            self.notify(f"no {'next' if direction > 0 else 'previous'} {what}")
            return
        self._show_line(target)

    def jump_to(self, pattern: str, *, ignore_case: bool = False) -> Worker[int | None]:
        """Find the first line matching regex ``pattern`` (in a thread) and show it.

        Returns the worker; its result is the 1-based line number, or None if not found.
        """
        regex = compile_pattern(pattern, ignore_case=ignore_case)
        return self._jump_worker(regex)

    @work(thread=True, group="log-jump", exclusive=True, name="log-jump")
    def _jump_worker(self, regex: re.Pattern[str]) -> int | None:
        worker = get_current_worker()
        assert self.spool is not None
        for step in search_spool(self.spool, regex, cancel=worker.cancelled_event):
            if step.matches:
                line = step.matches[0]
                self.app.call_from_thread(self._show_line, line)
                return line + 1
        self.app.call_from_thread(self.notify, f"no line matches /{regex.pattern}/")
        return None

    # -- search ----------------------------------------------------------------------------

    def action_find(self, mode: str) -> None:
        """Ask the container for the search/filter input (``f`` again clears a filter)."""
        if mode == "filter" and self._filter is not None:
            self.clear_filter()
            return
        self.post_message(self.FindRequested(self, mode))

    def search(self, pattern: str, *, ignore_case: bool | None = None) -> None:
        """Highlight ``pattern`` everywhere and jump to the next match (smart case by default).

        An empty pattern clears the search. A bad pattern is reported with ``notify``.
        """
        self.workers.cancel_group(self, "log-search")
        if not pattern:
            self._regex = None
            self._matches = array("Q")
            self._invalidate()
            return
        if ignore_case is None:
            ignore_case = pattern == pattern.lower()
        try:
            regex = compile_pattern(pattern, ignore_case=ignore_case)
        except ValueError as error:
            self.notify(str(error), severity="error")
            return
        self._regex = regex
        self._matches = array("Q")
        self._search_scanned = 0
        self._search_busy = True
        self._invalidate()
        self._search_worker(regex, self.current_line)

    @work(thread=True, group="log-search", exclusive=True, name="log-search")
    def _search_worker(self, regex: re.Pattern[str], origin: int) -> None:
        worker = get_current_worker()
        spool = self.spool
        assert spool is not None
        jumped = False
        for step in search_spool(spool, regex, cancel=worker.cancelled_event):
            if worker.is_cancelled:
                return
            self.app.call_from_thread(self._search_step, regex, step.matches, step.scanned)
            self.post_message(self.Progress(self, "search", step.scanned, step.total))
            if not jumped and any(m >= origin for m in step.matches):
                jumped = True
                self.app.call_from_thread(self._goto_match, origin, 1)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._search_done, regex, jumped, origin)

    def _search_step(self, regex: re.Pattern[str], matches: list[int], scanned: int) -> None:
        if regex is not self._regex:
            return
        self._matches.extend(matches)
        self._search_scanned = scanned
        total = self.spool.line_count if self.spool else 0
        self._progress = f"searching {100 * scanned // max(1, total)}%"

    def _search_done(self, regex: re.Pattern[str], jumped: bool, origin: int) -> None:
        if regex is not self._regex:
            return
        self._search_busy = False
        self._progress = ""
        if not self._matches:
            self.notify(f"no line matches /{regex.pattern}/", severity="warning")
        elif not jumped:
            self._goto_match(origin, 1)

    @property
    def match_lines(self) -> list[int]:
        """0-based lines matching the current search (as found so far)."""
        return list(self._matches)

    def _goto_match(self, origin: int, direction: int) -> None:
        matches = self._matches
        if not matches:
            return
        index = bisect_left(matches, origin) - (0 if direction > 0 else 1)
        self._show_line(matches[index % len(matches)])

    def action_next_match(self) -> None:
        """Go to the next search match (wrapping around)."""
        self._goto_match(self.current_line + 1, 1)

    def action_previous_match(self) -> None:
        """Go to the previous search match (wrapping around)."""
        self._goto_match(self.current_line, -1)

    # -- filter ----------------------------------------------------------------------------

    def set_filter(self, pattern: str, *, context: int | None = None) -> None:
        """Show only lines matching ``pattern`` with ``context`` lines around; keeps following."""
        if not pattern:
            self.clear_filter()
            return
        ignore_case = pattern == pattern.lower()
        try:
            regex = compile_pattern(pattern, ignore_case=ignore_case)
        except ValueError as error:
            self.notify(str(error), severity="error")
            return
        if context is not None:
            self.filter_context = context
        self._filter = LineFilter(regex, self.filter_context)
        self._filter_busy = True
        self.add_class("-filtered")
        self._invalidate()
        self._filter_worker(self._filter)

    @work(thread=True, group="log-filter", exclusive=True, name="log-filter")
    def _filter_worker(self, line_filter: LineFilter) -> None:
        worker = get_current_worker()
        assert self.spool is not None
        total = self.spool.complete_lines
        while line_filter.scanned < total and not worker.is_cancelled:
            line_filter.extend(self.spool, max_lines=100_000, cancel=worker.cancelled_event)
            self.post_message(self.Progress(self, "filter", line_filter.scanned, total))
            self._progress = f"filtering {100 * line_filter.scanned // max(1, total)}%"
        if not worker.is_cancelled:
            self.app.call_from_thread(self._filter_done, line_filter)

    def _filter_done(self, line_filter: LineFilter) -> None:
        if line_filter is self._filter:
            self._filter_busy = False
            self._progress = ""
            self._rows = -1  # force a resync on the next tick

    def clear_filter(self) -> None:
        """Show every line again, keeping the current line in view."""
        if self._filter is None:
            return
        keep = self.current_line if self.row_count else None
        self.workers.cancel_group(self, "log-filter")
        self._filter = None
        self._filter_busy = False
        self._progress = ""
        self.remove_class("-filtered")
        self._invalidate()
        self._take_in(time.monotonic())
        if keep is not None and not self.follow:
            self.scroll_to(y=max(0, keep - 2), animate=False, immediate=True)

    @property
    def filtered_lines(self) -> list[int] | None:
        """0-based lines shown by the filter, or None when not filtering."""
        return None if self._filter is None else list(self._filter.lines)
