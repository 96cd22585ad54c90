"""LogView: a Line-API view of a :class:`~redfix_tui.logs.spool.LogSpool` that follows, searches,
filters and selects without ever holding the log in memory.

One widget, one job: show the spool. What it has found (search, filter, stage and failure
markers) lives in a Textual-free :class:`~redfix_tui.logs.find.LogFinder`, the pacing of
repaints in a :class:`~redfix_tui.logs.pacing.RepaintPacer`, and turning lines into styled
segments in a :class:`~redfix_tui.logs.lines.LineRenderer`; the view drives them and paints.

* **Taking in new data.** A timer compares the spool's ``version`` a few dozen times a second;
  new data leads to at most one repaint per tick however fast lines arrive. While lines pour in
  faster than they can be read, repaints are spaced out and only the last screen is rendered;
  the scrollbar catches up less often (the pacing is a Textual-free
  :class:`~redfix_tui.logs.pacing.RepaintPacer`). As soon as a tick finds no new data, or the
  stream ends (:meth:`flush`), everything is brought up to date at once. Following keeps the
  view at the end; scrolling up pauses (the border says how many lines arrived since) and
  reaching the end again, or End, resumes. The border's subtitle carries line count, bytes,
  arrival rate and search/filter state.
* **Rendering.** Only the rows on screen are rendered. A spool line becomes segments (colours,
  failure/pass/banner highlights, search matches, truncation: a Textual-free
  :class:`~redfix_tui.logs.lines.LineRenderer` with a small cache, given the view's component
  styles); each screen row is one :class:`Strip` with gutter, padding and the cursor/selection
  style on top. Wrapped mode lays out a page at once.
* **Search, filter, jumps.** Every scan over the whole spool runs in a named, grouped, exclusive
  thread worker that writes into the finder's job (appending only); the view reads the counts on
  its ticks, so the scan never waits for the UI. Progress is shown and posted (coalesced
  messages) at most ``1 / PROGRESS_INTERVAL`` times a second; the end of a scan is shown at
  once. While lines keep arriving, an active search or filter is kept current
  ``EXTEND_BUDGET`` lines per repaint.
* **Selection.** ``v`` anchors a range at the current line and the cursor keys extend it; ``y``
  copies it (escapes removed) with OSC 52, ``e`` posts it as journal evidence.
* **Time.** ``t`` shows a gutter with each line's arrival time (UTC) and the time since its stage
  began (the spool stamps each received chunk: :class:`~redfix_tui.logs.clock.ArrivalTimes`);
  stage banners then carry the stage's duration beside the previous run's
  (:class:`~redfix_tui.logs.stages.StageTimes`).
* **Marks.** ``m`` marks the cursor line with an optional note (again: unmarks), ``'`` jumps to
  the next mark; marks are kept per node and file (:mod:`redfix_tui.logs.marks`) and shown in
  the gutter. ``s`` saves the log, or the filtered view, to a local file.

Line numbers in the public API (``goto_line``, messages, evidence) are 1-based, as shown;
internally spool lines are 0-based.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, get_current_worker

from redfix_tui.evidence import LogEvidence
from redfix_tui.logs.ansi import strip as strip_escapes
from redfix_tui.logs.clock import duration, hms
from redfix_tui.logs.find import LogFinder, MarkerKind, SearchJob
from redfix_tui.logs.lines import MAX_LINE_BYTES, Content, LineRenderer
from redfix_tui.logs.markers import Kind
from redfix_tui.logs.marks import LogMarks, MarkStore
from redfix_tui.logs.pacing import FLOOD_INTERVAL, TICK, RepaintPacer, flow_subtitle
from redfix_tui.logs.search import LineFilter, compile_pattern, search_spool
from redfix_tui.logs.spool import LogSpool
from redfix_tui.logs.stages import StageTimes
from redfix_tui.safe_text import clean, plain

__all__ = ["EXTEND_BUDGET", "MAX_LINE_BYTES", "TICK", "LogView"]

EXTEND_BUDGET = 50_000
"""Lines a repaint may scan to keep a search or filter up to date while following."""
PROGRESS_INTERVAL = 0.1
"""Shortest time between two progress updates (subtitle, ``LogView.Progress``) of a scan."""
FILTER_STEP = 100_000
"""Lines a filter scan examines between two cancellation/progress checks."""
TIME_GUTTER = 18
"""Width of the time gutter: ``HH:MM:SS +h:mm:ss `` (arrival, since the stage began)."""
MARK_GUTTER = 2
"""Width of the marks column (shown while the log has marks)."""
SAVE_STEP = 10_000
"""Lines read at a time when saving a log."""

_STAGE_MEMORY: dict[str, dict[str, float]] = {}
"""Stage durations of the last run this console saw, by ``host:file`` (the yardstick when the
ledger has none)."""


def default_save_path(source: str, now: datetime | None = None) -> str:
    """``./redfix-<file>-<UTC>.log`` for a log whose path is ``source``."""
    base = Path(source).name.removesuffix(".log") or "log"
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in base)[:60]
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"./redfix-{safe}-{stamp}.log"


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
        & > .log-view--time { color: $text-muted; }
        & > .log-view--mark { color: $accent; text-style: bold; }
        & > .log-view--stage-time { color: $primary; text-style: bold; }
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
        "log-view--time",
        "log-view--mark",
        "log-view--stage-time",
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
        Binding("v", "mark", "Select", id="log.mark"),
        Binding("t", "toggle_times", "Times", id="log.time"),
        Binding("m", "mark_line", "Mark line", id="log.mark_line"),
        Binding("apostrophe", "next_mark", "Next mark", show=False, id="log.next_mark"),
        Binding("s", "save", "Save", id="log.save"),
        Binding("escape", "clear", "Clear", id="log.clear"),
        Binding("y", "copy", "Copy", id="log.copy"),
        Binding("e", "evidence", "Evidence", id="log.evidence"),
    ]

    flood_interval: float = FLOOD_INTERVAL
    """Shortest time between repaints while lines pour in (a class attribute to tune)."""

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
    show_times: reactive[bool] = reactive(False)
    """Show the time gutter (arrival time, time since the stage began) and stage durations."""

    class EvidenceRequested(Message):
        """The operator asked for the selected lines as journal evidence (``e``); ``note`` is
        the note of the mark on the line, if any."""

        def __init__(self, evidence: LogEvidence, note: str = "") -> None:
            self.evidence = evidence
            self.note = note
            super().__init__()

    class Saved(Message):
        """The log (or its filtered view) was saved to ``path`` (``lines`` lines)."""

        def __init__(self, path: str, lines: int) -> None:
            self.path = path
            self.lines = lines
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
        self.finder = LogFinder()
        """Search, filter and marker state (Textual-free)."""
        self.last_rendered_line = -1
        """Highest spool line rendered so far since the last attach (benchmarks watch it)."""
        self._anchor: int | None = None  # the fixed end of the marked range
        # rendering
        self._lines = LineRenderer(self._kind_style, self._extra_style, lambda: self.app.console)
        self._generation = 0  # of rendered lines: bumped when they are all forgotten
        self._styles: dict[str, Style] = {}
        self._wrap_page: tuple[tuple, list[Strip]] | None = None
        self._max_width = 0
        self._frame: tuple[int, int] | None = None
        self._keep_lines = True
        # taking in new data
        self._pacer = RepaintPacer()
        self._rows = 0
        self._paused_at = 0
        self._scrollbar_lazy = False
        self._scrollbar_stale = False
        self._progress_shown = 0.0
        # time, marks
        self.stages = StageTimes()
        """Stage banners of the spool (scanned while the time gutter is shown)."""
        self.previous_stage_s: Callable[[str], float | None] | None = None
        """Seconds the named stage took in the previous run, from the run ledger (set by the
        screen for a recipe's rerun log); None: the last run this console saw."""
        self.marks = LogMarks()
        """The operator's marks on this log."""
        self.mark_store = MarkStore()
        """Where marks are kept across restarts."""
        if spool is not None:
            self.attach(spool, source_label)

    def attach(self, spool: LogSpool, source_label: str = "") -> None:
        """Show ``spool`` (replacing any previous one), following its end."""
        self._remember_stages()
        self.spool = spool
        self.source_label = source_label
        self.border_title = plain(source_label)  # a path from the node: never markup
        self.finder.reset()
        self.stages = StageTimes()
        self._load_marks()
        self._anchor = None
        self.cursor_line = None
        self._max_width = 0
        self._pacer.reset()
        self.last_rendered_line = -1
        self._invalidate()
        self.follow = True
        if self.is_mounted:
            self._poll()

    # -- rows and navigation ---------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Rows shown: all lines, or the filtered ones."""
        return self.finder.row_count(self.spool.line_count if self.spool is not None else 0)

    @property
    def current_line(self) -> int:
        """The cursor line, or else the first line on screen (0-based)."""
        if self.cursor_line is not None:
            return self.cursor_line
        row = min(round(self.scroll_y), max(0, self.row_count - 1))
        return self.finder.row_line(row) if self.row_count else 0

    def _show_line(self, line: int) -> None:
        """Put the cursor on spool ``line`` and scroll it into view (pausing follow)."""
        if self.finder.hides(line):
            self.clear_filter()
        self.follow = False
        self.cursor_line = line
        row = self.finder.line_row(line)
        height = self.scrollable_content_region.height
        if not (self.scroll_y <= row < self.scroll_y + height):
            self.scroll_to(y=max(0, row - height // 3), animate=False, immediate=True)

    def goto_line(self, number: int) -> None:
        """Show 1-based line ``number`` (clamped) with the cursor on it."""
        if self.spool is None or not self.spool.line_count:
            return
        self._show_line(min(max(1, number), self.spool.line_count) - 1)

    def action_follow(self) -> None:
        """Resume following the end of the log."""
        self.cursor_line = None if self._anchor is None else self.cursor_line
        self.follow = True

    def action_top(self) -> None:
        """Go to the first line (pauses following)."""
        self.follow = False
        self.scroll_to(y=0, animate=False, immediate=True)

    def _move_cursor(self, delta: int) -> None:
        row = self.finder.line_row(self.current_line) + delta
        row = min(max(0, row), self.row_count - 1)
        self._show_line(self.finder.row_line(row))
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

    def watch_show_line_numbers(self) -> None:
        """Re-render with/without the gutter (line contents do not include it: kept)."""
        self._repaint_rows()
        if self.is_mounted:
            self._sync_size()

    def action_toggle_times(self) -> None:
        """Show or hide the time gutter and stage durations."""
        self.show_times = not self.show_times

    def watch_show_times(self, show: bool) -> None:
        """Find the stage banners (in a thread for a big log), then repaint with the gutter."""
        self._repaint_rows()
        if self.is_mounted:
            self._sync_size()
        if show and self.spool is not None:
            self._stage_worker(self.spool, self.stages)

    @work(thread=True, group="log-stages", exclusive=True, name="log-stages")
    def _stage_worker(self, spool: LogSpool, stages: StageTimes) -> None:
        """Scan the spool for stage banners, then repaint."""
        worker = get_current_worker()
        stages.extend(spool, cancel=worker.cancelled_event)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._invalidate)

    def watch_wrap(self) -> None:
        """Re-layout for wrapping."""
        self._invalidate()
        if self.is_mounted:
            self._sync_size()

    def watch_cursor_line(self) -> None:
        """Repaint for the cursor."""
        self._repaint_rows()

    # -- taking in new data, following -----------------------------------------------------

    def on_mount(self) -> None:
        """Start the poll timer that notices new data."""
        self.set_interval(TICK, self._poll, name="log-poll")
        self._poll()

    def _poll(self) -> None:
        """Timer tick: take in new data, spacing repaints out while lines pour in."""
        spool = self.spool
        if spool is None:
            return
        if not spool.is_temporary:
            spool.refresh()
        now = time.monotonic()
        arriving = self._pacer.tick(now, spool.version, spool.byte_count)
        if spool.version == self._pacer.seen_version and self._rows == self.row_count:
            if self._scrollbar_stale or not self._keep_lines:
                # The last data came in a flood's repaint: bring the rest up to date now.
                self._take_in(now)
                return
            # The rate settling, or a scan's progress (a few times a second: a repaint costs
            # the scan's thread time).
            if not self.finder.busy or now - self._progress_shown >= PROGRESS_INTERVAL:
                self._progress_shown = now
                self._update_subtitle(now)
            return
        height = self.scrollable_content_region.height or self.size.height
        flooding = arriving and spool.line_count - self._pacer.lines_shown >= height
        if not self._pacer.should_wait(now, flooding, self.flood_interval):
            self._take_in(now, flooding=flooding)

    def flush(self) -> None:
        """Show what the spool holds now, without waiting for a tick (e.g. a stream ended)."""
        if self.spool is not None and self.is_mounted:
            self._take_in(time.monotonic())

    def _take_in(self, now: float, *, flooding: bool = False) -> None:
        """Bring size, scroll position, search/filter and subtitle up to the spool's state."""
        spool = self.spool
        assert spool is not None
        self._pacer.take_in(now, spool.version, spool.line_count)
        self._wrap_page = None
        self.finder.catch_up(spool, EXTEND_BUDGET)
        if self.show_times and self.stages.extend(spool, max_lines=EXTEND_BUDGET, wait=False):
            self._invalidate()  # a stage began: banners and times above may change
        self._rows = self.row_count
        # Lines painted while following a flood scroll away before they are shown again.
        self._keep_lines = not (flooding and self.follow)
        lazy = self._pacer.scrollbar_lazy(now, flooding)
        self._scrollbar_lazy = lazy
        try:
            self._sync_size()
        finally:
            self._scrollbar_lazy = False
        if not lazy:
            self._pacer.scrollbar_synced(now)
            self._sync_scrollbar()
        # The growing last line may have changed: repaint it.
        self._forget_line(spool.line_count - 1)
        self._forget_line(spool.line_count - 2)
        self.refresh()
        self._update_subtitle(now)

    def _sync_size(self) -> None:
        """Fit the virtual size to the rows taken in (new data waits for the poll) and, while
        following, scroll to the end."""
        rows = self._rows
        height = self.scrollable_content_region.height or self.size.height
        if self.wrap:
            width = max(1, self.scrollable_content_region.width)
            virtual = Size(width, rows + max(0, height - self._rows_fitting_at_end(rows, height)))
        else:
            virtual = Size(self._max_width + self._gutter_width(), rows)
        if virtual != self.virtual_size:
            self._set_virtual_size(virtual)
        if self.follow:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        else:
            self.set_class(True, "-paused")

    def _set_virtual_size(self, virtual: Size) -> None:
        """Change the scrollable size without a screen-wide layout (the view's own size does
        not depend on it); only the scrollbars are brought up to date, if they need it."""
        if not self.is_mounted or not self.size:
            self.virtual_size = virtual
            return
        old = self.virtual_size
        self.set_reactive(type(self).virtual_size, virtual)
        room = self.scrollable_content_region.width
        if old.height == virtual.height and max(old.width, virtual.width) <= room:
            pass  # only the width changed, and no horizontal scrollbar either way
        elif self._scrollbar_lazy:
            self._scrollbar_stale = True
        else:
            self._scroll_update(virtual)
        self.refresh()

    def _sync_scrollbar(self) -> None:
        """Bring the scrollbar up to date after repaints that left it behind."""
        if self._scrollbar_stale:
            self._scrollbar_stale = False
            self._scroll_update(self.virtual_size)
            if self.show_vertical_scrollbar:
                self.vertical_scrollbar.position = self.scroll_y

    def _update_subtitle(self, now: float) -> None:
        spool = self.spool
        if spool is None:
            return
        rate = self._pacer.rate(now) if self.show_rate else 0.0
        pending = None if self.follow else self.pending_lines
        found = self.finder.summary()
        subtitle = flow_subtitle(spool.line_count, spool.byte_count, rate, found, pending)
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle

    @property
    def pending_lines(self) -> int:
        """Lines that arrived since following was paused."""
        if self.follow or self.spool is None:
            return 0
        return max(0, self.spool.line_count - self._paused_at)

    def watch_follow(self, follow: bool) -> None:
        """Pause/resume: remember where we paused; scroll to the end on resume."""
        if not follow:
            self._paused_at = self.spool.line_count if self.spool is not None else 0
        else:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        self.set_class(not self.follow, "-paused")
        self._update_subtitle(time.monotonic())

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolling up pauses following; scrolling back to the very end resumes it."""
        if self._scrollbar_lazy:
            # Following a flood: the scrollbar catches up later (see _sync_scrollbar).
            self._scrollbar_stale = True
            if round(old_value) != round(new_value):
                self.refresh()
        else:
            super().watch_scroll_y(old_value, new_value)
        self._wrap_page = None
        if new_value < old_value and new_value < self.max_scroll_y and self.follow:
            self.follow = False
        elif not self.follow and new_value >= self.max_scroll_y > old_value:
            self.follow = True

    def on_resize(self) -> None:
        """Wrapped layout depends on the width."""
        if self.wrap:
            self._invalidate()
        self._sync_size()

    # -- rendering (Line API) --------------------------------------------------------------

    def _style(self, name: str) -> Style:
        """Component style ``name`` over the widget's own (``""``: the widget's), cached."""
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style
            if name:
                style = style + self._component(name)
            self._styles[name] = style
        return style

    def _component(self, name: str) -> Style:
        """Component style ``name`` alone, cached until CSS changes."""
        key = "!" + name
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self.get_component_rich_style(name)
        return style

    def _kind_style(self, kind: Kind | None) -> Style:
        """The base style of a line of ``kind`` (None: an ordinary line)."""
        return self._style(f"log-view--{kind}" if kind else "")

    def _extra_style(self, name: str) -> Style:
        """The ``match`` or ``truncated`` style."""
        return self._component(f"log-view--{name}")

    def notify_style_update(self) -> None:
        """CSS changed: drop cached styles and lines."""
        super().notify_style_update()
        self._styles = {}
        self._invalidate()

    def _invalidate(self) -> None:
        """Forget every rendered line (highlights, gutter or styles changed) and repaint."""
        self._generation += 1
        self._lines.clear()
        self._wrap_page = None
        self.refresh()

    def _forget_line(self, line: int) -> None:
        """Drop one line's cached rendering (it may have grown)."""
        self._lines.forget(line)

    def _repaint_rows(self) -> None:
        """Repaint the rows (cursor, selection or gutter changed; line contents stay valid)."""
        self._wrap_page = None
        self.refresh()

    def _number_width(self) -> int:
        if not self.show_line_numbers or self.spool is None:
            return 0
        return len(str(max(1, self.spool.line_count))) + 1

    def _gutter_width(self) -> int:
        """Marks column, line numbers and time gutter, as shown."""
        if self.spool is None:
            return 0
        marks = MARK_GUTTER if len(self.marks) else 0
        return marks + self._number_width() + (TIME_GUTTER if self.show_times else 0)

    def _gutter(self, line: int, first: bool) -> list[Segment]:
        """The gutter of a row of spool ``line`` (blank on a wrapped line's further rows)."""
        row: list[Segment] = []
        if len(self.marks):
            marked = first and line in self.marks
            row.append(Segment("◆ " if marked else "  ", self._style("log-view--mark")))
        if numbers := self._number_width():
            number = f"{line + 1:>{numbers - 1}} " if first else " " * numbers
            row.append(Segment(number, self._style("log-view--line-number")))
        if self.show_times:
            row.append(
                Segment(
                    self._time_text(line) if first else " " * TIME_GUTTER,
                    self._style("log-view--time"),
                )
            )
        return row

    def _time_text(self, line: int) -> str:
        """``HH:MM:SS +m:ss `` for ``line``: when it arrived, how long after its stage began."""
        spool = self.spool
        assert spool is not None
        at = spool.arrivals.of_line(spool, line)
        if at is None:
            return " " * TIME_GUTTER
        since = self.stages.since_stage(spool, spool.arrivals, line)
        elapsed = "" if since is None else "+" + duration(since)
        return f"{hms(at)} {elapsed:>8} "[:TIME_GUTTER]

    def _stage_note(self, line: int) -> str:
        """For a stage banner whose stage finished: ``took 4:12 (last run 3:58)``, else ""."""
        spool = self.spool
        assert spool is not None
        index = self.stages.stage_of(line)
        if index is None or self.stages.stages[index].line != line:
            return ""
        took = self.stages.took(spool, spool.arrivals, index)
        if took is None:
            return ""
        name = self.stages.stages[index].name
        previous = self.previous_stage_s(name) if self.previous_stage_s is not None else None
        if previous is None:
            previous = self.stages.earlier_took(spool, spool.arrivals, index)
        if previous is None:
            previous = _STAGE_MEMORY.get(self._memory_key(), {}).get(name)
        note = f"  took {duration(took)}"
        return note + (f" (last run {duration(previous)})" if previous is not None else "")

    def _memory_key(self) -> str:
        return f"{self.host}:{self.source_label}"

    def _remember_stages(self) -> None:
        """Keep the finished stages' durations of the spool being replaced (the yardstick of
        the next run of the same log)."""
        spool = self.spool
        if spool is None or not self.stages.stages:
            return
        durations = self.stages.durations(spool, spool.arrivals)
        if durations:
            _STAGE_MEMORY[self._memory_key()] = durations

    def _content(self, line: int) -> Content:
        """Segments of spool ``line`` with every style but the cursor's; no gutter, no padding."""
        assert self.spool is not None
        content = self._lines.render(self.spool, line, self.finder.regex, keep=self._keep_lines)
        if content[1] > self._max_width and not self.wrap:
            self._max_width = content[1]
            self.call_later(self._sync_size)
        if line > self.last_rendered_line:
            self.last_rendered_line = line
        return content

    def _line_strip(self, line: int) -> Strip:
        """The full-width strip of spool ``line`` (styles, highlights; no gutter)."""
        segments, width = self._content(line)
        return Strip(segments, width)

    def _wrapped(self, line: int) -> list[Strip]:
        width = max(1, self.scrollable_content_region.width - self._gutter_width())
        strip = self._line_strip(line)
        if strip.cell_length <= width:
            return [strip]
        return list(strip.divide(range(width, strip.cell_length, width)))

    def _rows_fitting_at_end(self, rows: int, height: int) -> int:
        """How many of ``rows``, counted back from the last, fit in ``height`` lines (wrap)."""
        used = fitted = 0
        for row in range(rows - 1, -1, -1):
            used += len(self._wrapped(self.finder.row_line(row)))
            if used > height:
                break
            fitted += 1
        return max(1, fitted)

    def _frame_geometry(self) -> tuple[int, int]:
        """Row width and gutter width (fixed while :meth:`render_lines` runs)."""
        if self._frame is not None:
            return self._frame
        return self.scrollable_content_region.width, self._gutter_width()

    def _decorate(self, line: int, segments: list[Segment], cells: int, first: bool) -> Strip:
        """One screen row: gutter, content, padding to the width, cursor/selection on top."""
        width, gutter = self._frame_geometry()
        row: list[Segment] = self._gutter(line, first) if gutter else []
        row.extend(segments)
        pad = width - gutter - cells
        if first and self.show_times and (note := self._stage_note(line)) and len(note) <= pad:
            row.append(Segment(note, self._style("log-view--stage-time")))
            pad -= len(note)
        if pad > 0:
            row.append(Segment(" " * pad, self._style("")))
        post: Style | None = None
        if line == self.cursor_line:
            post = self._component("log-view--cursor")
        elif self._anchor is not None:
            selected = self.selection
            if selected is not None and selected[0] <= line <= selected[1]:
                post = self._component("log-view--selection")
        if post is not None:
            row = list(Segment.apply_style(row, None, post))
        return Strip(row, max(width, gutter))

    def render_lines(self, crop: Region) -> list[Strip]:
        """Render the rows in ``crop``, timing it (the follow logic paces repaints by it)."""
        started = time.perf_counter()
        self._frame = None
        self._frame = self._frame_geometry()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None
            self._pacer.render_cost += time.perf_counter() - started

    def render_line(self, y: int) -> Strip:
        """Render screen row ``y`` (Line API)."""
        width, gutter = self._frame_geometry()
        if self.spool is None:
            return Strip.blank(width, self._style(""))
        scroll_x, scroll_y = self.scroll_offset
        if self.wrap:
            return self._render_wrapped(y, scroll_y, width)
        row = scroll_y + y
        if row >= self.row_count:
            return Strip.blank(width, self._style(""))
        line = self.finder.row_line(row)
        segments, cells = self._content(line)
        room = width - gutter
        if scroll_x or cells > room:
            cropped = Strip(segments, cells).crop(scroll_x, scroll_x + room)
            segments, cells = list(cropped), cropped.cell_length
        return self._decorate(line, segments, cells, True)

    def _render_wrapped(self, y: int, top: int, width: int) -> Strip:
        key = (top, width, self._generation, self.row_count, self.cursor_line, self.selection)
        if self._wrap_page is None or self._wrap_page[0] != key:
            page: list[Strip] = []
            height = self.scrollable_content_region.height
            row = top
            while len(page) < height and row < self.row_count:
                line = self.finder.row_line(row)
                for index, part in enumerate(self._wrapped(line)):
                    page.append(self._decorate(line, list(part), part.cell_length, index == 0))
                row += 1
            self._wrap_page = (key, page)
        page = self._wrap_page[1]
        return page[y] if y < len(page) else Strip.blank(width, self._style(""))

    # -- search ----------------------------------------------------------------------------

    def action_find(self, mode: str) -> None:
        """Ask the container for the search/filter input (``f`` again clears a filter)."""
        if mode == "filter" and self.finder.filter is not None:
            self.clear_filter()
            return
        self.post_message(self.FindRequested(self, mode))

    def _compile(self, pattern: str, ignore_case: bool) -> re.Pattern[str] | None:
        """``pattern`` compiled, or None after telling the operator why it is bad."""
        try:
            return compile_pattern(pattern, ignore_case=ignore_case)
        except ValueError as error:
            self.notify(str(error), severity="error")
            return None

    def search(self, pattern: str, *, ignore_case: bool | None = None) -> None:
        """Highlight ``pattern`` everywhere and jump to the next match (smart case by default).

        An empty pattern clears the search. A bad pattern is reported with ``notify``.
        """
        self.workers.cancel_group(self, "log-search")
        if not pattern:
            self.finder.clear_search()
            self._invalidate()
            return
        if self.spool is None:
            self.notify("no log to search yet", severity="warning")
            return
        if ignore_case is None:
            ignore_case = pattern == pattern.lower()
        regex = self._compile(pattern, ignore_case)
        if regex is None:
            return
        job = self.finder.start_search(regex)
        self._invalidate()
        self._search_worker(job, self.current_line)

    @work(thread=True, group="log-search", exclusive=True, name="log-search")
    def _search_worker(self, job: SearchJob, origin: int) -> None:
        """Scan the whole spool for ``job`` in large blocks, never waiting for the UI but to
        jump to the first match after ``origin`` and, at the end, to show the final count."""
        worker = get_current_worker()
        spool = self.spool
        assert spool is not None
        job.total = spool.line_count
        jumped = False
        reported = time.monotonic()
        for step in search_spool(spool, job.regex, cancel=worker.cancelled_event):
            job.matches.extend(step.matches)
            job.scanned = step.scanned
            if not jumped and step.matches and step.matches[-1] >= origin:
                jumped = True
                self.app.call_from_thread(self._goto_match, origin, 1)
            now = time.monotonic()
            if now - reported >= PROGRESS_INTERVAL:
                reported = now
                self.post_message(self.Progress(self, "search", step.scanned, step.total))
        if not worker.is_cancelled:
            self.post_message(self.Progress(self, "search", job.scanned, job.total))
            self.app.call_from_thread(self._search_done, job, jumped, origin)

    def _search_done(self, job: SearchJob, jumped: bool, origin: int) -> None:
        if not self.finder.finish_search(job):
            return
        self._update_subtitle(time.monotonic())
        if not job.matches:
            self.notify(f"no line matches /{job.regex.pattern}/", severity="warning")
        elif not jumped:
            self._goto_match(origin, 1)

    @property
    def match_lines(self) -> list[int]:
        """0-based lines matching the current search (as found so far)."""
        return list(self.finder.matches)

    def _goto_match(self, origin: int, direction: int) -> None:
        target = self.finder.match_from(origin, direction)
        if target is not None:
            self._show_line(target)

    def action_next_match(self) -> None:
        """Go to the next search match (wrapping around)."""
        self._goto_match(self.current_line + 1, 1)

    def action_previous_match(self) -> None:
        """Go to the previous search match (wrapping around)."""
        self._goto_match(self.current_line, -1)

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

    # -- filter ----------------------------------------------------------------------------

    def set_filter(self, pattern: str, *, context: int | None = None) -> None:
        """Show only lines matching ``pattern`` with ``context`` lines around; keeps following."""
        if not pattern:
            self.clear_filter()
            return
        if self.spool is None:
            self.notify("no log to filter yet", severity="warning")
            return
        regex = self._compile(pattern, pattern == pattern.lower())
        if regex is None:
            return
        if context is not None:
            self.filter_context = context
        line_filter = self.finder.start_filter(regex, self.filter_context)
        self.add_class("-filtered")
        self._invalidate()
        self._filter_worker(line_filter)

    @work(thread=True, group="log-filter", exclusive=True, name="log-filter")
    def _filter_worker(self, line_filter: LineFilter) -> None:
        worker = get_current_worker()
        assert self.spool is not None
        total = self.finder.filter_total = self.spool.complete_lines
        reported = time.monotonic()
        while line_filter.scanned < total and not worker.is_cancelled:
            line_filter.extend(self.spool, max_lines=FILTER_STEP, cancel=worker.cancelled_event)
            now = time.monotonic()
            if now - reported >= PROGRESS_INTERVAL:
                reported = now
                self.post_message(self.Progress(self, "filter", line_filter.scanned, total))
        if not worker.is_cancelled:
            self.post_message(self.Progress(self, "filter", line_filter.scanned, total))
            self.app.call_from_thread(self._filter_done, line_filter)

    def _filter_done(self, line_filter: LineFilter) -> None:
        if self.finder.finish_filter(line_filter):
            self._rows = -1  # force a resync on the next tick

    def clear_filter(self) -> None:
        """Show every line again, keeping the current line in view."""
        if self.finder.filter is None:
            return
        keep = self.current_line if self.row_count else None
        self.workers.cancel_group(self, "log-filter")
        self.finder.clear_filter()
        self.remove_class("-filtered")
        self._invalidate()
        self._take_in(time.monotonic())
        if keep is not None and not self.follow:
            self.scroll_to(y=max(0, keep - 2), animate=False, immediate=True)

    @property
    def filtered_lines(self) -> list[int] | None:
        """0-based lines shown by the filter, or None when not filtering."""
        line_filter = self.finder.filter
        return None if line_filter is None else list(line_filter.lines)

    # -- markers: stages and failures ------------------------------------------------------

    def action_stage(self, direction: int) -> None:
        """Jump to the next (1) or previous (-1) stage banner."""
        if self.spool is not None:
            self._marker_jump("banners", direction)

    def action_failure(self, direction: int) -> None:
        """Jump to the next (1) or previous (-1) failure line."""
        if self.spool is not None:
            self._marker_jump("failures", direction)

    @work(thread=True, group="log-markers", exclusive=True, name="log-markers")
    def _marker_jump(self, kind: MarkerKind, direction: int) -> None:
        worker = get_current_worker()
        assert self.spool is not None
        self.finder.markers.extend(self.spool, cancel=worker.cancelled_event)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._marker_jump_done, kind, direction)

    def _marker_jump_done(self, kind: MarkerKind, direction: int) -> None:
        target = self.finder.marker_from(kind, self.current_line, direction)
        if target is None:
            what = "stage" if kind == "banners" else "failure"
            self.notify(f"no {'next' if direction > 0 else 'previous'} {what}")
            return
        self._show_line(target)

    # -- marks -----------------------------------------------------------------------------

    def _load_marks(self) -> None:
        """Read this log's saved marks (none on failure, after saying why)."""
        self.marks = LogMarks()
        if not self.source_label:
            return
        try:
            self.marks = self.mark_store.load(self.host or "local", self.source_label)
        except (OSError, ValueError) as error:
            self.notify(
                f"cannot read the marks of this log: {error} — new marks replace them",
                severity="warning",
            )

    def _save_marks(self) -> None:
        try:
            self.mark_store.save(self.host or "local", self.source_label, self.marks)
        except OSError as error:
            self.notify(
                f"cannot save marks: {error.strerror or error} — check that "
                f"{self.mark_store.root} is writable",
                severity="error",
            )

    def _target_line(self) -> int | None:
        """The cursor line; without a cursor, the last line on screen (the cursor goes there)."""
        if self.spool is None or not self.spool.line_count or not self.row_count:
            return None
        if self.cursor_line is None:
            height = self.scrollable_content_region.height
            row = min(self.row_count - 1, round(self.scroll_y) + height - 1)
            self.follow = False
            self.cursor_line = self.finder.row_line(max(0, row))
        return self.cursor_line

    def action_mark_line(self) -> None:
        """Mark the cursor line (the container asks for a note); on a marked line, unmark it."""
        line = self._target_line()
        if line is None:
            return
        if line in self.marks:
            self.marks.remove(line)
            self._save_marks()
            self._marks_changed()
            self.notify(f"mark on line {line + 1} removed", timeout=2)
            return
        self.post_message(self.FindRequested(self, "mark"))

    def add_mark(self, note: str = "", line: int | None = None) -> None:
        """Mark ``line`` (0-based; default the cursor line) with ``note`` and keep it on disk."""
        line = self._target_line() if line is None else line
        if line is None:
            return
        self.marks.set(line, note)
        self._save_marks()
        self._marks_changed()

    def _marks_changed(self) -> None:
        self._repaint_rows()
        if self.is_mounted:
            self._sync_size()

    def action_next_mark(self) -> None:
        """Go to the next mark after the current line (wrapping around)."""
        target = self.marks.next_after(self.current_line)
        if target is None:
            self.notify("no marks in this log: m marks a line", severity="warning")
            return
        if self.spool is not None and target >= self.spool.line_count:
            self.notify(f"the mark on line {target + 1} is past the log's end", severity="warning")
            return
        self._show_line(target)
        mark = self.marks.get(target)
        if mark is not None and mark.note:
            self.notify(f"line {target + 1}: {mark.note}", timeout=4)

    # -- saving ------------------------------------------------------------------------------

    def action_save(self) -> None:
        """Ask the container for a path to save the log (or the filtered view) to."""
        if self.spool is None:
            self.notify("no log to save yet", severity="warning")
            return
        self.post_message(self.FindRequested(self, "save"))

    def save_to(self, path: str) -> Worker[int]:
        """Save the log, or the filtered view, to local ``path`` in a thread; a one-line
        result or failure reaches the operator. Returns the worker (its result: lines)."""
        assert self.spool is not None
        line_filter = self.finder.filter
        lines = None if line_filter is None else list(line_filter.lines)
        what = (
            "" if line_filter is None else f"/{line_filter.regex.pattern}/ ±{self.filter_context}"
        )
        return self._save_worker(self.spool, path, lines, what)

    @work(thread=True, group="log-save", exclusive=True, name="log-save", exit_on_error=False)
    def _save_worker(
        self, spool: LogSpool, path: str, lines: list[int] | None, filter_text: str
    ) -> int:
        """Write the header line and the lines, escapes stripped; tell the operator."""
        total = spool.line_count
        chosen = lines if lines is not None else range(total)
        first, last = (chosen[0] + 1, chosen[-1] + 1) if len(chosen) else (0, 0)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        where = f"{self.host}:{self.source_label}" if self.host else self.source_label
        header = (
            f"# redfix-tui log node={clean(self.host or 'local')} path={clean(where)} "
            f"filter={clean(filter_text) if filter_text else 'none'} "
            f"lines={first}-{last} ({len(chosen)} of {total}) saved={stamp}\n"
        )
        target = Path(path).expanduser()
        try:
            with open(target, "x", encoding="utf-8", errors="replace") as out:
                out.write(header)
                if lines is None:
                    for start in range(0, total, SAVE_STEP):
                        block = spool.read_lines(start, min(total, start + SAVE_STEP))
                        out.write("".join(strip_escapes(text) + "\n" for text in block))
                else:
                    out.write("".join(strip_escapes(spool.read_line(n)) + "\n" for n in lines))
        except OSError as error:
            self.app.call_from_thread(
                self.notify,
                f"cannot save the log to {path}: {error.strerror or error} — choose another path",
                severity="error",
            )
            return 0
        self.app.call_from_thread(self.notify, f"saved {len(chosen)} lines to {target}", timeout=4)
        self.post_message(self.Saved(str(target), len(chosen)))
        return len(chosen)

    # -- selection, copy, evidence ---------------------------------------------------------

    @property
    def selection(self) -> tuple[int, int] | None:
        """The marked range as 0-based ``(first, last)`` spool lines, or None."""
        if self._anchor is None or self.cursor_line is None:
            return None
        return min(self._anchor, self.cursor_line), max(self._anchor, self.cursor_line)

    def _post_selection(self) -> None:
        self._repaint_rows()
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
            self.cursor_line = self.finder.row_line(max(0, row))
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
        """Post ``LogView.EvidenceRequested`` for the marked lines."""
        chosen = self.selected_lines()
        if chosen is None:
            self.notify("mark lines with v first", severity="warning")
            return
        first, last, lines = chosen
        assert self.spool is not None  # selected_lines() read it
        # The byte range, file line numbers and sha256 of the lines, for the reference.
        from redfix_tui.logs.origins import log_evidence

        evidence = log_evidence(self.spool, self.host, self.source_label, first, last, lines)
        mark = self.marks.get(first - 1) if first == last else None
        self.post_message(self.EvidenceRequested(evidence, mark.note if mark else ""))
