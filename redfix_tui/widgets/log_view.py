"""LogView: a Line-API view of a :class:`~redfix_tui.logs.spool.LogSpool` that follows, searches,
filters and selects without ever holding the log in memory.

Only visible lines are read from the spool and rendered (with a small strip cache). New data is
noticed by a timer that compares the spool's version — at most one refresh per tick however fast
lines arrive. Search, filter and marker scans over the whole spool run in thread workers.

Line numbers in the public API (``goto_line``, messages, evidence) are 1-based, as shown.
"""

from __future__ import annotations

import re
import time
from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, get_current_worker

from redfix_tui.evidence import LogEvidence
from redfix_tui.logs.ansi import strip as strip_escapes
from redfix_tui.logs.ansi import to_text
from redfix_tui.logs.markers import MarkerIndex, classify
from redfix_tui.logs.search import LineFilter, compile_pattern, search_spool
from redfix_tui.logs.spool import LogSpool

MAX_LINE_BYTES = 4096
"""Longer lines are shown truncated, with a ``… [+N bytes]`` marker."""
TICK = 1 / 30
"""How often the view checks the spool for new data (seconds)."""
EXTEND_BUDGET = 50_000
"""Lines a tick may scan to keep a search or filter up to date while following."""


def _human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


class LogView(ScrollView, can_focus=True):
    """Show a spool's lines; follow, search, filter, jump, select; see the module docstring."""

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        background: $surface;
        &:focus { border: round $primary; }
        &.-paused { border: round $warning; border-subtitle-color: $warning; }
        & > .log-view--failure { background: $error 25%; }
        & > .log-view--passed { color: $success; }
        & > .log-view--banner { background: $primary 30%; text-style: bold; }
        & > .log-view--match { background: $warning 70%; color: $text; }
        & > .log-view--selection { background: $accent 40%; }
        & > .log-view--cursor { background: $accent 70%; }
        & > .log-view--line-number { color: $text-muted; }
        & > .log-view--truncated { color: $text-muted; text-style: italic; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-view--failure",
        "log-view--passed",
        "log-view--banner",
        "log-view--match",
        "log-view--selection",
        "log-view--cursor",
        "log-view--line-number",
        "log-view--truncated",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("end,G", "follow", "Follow", id="log.follow"),
        Binding("home,g", "top", "Top", show=False, id="log.top"),
        Binding("up,k", "cursor_up", "Up", show=False, id="log.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="log.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="log.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="log.page_down"),
        Binding("slash", "find('search')", "Search", id="log.search"),
        Binding("n", "next_match", "Next match", id="log.next_match"),
        Binding("N", "previous_match", "Prev match", id="log.previous_match"),
        Binding("f", "find('filter')", "Filter", id="log.filter"),
        Binding("right_curly_bracket", "stage(1)", "Next stage", id="log.next_stage"),
        Binding("left_curly_bracket", "stage(-1)", "Prev stage", id="log.previous_stage"),
        Binding("right_square_bracket", "failure(1)", "Next fail", id="log.next_failure"),
        Binding("left_square_bracket", "failure(-1)", "Prev fail", id="log.previous_failure"),
        Binding("number_sign", "toggle_line_numbers", "Line no.", id="log.line_numbers"),
        Binding("w", "toggle_wrap", "Wrap", id="log.wrap"),
        Binding("v", "mark", "Mark", id="log.mark"),
        Binding("escape", "clear", "Clear", id="log.clear"),
        Binding("y", "copy", "Copy", id="log.copy"),
        Binding("e", "evidence", "Evidence", id="log.evidence"),
    ]

    follow: reactive[bool] = reactive(True, init=False)
    """At the bottom, showing new lines as they arrive (False: paused)."""
    show_line_numbers: reactive[bool] = reactive(False)
    """Show a gutter with 1-based line numbers."""
    wrap: reactive[bool] = reactive(False)
    """Wrap long lines at the pane's width instead of scrolling sideways."""
    cursor_line: reactive[int | None] = reactive(None)
    """0-based spool line of the cursor (after a jump or while marking), or None."""
    filter_context: reactive[int] = reactive(2)
    """Lines of context kept either side of a match in filter mode."""
    show_rate: reactive[bool] = reactive(True)
    """Show the arrival rate in the subtitle (snapshot tests turn it off: it depends on time)."""

    class EvidenceRequested(Message):
        """The operator asked for the selected lines as journal evidence (``e``)."""

        def __init__(self, evidence: LogEvidence) -> None:
            self.evidence = evidence
            super().__init__()

    class SelectionChanged(Message):
        """The marked range changed; ``first``/``last`` are 1-based, or None when cleared."""

        def __init__(self, log_view: LogView, first: int | None, last: int | None) -> None:
            self.log_view = log_view
            self.first = first
            self.last = last
            super().__init__()

        @property
        def control(self) -> LogView:
            """The LogView whose selection changed."""
            return self.log_view

    class FindRequested(Message):
        """``/`` or ``f`` was pressed: the container should show its input for ``mode``."""

        def __init__(self, log_view: LogView, mode: str) -> None:
            self.log_view = log_view
            self.mode = mode
            super().__init__()

    class Progress(Message):
        """A whole-spool scan (search/filter) advanced; coalesced, so only the latest counts."""

        def __init__(self, log_view: LogView, what: str, scanned: int, total: int) -> None:
            self.log_view = log_view
            self.what = what
            self.scanned = scanned
            self.total = total
            super().__init__()

        def can_replace(self, message: Message) -> bool:
            """Replace a pending progress message of the same view."""
            return isinstance(message, LogView.Progress) and message.log_view is self.log_view

    def __init__(
        self,
        spool: LogSpool | None = None,
        source_label: str = "",
        *,
        host: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Create a view, optionally already attached to ``spool``."""
        super().__init__(name=name, id=id, classes=classes)
        self.spool: LogSpool | None = None
        self.source_label = ""
        self.host = host
        self._strips: LRUCache[tuple[int, int], Strip] = LRUCache(1024)
        self._generation = 0
        self._seen_version = -1
        self._rows = 0
        self._max_width = 0
        self._paused_at = 0
        self._rate_samples: deque[tuple[float, int]] = deque(maxlen=64)
        self._regex: re.Pattern[str] | None = None
        self._matches = array("Q")
        self._search_scanned = 0
        self._search_busy = False
        self._filter: LineFilter | None = None
        self._filter_busy = False
        self._markers = MarkerIndex()
        self._anchor: int | None = None
        self._progress = ""
        self._wrap_page: tuple[tuple, list[Strip]] | None = None
        self.last_rendered_line = -1
        """Highest spool line rendered so far since the last attach (benchmarks watch it)."""
        self._styles: dict[str, Style] = {}
        self._render_cost = 0.0
        self._frame_cost = 0.0
        self._last_sync = 0.0
        if spool is not None:
            self.attach(spool, source_label)

    # -- data ------------------------------------------------------------------------------

    def attach(self, spool: LogSpool, source_label: str = "") -> None:
        """Show ``spool`` (replacing any previous one), following its end."""
        self.spool = spool
        self.source_label = source_label
        self.border_title = source_label
        self._markers = MarkerIndex()
        self._filter = None
        self._regex = None
        self._matches = array("Q")
        self._search_scanned = 0
        self._anchor = None
        self.cursor_line = None
        self._max_width = 0
        self._seen_version = -1
        self.last_rendered_line = -1
        self._rate_samples.clear()
        self._invalidate()
        self.follow = True
        if self.is_mounted:
            self._poll()

    def on_mount(self) -> None:
        """Start the poll timer that notices new data."""
        self.set_interval(TICK, self._poll, name="log-poll")
        self._poll()

    @property
    def row_count(self) -> int:
        """Rows shown: all lines, or the filtered ones."""
        if self._filter is not None:
            return len(self._filter.lines)
        return self.spool.line_count if self.spool is not None else 0

    def _row_line(self, row: int) -> int:
        return self._filter.lines[row] if self._filter is not None else row

    def _line_row(self, line: int) -> int:
        """Row showing ``line`` (or the first row after it when filtered out)."""
        if self._filter is None:
            return line
        return bisect_left(self._filter.lines, line)

    def _style(self, name: str) -> Style:
        """A component (or, for ``""``, the widget's own) rich style, cached until CSS changes."""
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style if not name else self.get_component_rich_style(name)
            self._styles[name] = style
        return style

    def notify_style_update(self) -> None:
        """CSS changed: drop cached styles and strips."""
        super().notify_style_update()
        self._styles = {}
        self._invalidate()

    def _invalidate(self) -> None:
        self._generation += 1
        self._strips.clear()
        self._wrap_page = None
        self.refresh()

    def _poll(self) -> None:
        """Timer tick: take in new data, keep search/filter current, update the subtitle."""
        spool = self.spool
        if spool is None:
            return
        if not spool.is_temporary:
            spool.refresh()
        now = time.monotonic()
        # Rendering a frame of fresh lines costs a few ms; while a flood arrives, repaint at most
        # so often that rendering takes about a fifth of the time (never under 5 fps).
        self._frame_cost = 0.7 * self._frame_cost + 0.3 * self._render_cost
        self._render_cost = 0.0
        min_interval = min(0.2, max(TICK, 4 * self._frame_cost))
        if now - self._last_sync < min_interval:
            return
        changed = spool.version != self._seen_version
        if changed:
            self._seen_version = spool.version
            self._wrap_page = None
            self._extend_scans()
        self._rate_samples.append((now, spool.byte_count))
        if changed or self._rows != self.row_count:
            self._last_sync = now
            self._rows = self.row_count
            self._sync_size()
            # The growing last line may have changed: repaint it.
            self._strips.discard((spool.line_count - 1, self._generation))
            self._strips.discard((spool.line_count - 2, self._generation))
            self.refresh()
        self._update_subtitle(now)

    def _extend_scans(self) -> None:
        spool = self.spool
        assert spool is not None
        if self._filter is not None and not self._filter_busy:
            self._filter.extend(spool, max_lines=EXTEND_BUDGET)
        if self._regex is not None and not self._search_busy:
            stop = min(spool.complete_lines, self._search_scanned + EXTEND_BUDGET)
            for step in search_spool(spool, self._regex, start=self._search_scanned, stop=stop):
                self._matches.extend(step.matches)
                self._search_scanned = step.scanned

    def _sync_size(self) -> None:
        rows = self.row_count
        height = self.scrollable_content_region.height or self.size.height
        if self.wrap:
            width = max(1, self.scrollable_content_region.width)
            virtual = Size(width, rows + max(0, height - self._rows_fitting_at_end(height)))
        else:
            virtual = Size(self._max_width + self._gutter_width(), rows)
        if virtual != self.virtual_size:
            self.virtual_size = virtual
        if self.follow:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        else:
            self._paused_update()

    def _rows_fitting_at_end(self, height: int) -> int:
        """How many rows, counted back from the last, fit in ``height`` screen lines (wrap)."""
        used = fitted = 0
        for row in range(self.row_count - 1, -1, -1):
            used += len(self._wrapped(self._row_line(row)))
            if used > height:
                break
            fitted += 1
        return max(1, fitted)

    def _update_subtitle(self, now: float) -> None:
        spool = self.spool
        if spool is None:
            return
        while len(self._rate_samples) > 2 and now - self._rate_samples[0][0] > 1.0:
            self._rate_samples.popleft()
        (t0, b0), (t1, b1) = self._rate_samples[0], self._rate_samples[-1]
        rate = (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
        parts = [f"{spool.line_count:,} lines", _human_bytes(spool.byte_count)]
        if rate > 0 and self.show_rate:
            parts.append(f"{_human_bytes(rate)}/s")
        if self._filter is not None:
            parts.append(f"filter: {self._filter.match_count:,} matches")
        if self._regex is not None:
            parts.append(f"/{self._regex.pattern}/ {len(self._matches):,}")
        if self._progress:
            parts.append(self._progress)
        if not self.follow:
            parts.insert(0, f"PAUSED — {self.pending_lines:,} new lines")
        subtitle = " · ".join(parts)
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle

    @property
    def pending_lines(self) -> int:
        """Lines that arrived since following was paused."""
        if self.follow or self.spool is None:
            return 0
        return max(0, self.spool.line_count - self._paused_at)

    def _paused_update(self) -> None:
        self.set_class(not self.follow, "-paused")

    def watch_follow(self, follow: bool) -> None:
        """Pause/resume: remember where we paused; scroll to the end on resume."""
        if not follow:
            self._paused_at = self.spool.line_count if self.spool is not None else 0
        else:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        self._paused_update()
        self._update_subtitle(time.monotonic())

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolling up pauses following; scrolling back to the very end resumes it."""
        super().watch_scroll_y(old_value, new_value)
        self._wrap_page = None
        if new_value < old_value and new_value < self.max_scroll_y and self.follow:
            self.follow = False
        elif not self.follow and new_value >= self.max_scroll_y > old_value:
            self.follow = True

    def watch_show_line_numbers(self) -> None:
        """Re-render with/without the gutter."""
        self._invalidate()
        if self.is_mounted:
            self._sync_size()

    def watch_wrap(self) -> None:
        """Re-layout for wrapping."""
        self._invalidate()
        if self.is_mounted:
            self._sync_size()

    def watch_cursor_line(self) -> None:
        """Repaint for the cursor."""
        self._wrap_page = None
        self.refresh()

    def on_resize(self) -> None:
        """Wrapped layout depends on the width."""
        if self.wrap:
            self._invalidate()
        self._sync_size()

    # -- rendering -------------------------------------------------------------------------

    def _gutter_width(self) -> int:
        if not self.show_line_numbers or self.spool is None:
            return 0
        return len(str(max(1, self.spool.line_count))) + 1

    def _line_strip(self, line: int) -> Strip:
        """The full-width strip of spool ``line`` (styles, highlights; no gutter)."""
        key = (line, self._generation)
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        spool = self.spool
        assert spool is not None
        length = spool.line_length(line)
        truncated = length > MAX_LINE_BYTES
        text = to_text(spool.read_line(line, limit=MAX_LINE_BYTES if truncated else None))
        plain = text.plain
        kind = classify(plain)
        if kind is not None:
            text.stylize_before(self._style(f"log-view--{kind}"))
        if self._regex is not None:
            match_style = self._style("log-view--match")
            for m in self._regex.finditer(plain):
                if m.end() > m.start():
                    text.stylize(match_style, m.start(), m.end())
        if truncated:
            text.append(
                f" … [+{length - MAX_LINE_BYTES:,} bytes]",
                self._style("log-view--truncated"),
            )
        strip = Strip(text.render(self.app.console), text.cell_len)
        if strip.cell_length > self._max_width and not self.wrap:
            self._max_width = strip.cell_length
            self.call_later(self._sync_size)
        if line < spool.complete_lines:
            self._strips[key] = strip
        if line > self.last_rendered_line:
            self.last_rendered_line = line
        return strip

    def _wrapped(self, line: int) -> list[Strip]:
        width = max(1, self.scrollable_content_region.width - self._gutter_width())
        strip = self._line_strip(line)
        if strip.cell_length <= width:
            return [strip]
        return list(strip.divide(range(width, strip.cell_length, width)))

    def _decorate(self, line: int, strip: Strip, first: bool, width: int) -> Strip:
        """Add the gutter, pad to ``width`` and apply base/selection styles, in one pass."""
        gutter = self._gutter_width()
        segments: list[Segment] = []
        if gutter:
            number = f"{line + 1:>{gutter - 1}} " if first else " " * gutter
            segments.append(Segment(number, self._style("log-view--line-number")))
        segments.extend(strip)
        pad = width - gutter - strip.cell_length
        if pad > 0:
            segments.append(Segment(" " * pad))
        post: Style | None = None
        if line == self.cursor_line:
            post = self._style("log-view--cursor")
        elif self._anchor is not None:
            selected = self.selection
            if selected is not None and selected[0] <= line <= selected[1]:
                post = self._style("log-view--selection")
        return Strip(Segment.apply_style(segments, self._style(""), post), max(width, gutter))

    def render_line(self, y: int) -> Strip:
        """Render screen row ``y`` (Line API)."""
        started = time.perf_counter()
        try:
            return self._render_line(y)
        finally:
            self._render_cost += time.perf_counter() - started

    def _render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if self.spool is None:
            return Strip.blank(width, self._style(""))
        scroll_x, scroll_y = self.scroll_offset
        if self.wrap:
            return self._render_wrapped(y, scroll_y, width)
        row = scroll_y + y
        if row >= self.row_count:
            return Strip.blank(width, self._style(""))
        line = self._row_line(row)
        content = self._line_strip(line)
        room = width - self._gutter_width()
        if scroll_x or content.cell_length > room:
            content = content.crop(scroll_x, scroll_x + room)
        return self._decorate(line, content, True, width)

    def _render_wrapped(self, y: int, top: int, width: int) -> Strip:
        key = (top, width, self._generation, self.row_count, self.cursor_line, self.selection)
        if self._wrap_page is None or self._wrap_page[0] != key:
            page: list[Strip] = []
            height = self.scrollable_content_region.height
            row = top
            while len(page) < height and row < self.row_count:
                line = self._row_line(row)
                for index, part in enumerate(self._wrapped(line)):
                    page.append(self._decorate(line, part, index == 0, width))
                row += 1
            self._wrap_page = (key, page)
        page = self._wrap_page[1]
        return page[y] if y < len(page) else Strip.blank(width, self._style(""))

    # -- navigation ------------------------------------------------------------------------

    @property
    def current_line(self) -> int:
        """The cursor line, or else the first line on screen (0-based)."""
        if self.cursor_line is not None:
            return self.cursor_line
        row = min(round(self.scroll_y), max(0, self.row_count - 1))
        return self._row_line(row) if self.row_count else 0

    def _show_line(self, line: int) -> None:
        """Put the cursor on spool ``line`` and scroll it into view (pausing follow)."""
        if self._filter is not None:
            row = self._line_row(line)
            if row >= self.row_count or self._filter.lines[row] != line:
                self.clear_filter()
        self.follow = False
        self.cursor_line = line
        row = self._line_row(line)
        height = self.scrollable_content_region.height
        if not (self.scroll_y <= row < self.scroll_y + height):
            self.scroll_to(y=max(0, row - height // 3), animate=False, immediate=True)

    def goto_line(self, number: int) -> None:
        """Show 1-based line ``number`` (clamped) with the cursor on it."""
        if self.spool is None or not self.spool.line_count:
            return
        self._show_line(min(max(1, number), self.spool.line_count) - 1)

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

    def action_follow(self) -> None:
        """Resume following the end of the log."""
        self.cursor_line = None if self._anchor is None else self.cursor_line
        self.follow = True

    def action_top(self) -> None:
        """Go to the first line (pauses following)."""
        self.follow = False
        self.scroll_to(y=0, animate=False, immediate=True)

    def _move_cursor(self, delta: int) -> None:
        row = self._line_row(self.current_line) + delta
        row = min(max(0, row), self.row_count - 1)
        self._show_line(self._row_line(row))
        if self._anchor is not None:
            self._post_selection()

    def action_cursor_up(self) -> None:
        """Move the cursor (while marking) or scroll up a line."""
        if self._anchor is not None:
            self._move_cursor(-1)
        else:
            self.scroll_to(y=self.scroll_y - 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        """Move the cursor (while marking) or scroll down a line."""
        if self._anchor is not None:
            self._move_cursor(1)
        else:
            self.scroll_to(y=self.scroll_y + 1, animate=False, immediate=True)

    def action_page_up(self) -> None:
        """Scroll up a page (moves the cursor while marking)."""
        if self._anchor is not None:
            self._move_cursor(-self.scrollable_content_region.height)
        else:
            super().action_page_up()

    def action_page_down(self) -> None:
        """Scroll down a page (moves the cursor while marking)."""
        if self._anchor is not None:
            self._move_cursor(self.scrollable_content_region.height)
        else:
            super().action_page_down()

    def action_toggle_line_numbers(self) -> None:
        """Show or hide line numbers."""
        self.show_line_numbers = not self.show_line_numbers

    def action_toggle_wrap(self) -> None:
        """Wrap long lines or not."""
        self.wrap = not self.wrap

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

    # -- search ----------------------------------------------------------------------------

    def action_find(self, mode: str) -> None:
        """Ask the container for the search/filter input (``f`` again clears a filter)."""
        if mode == "filter" and self._filter is not None:
            self.clear_filter()
            return
        self.post_message(self.FindRequested(self, mode))

    def search(self, pattern: str, *, ignore_case: bool | None = None) -> None:
        """Highlight ``pattern`` everywhere and jump to the next match (smart case by default).

        An empty pattern clears the search. A bad pattern is reported with :meth:`notify`.
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
        if direction > 0:
            index = bisect_left(matches, origin)
            target = matches[index % len(matches)]
        else:
            index = bisect_left(matches, origin) - 1
            target = matches[index % len(matches)]
        self._show_line(target)

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
        self._sync_size()
        if keep is not None and not self.follow:
            self.scroll_to(y=max(0, keep - 2), animate=False, immediate=True)

    @property
    def filtered_lines(self) -> list[int] | None:
        """0-based lines shown by the filter, or None when not filtering."""
        return None if self._filter is None else list(self._filter.lines)

    # -- selection, copy, evidence ---------------------------------------------------------

    @property
    def selection(self) -> tuple[int, int] | None:
        """The marked range as 0-based ``(first, last)`` spool lines, or None."""
        if self._anchor is None or self.cursor_line is None:
            return None
        return min(self._anchor, self.cursor_line), max(self._anchor, self.cursor_line)

    def _post_selection(self) -> None:
        self._wrap_page = None
        self.refresh()
        selected = self.selection
        first, last = (selected[0] + 1, selected[1] + 1) if selected else (None, None)
        self.post_message(self.SelectionChanged(self, first, last))

    def action_mark(self) -> None:
        """Start marking at the current line (cursor keys extend); ``v`` again restarts there."""
        if self.spool is None or not self.spool.line_count:
            return
        if self.cursor_line is None:
            height = self.scrollable_content_region.height
            row = min(self.row_count - 1, round(self.scroll_y) + height - 1)
            self.cursor_line = self._row_line(max(0, row))
        self.follow = False
        self._anchor = self.cursor_line
        self._post_selection()

    def action_clear(self) -> None:
        """Clear the marked range (and the cursor)."""
        had = self._anchor is not None
        self._anchor = None
        self.cursor_line = None
        if had:
            self._post_selection()

    def selected_lines(self) -> tuple[int, int, list[str]] | None:
        """The marked lines (or the cursor line) as ``(first, last, plain lines)``, 1-based."""
        if self.spool is None:
            return None
        selected = self.selection
        if selected is None:
            if self.cursor_line is None:
                return None
            selected = (self.cursor_line, self.cursor_line)
        first, last = selected
        lines = [strip_escapes(self.spool.read_line(n)) for n in range(first, last + 1)]
        return first + 1, last + 1, lines

    def action_copy(self) -> None:
        """Copy the marked lines, escape sequences removed, to the clipboard (OSC 52)."""
        chosen = self.selected_lines()
        if chosen is None:
            self.notify("mark lines with v first", severity="warning")
            return
        _first, _last, lines = chosen
        self.app.copy_to_clipboard("\n".join(lines) + "\n")
        self.notify(f"copied {len(lines)} line{'s' if len(lines) != 1 else ''}")

    def action_evidence(self) -> None:
        """Post :class:`EvidenceRequested` for the marked lines."""
        chosen = self.selected_lines()
        if chosen is None:
            self.notify("mark lines with v first", severity="warning")
            return
        first, last, lines = chosen
        evidence = LogEvidence(self.host, self.source_label, first, last, tuple(lines))
        self.post_message(self.EvidenceRequested(evidence))
