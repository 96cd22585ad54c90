"""LogView: a Line-API view of a :class:`~redfix_tui.logs.spool.LogSpool` that follows, searches,
filters and selects without ever holding the log in memory.

Only visible lines are read from the spool and rendered (with a small cache of rendered lines).
New data is noticed by a timer that compares the spool's version — at most one refresh per tick
however fast lines arrive, and only a few a second while a flood pours in. Search, filter and
marker scans over the whole spool run in thread workers.

The widget is assembled from cohesive parts: :mod:`.log_follow` (new data, repaint pacing,
follow/pause, the subtitle), :mod:`.log_render` (rendered lines and the Line API),
:mod:`.log_find` (search, filter, jumps) and :mod:`.log_select` (selection, copy, evidence).
This module holds the public face — CSS, bindings, reactives, messages — and navigation.

Line numbers in the public API (``goto_line``, messages, evidence) are 1-based, as shown.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView

from redfix_tui.evidence import LogEvidence
from redfix_tui.logs.spool import LogSpool
from redfix_tui.safe_text import plain
from redfix_tui.widgets.log_find import EXTEND_BUDGET, LogFindMixin
from redfix_tui.widgets.log_follow import TICK, LogFollowMixin
from redfix_tui.widgets.log_render import MAX_LINE_BYTES, LogRenderMixin
from redfix_tui.widgets.log_select import LogSelectMixin

__all__ = ["EXTEND_BUDGET", "MAX_LINE_BYTES", "TICK", "LogView"]


class LogView(
    LogFollowMixin, LogRenderMixin, LogFindMixin, LogSelectMixin, ScrollView, can_focus=True
):
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
        self._anchor: int | None = None
        self._reset_render()
        self._reset_follow()
        self._reset_find()
        if spool is not None:
            self.attach(spool, source_label)

    def attach(self, spool: LogSpool, source_label: str = "") -> None:
        """Show ``spool`` (replacing any previous one), following its end."""
        self.spool = spool
        self.source_label = source_label
        self.border_title = plain(source_label)  # a path from the node: never markup
        self._reset_find()
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

    # -- watchers --------------------------------------------------------------------------

    def watch_show_line_numbers(self) -> None:
        """Re-render with/without the gutter (line contents do not include it: kept)."""
        self._repaint_rows()
        if self.is_mounted:
            self._sync_size()

    def watch_wrap(self) -> None:
        """Re-layout for wrapping."""
        self._invalidate()
        if self.is_mounted:
            self._sync_size()

    def watch_cursor_line(self) -> None:
        """Repaint for the cursor."""
        self._repaint_rows()

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
