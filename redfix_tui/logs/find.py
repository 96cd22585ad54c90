"""What a log view has found in its spool: the search, the filter and the stage/failure markers.

:class:`LogFinder` is the Textual-free state behind a log view's ``/``, ``n``/``N``, ``f`` and
``{ } [ ]`` keys. The view runs the long scans in threads; a scan writes into its own
:class:`SearchJob` or :class:`~redfix_tui.logs.search.LineFilter` (appending only), and the view
reads the counts on its UI ticks, so no per-block hand-over is needed. Line numbers are 0-based;
rows are what the view shows (all lines, or the filtered ones).
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from typing import Literal

from redfix_tui.logs.markers import MarkerIndex
from redfix_tui.logs.search import LineFilter, search_spool
from redfix_tui.logs.spool import LogSpool

MarkerKind = Literal["banners", "failures"]


class SearchJob:
    """One search over a spool: its regex, the matching lines found so far, how far it got.

    A scan thread appends to :attr:`matches` and advances :attr:`scanned`; the UI thread only
    reads them until :attr:`busy` is cleared.
    """

    def __init__(self, regex: re.Pattern[str]) -> None:
        """A search for ``regex`` that has not scanned anything yet."""
        self.regex = regex
        self.matches = array("Q")
        """0-based matching lines, ascending."""
        self.scanned = 0
        """Lines ``[0, scanned)`` have been searched."""
        self.total = 0
        """Lines the running scan covers (for progress)."""
        self.busy = True
        """A thread is scanning the spool for this search."""

    def catch_up(self, spool: LogSpool, max_lines: int) -> None:
        """Search at most ``max_lines`` complete lines not yet searched (lines keep arriving)."""
        stop = min(spool.complete_lines, self.scanned + max_lines)
        for step in search_spool(spool, self.regex, start=self.scanned, stop=stop):
            self.matches.extend(step.matches)
            self.scanned = step.scanned


class LogFinder:
    """Search, filter and marker state of one log view; see the module docstring."""

    def __init__(self) -> None:
        """Nothing searched, no filter, no markers indexed."""
        self.reset()

    def reset(self) -> None:
        """Forget search, filter and markers (a new spool)."""
        self.search: SearchJob | None = None
        """The current search, or None."""
        self.filter: LineFilter | None = None
        """The current filter, or None (every line shown)."""
        self.filter_busy = False
        """A thread is scanning the spool for :attr:`filter`."""
        self.filter_total = 0
        """Lines the running filter scan covers (for progress)."""
        self.markers = MarkerIndex()
        """Stage banners and failure lines indexed so far."""

    # -- search ----------------------------------------------------------------------------

    @property
    def regex(self) -> re.Pattern[str] | None:
        """The current search's regex, or None."""
        return None if self.search is None else self.search.regex

    @property
    def matches(self) -> array[int]:
        """Lines matching the current search, found so far (empty without a search)."""
        return array("Q") if self.search is None else self.search.matches

    def start_search(self, regex: re.Pattern[str]) -> SearchJob:
        """Replace any search with a new one for ``regex`` (to be scanned by the caller)."""
        self.search = SearchJob(regex)
        return self.search

    def clear_search(self) -> None:
        """Drop the search."""
        self.search = None

    def finish_search(self, job: SearchJob) -> bool:
        """Mark ``job``'s scan done; False if it is no longer the current search."""
        if job is not self.search:
            return False
        job.busy = False
        return True

    def match_from(self, origin: int, direction: int) -> int | None:
        """The first match at or after ``origin`` (``direction`` 1) or the last before it (-1),
        wrapping around; None without matches."""
        matches = self.matches
        if not matches:
            return None
        index = bisect_left(matches, origin) - (0 if direction > 0 else 1)
        return matches[index % len(matches)]

    # -- filter ----------------------------------------------------------------------------

    def start_filter(self, regex: re.Pattern[str], context: int) -> LineFilter:
        """Replace any filter with one for ``regex`` keeping ``context`` lines around matches."""
        self.filter = LineFilter(regex, context)
        self.filter_busy = True
        self.filter_total = 0
        return self.filter

    def finish_filter(self, line_filter: LineFilter) -> bool:
        """Mark ``line_filter``'s scan done; False if it is no longer the current filter."""
        if line_filter is not self.filter:
            return False
        self.filter_busy = False
        return True

    def clear_filter(self) -> None:
        """Drop the filter (every line is shown again)."""
        self.filter = None
        self.filter_busy = False

    # -- rows ------------------------------------------------------------------------------

    def row_count(self, line_count: int) -> int:
        """Rows shown of a spool with ``line_count`` lines."""
        return line_count if self.filter is None else len(self.filter.lines)

    def row_line(self, row: int) -> int:
        """The spool line shown on ``row``."""
        return row if self.filter is None else self.filter.lines[row]

    def line_row(self, line: int) -> int:
        """The row showing ``line`` (or the first row after it when filtered out)."""
        return line if self.filter is None else bisect_left(self.filter.lines, line)

    def hides(self, line: int) -> bool:
        """True when the filter leaves ``line`` out."""
        if self.filter is None:
            return False
        lines = self.filter.lines
        row = bisect_left(lines, line)
        return row >= len(lines) or lines[row] != line

    # -- following -------------------------------------------------------------------------

    def catch_up(self, spool: LogSpool, max_lines: int) -> None:
        """Scan up to ``max_lines`` new lines for the search and filter no thread is scanning."""
        if self.filter is not None and not self.filter_busy:
            self.filter.extend(spool, max_lines=max_lines)
        if self.search is not None and not self.search.busy:
            self.search.catch_up(spool, max_lines)

    # -- markers ---------------------------------------------------------------------------

    def marker_from(self, kind: MarkerKind, current: int, direction: int) -> int | None:
        """The next (``direction`` 1) or previous (-1) marker of ``kind`` from ``current``."""
        lines = self.markers.banners if kind == "banners" else self.markers.failures
        if direction > 0:
            index = bisect_right(lines, current)
            return lines[index] if index < len(lines) else None
        index = bisect_left(lines, current) - 1
        return lines[index] if index >= 0 else None

    @property
    def busy(self) -> bool:
        """A thread is scanning the spool for the search or the filter."""
        return self.filter_busy or (self.search is not None and self.search.busy)

    # -- subtitle --------------------------------------------------------------------------

    def progress(self) -> str:
        """``filtering N%`` / ``searching N%`` while a scan runs, else ``""``."""
        if self.filter is not None and self.filter_busy:
            done, total, what = self.filter.scanned, self.filter_total, "filtering"
        elif self.search is not None and self.search.busy:
            done, total, what = self.search.scanned, self.search.total, "searching"
        else:
            return ""
        return f"{what} {100 * done // max(1, total)}%"

    def summary(self) -> list[str]:
        """Subtitle parts: the filter's match count, the search and its count, any progress."""
        parts = []
        if self.filter is not None:
            parts.append(f"filter: {self.filter.match_count:,} matches")
        if self.search is not None:
            parts.append(f"/{self.search.regex.pattern}/ {len(self.search.matches):,}")
        progress = self.progress()
        if progress:
            parts.append(progress)
        return parts
