"""Taking in new lines and following them, for :class:`~redfix_tui.widgets.log_view.LogView`.

A timer compares the spool's ``version`` a few dozen times a second; new data leads to at most
one repaint per tick however fast lines arrive. While lines pour in faster than they can be
read (more than a screenful between repaints: they scroll off unseen anyway), repaints are
spaced out — at most ``1 / flood_interval`` a second, fewer if painting is slow — and only the
last screen is ever rendered; the scrollbar, costly to draw, catches up every
``SCROLLBAR_INTERVAL``. As soon as a tick finds no new data, or the stream ends (:meth:`flush`),
everything is brought up to date at once.

Following keeps the view at the end; scrolling up pauses (the border says how many lines arrived
since) and reaching the end again, or End, resumes. The border's subtitle carries line count,
bytes, arrival rate and search/filter state.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

from textual.geometry import Size

if TYPE_CHECKING:
    from redfix_tui.logs.spool import LogSpool

TICK = 1 / 30
"""How often the view checks the spool for new data (seconds)."""
FLOOD_INTERVAL = 0.125
"""While lines pour in, the shortest time between repaints (seconds): at most 8 a second."""
PAINT_BUDGET = 0.05
"""While lines pour in, the share of the time the view's rendering may take."""
MAX_PAINT_INTERVAL = 0.25
"""While lines pour in, the longest wait between repaints (seconds)."""
SCROLLBAR_INTERVAL = 0.5
"""While lines pour in, how often the scrollbar is brought up to date (seconds)."""


def _human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


class LogFollowMixin:
    """New-data polling, follow/pause, the virtual size and the border subtitle."""

    flood_interval: float = FLOOD_INTERVAL
    """Shortest time between repaints while lines pour in (a class attribute to tune)."""

    spool: LogSpool | None
    follow: bool
    wrap: bool
    show_rate: bool

    def _reset_follow(self) -> None:
        """Set up the polling state (called once from ``__init__``)."""
        self._seen_version = -1
        self._tick_version = -1
        self._rows = 0
        self._lines_shown = 0
        self._paused_at = 0
        self._rate_samples: deque[tuple[float, int]] = deque(maxlen=64)
        self._paint_cost = 0.0
        self._last_sync = 0.0
        self._scrollbar_synced = 0.0
        self._scrollbar_lazy = False
        self._scrollbar_stale = False

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
        version = spool.version
        arriving = version != self._tick_version
        self._tick_version = version
        self._rate_samples.append((now, spool.byte_count))
        if version == self._seen_version and self._rows == self.row_count:
            self._update_subtitle(now)  # search/filter progress, the rate settling
            return
        height = self.scrollable_content_region.height or self.size.height
        flooding = arriving and spool.line_count - self._lines_shown >= height
        if flooding and now - self._last_sync < self._flood_interval():
            return
        self._take_in(now, flooding=flooding)

    def _flood_interval(self) -> float:
        """The time to leave between repaints during a flood."""
        return min(MAX_PAINT_INTERVAL, max(self.flood_interval, self._paint_cost / PAINT_BUDGET))

    def flush(self) -> None:
        """Show what the spool holds now, without waiting for a tick (e.g. a stream ended)."""
        if self.spool is not None and self.is_mounted:
            self._take_in(time.monotonic())

    def _take_in(self, now: float, *, flooding: bool = False) -> None:
        """Bring size, scroll position, search/filter and subtitle up to the spool's state."""
        spool = self.spool
        assert spool is not None
        self._seen_version = spool.version
        self._lines_shown = spool.line_count
        self._paint_cost = 0.7 * self._paint_cost + 0.3 * self._render_cost
        self._render_cost = 0.0
        self._wrap_page = None
        self._extend_scans()
        self._last_sync = now
        self._rows = self.row_count
        # Lines painted while following a flood scroll away before they are shown again.
        self._keep_lines = not (flooding and self.follow)
        self._scrollbar_lazy = flooding and now - self._scrollbar_synced < SCROLLBAR_INTERVAL
        try:
            self._sync_size()
        finally:
            self._scrollbar_lazy = False
        if not (flooding and now - self._scrollbar_synced < SCROLLBAR_INTERVAL):
            self._scrollbar_synced = now
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
            self._paused_update()

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
