"""Pacing a log view's repaints while lines arrive, and the line its border shows about them.

Textual-free bookkeeping for :class:`~redfix_tui.widgets.log_view.LogView`: the view polls its
spool every ``TICK``; :class:`RepaintPacer` remembers what was taken in, measures the arrival
rate and the cost of painting, and tells the view when a flood (more than a screenful of new
lines between two repaints: they scroll off unseen anyway) should wait — repaints then come at
most ``1 / flood_interval`` a second, fewer if painting is slow — and when the scrollbar, costly
to draw, is due (every ``SCROLLBAR_INTERVAL`` during a flood, otherwise at once).
:func:`flow_subtitle` is the border's line: line count, bytes, rate, search/filter state.
"""

from __future__ import annotations

from collections import deque

TICK = 1 / 30
"""How often the view checks the spool for new data (seconds)."""
FLOOD_INTERVAL = 0.125
"""While lines pour in, the shortest time between repaints (seconds): at most 8 a second."""
PAINT_BUDGET = 0.05
"""While lines pour in, the share of the time the view's rendering may take."""
MAX_PAINT_INTERVAL = 0.5
"""While lines pour in, the longest wait between repaints (seconds). The paint cost measured is
the view's own lines; a whole frame (compositor, borders, board) costs several times that, and
at 200x50 took ~40% of the event loop during a 1M-line flood over OpenSSH at 4 frames a second
(``benchmarks/bench_log.py --e2e-openssh``), so a slow-painting flood gets 2."""
SCROLLBAR_INTERVAL = 0.5
"""While lines pour in, how often the scrollbar is brought up to date (seconds)."""
RATE_WINDOW = 1.0
"""The arrival rate is measured over about this many seconds."""


def human_bytes(count: float) -> str:
    """``count`` bytes as ``12 B``, ``3.4 KB``, ``5.6 MB`` or ``7.8 GB``."""
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def flow_subtitle(
    lines: int, size: int, rate: float, found: list[str], pending: int | None = None
) -> str:
    """The border's line: ``PAUSED — N new lines`` (when ``pending`` is given), line count,
    bytes, the rate (when positive) and the search/filter parts ``found``."""
    parts = [f"{lines:,} lines", human_bytes(size)]
    if rate > 0:
        parts.append(f"{human_bytes(rate)}/s")
    parts.extend(found)
    if pending is not None:
        parts.insert(0, f"PAUSED — {pending:,} new lines")
    return " · ".join(parts)


class RepaintPacer:
    """What a log view has taken in, and when it should repaint; see the module docstring."""

    def __init__(self) -> None:
        """Nothing taken in yet."""
        self._samples: deque[tuple[float, int]] = deque(maxlen=64)
        self.reset()

    def reset(self) -> None:
        """Start over (a new spool)."""
        self.seen_version = -1
        """The spool version last taken in."""
        self.lines_shown = 0
        """The spool's line count when last taken in."""
        self.render_cost = 0.0
        """Seconds spent painting since the last take-in (the view adds to it)."""
        self._tick_version = -1
        self._paint_cost = 0.0
        self._last_sync = 0.0
        self._scrollbar_synced = 0.0
        self._samples.clear()

    def tick(self, now: float, version: int, size: int) -> bool:
        """Record a poll of a spool at ``version`` holding ``size`` bytes; True if data arrived
        since the previous poll."""
        arriving = version != self._tick_version
        self._tick_version = version
        self._samples.append((now, size))
        return arriving

    def flood_interval(self, shortest: float) -> float:
        """The time to leave between repaints during a flood (at least ``shortest``)."""
        return min(MAX_PAINT_INTERVAL, max(shortest, self._paint_cost / PAINT_BUDGET))

    def should_wait(self, now: float, flooding: bool, shortest: float) -> bool:
        """True when a flood's next repaint is not due yet."""
        return flooding and now - self._last_sync < self.flood_interval(shortest)

    def take_in(self, now: float, version: int, lines: int) -> None:
        """The view is bringing itself up to ``version`` with ``lines`` lines."""
        self.seen_version = version
        self.lines_shown = lines
        self._paint_cost = 0.7 * self._paint_cost + 0.3 * self.render_cost
        self.render_cost = 0.0
        self._last_sync = now

    def scrollbar_lazy(self, now: float, flooding: bool) -> bool:
        """True when the scrollbar may lag behind this repaint (a flood, synced recently)."""
        return flooding and now - self._scrollbar_synced < SCROLLBAR_INTERVAL

    def scrollbar_synced(self, now: float) -> None:
        """The scrollbar was brought up to date."""
        self._scrollbar_synced = now

    def rate(self, now: float) -> float:
        """Bytes a second arriving, over about the last ``RATE_WINDOW``."""
        samples = self._samples
        if not samples:
            return 0.0
        while len(samples) > 2 and now - samples[0][0] > RATE_WINDOW:
            samples.popleft()
        (t0, b0), (t1, b1) = samples[0], samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
