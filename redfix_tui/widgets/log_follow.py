"""Taking in new lines and following them, for :class:`~redfix_tui.widgets.log_view.LogView`.

A timer compares the spool's ``version`` a few dozen times a second; new data leads to at most
one repaint per tick however fast lines arrive. Following keeps the view at the end; scrolling
up pauses (the border says how many lines arrived since) and reaching the end again, or End,
resumes. The border's subtitle carries line count, bytes, arrival rate and search/filter state.
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


def _human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


class LogFollowMixin:
    """New-data polling, follow/pause, the virtual size and the border subtitle."""

    spool: LogSpool | None
    follow: bool
    wrap: bool
    show_rate: bool

    def _reset_follow(self) -> None:
        """Set up the polling state (called once from ``__init__``)."""
        self._seen_version = -1
        self._rows = 0
        self._paused_at = 0
        self._rate_samples: deque[tuple[float, int]] = deque(maxlen=64)
        self._frame_cost = 0.0
        self._last_sync = 0.0

    def on_mount(self) -> None:
        """Start the poll timer that notices new data."""
        self.set_interval(TICK, self._poll, name="log-poll")
        self._poll()

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

    def on_resize(self) -> None:
        """Wrapped layout depends on the width."""
        if self.wrap:
            self._invalidate()
        self._sync_size()
