"""When log bytes arrived: one timestamp per received chunk, mapped to lines by byte offset.

:class:`ArrivalTimes` sits beside a spool's line index: each chunk appended to the spool is
recorded as ``(offset of its first byte, wall-clock time)`` in two compact arrays (16 bytes a
chunk, not a line), so taking data in stays as cheap as before. A line's arrival time is the
time of the chunk holding its line ending (for the growing last line: the newest chunk).

:func:`freshness` words how live a followed log is for a title bar; stage times are in
:mod:`redfix_tui.logs.stages`. The clock is injectable so tests control time.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redfix_tui.logs.spool import LogSpool

Clock = Callable[[], float]
"""Wall-clock seconds since the epoch (``time.time`` unless a test gives another)."""

QUIET_AFTER_S = 60.0
"""A followed log with no new byte for this long reads "quiet" rather than "live"."""


class ArrivalTimes:
    """Arrival time of every chunk of a spool, by the offset of its first byte."""

    def __init__(self, clock: Clock = time.time) -> None:
        """Start empty; ``clock`` gives the time of each :meth:`record`."""
        self.clock = clock
        """The clock stamping each chunk (and the view's idea of "now")."""
        self._offsets = array("Q")
        self._times = array("d")

    def record(self, offset: int) -> None:
        """A chunk whose first byte is at ``offset`` arrived now."""
        self._offsets.append(offset)
        self._times.append(self.clock())

    def __len__(self) -> int:
        return len(self._offsets)

    def at_offset(self, offset: int) -> float | None:
        """When the byte at ``offset`` arrived (None before any chunk)."""
        index = bisect_right(self._offsets, offset) - 1
        if index < 0:
            return None if not self._times else self._times[0]
        return self._times[index]

    def of_line(self, spool: LogSpool, line: int) -> float | None:
        """When 0-based ``line`` of ``spool`` was complete (its line ending arrived)."""
        return self.at_offset(spool.span(line)[1])

    @property
    def last(self) -> float | None:
        """When the newest chunk arrived (None before any)."""
        return self._times[-1] if self._times else None


def hms(stamp: float) -> str:
    """``HH:MM:SS`` of epoch seconds ``stamp``, in UTC."""
    return datetime.fromtimestamp(stamp, UTC).strftime("%H:%M:%S")


def duration(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss`` of a non-negative duration (rounded down to the second)."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def freshness(
    status: str | None,
    last_byte: float | None,
    now: float,
    *,
    trouble_since: float | None = None,
    quiet_after: float = QUIET_AFTER_S,
) -> str:
    """Words for a title bar: ``live · last byte 3 s ago``, ``quiet 2 min``,
    ``reconnecting since 23:41Z``, ``ended``, ``lost``.

    ``status`` is a stream state (``CONNECTED``, ``RECONNECTING``…; None: a spool without a
    stream), ``last_byte`` and ``now`` are wall-clock seconds, ``trouble_since`` when the stream
    began reconnecting.
    """
    if status in ("RECONNECTING", "RETRYING"):
        since = trouble_since if trouble_since is not None else now
        return f"reconnecting since {datetime.fromtimestamp(since, UTC).strftime('%H:%MZ')}"
    if status == "ENDED":
        return "ended"
    if status == "LOST":
        return "lost"
    if status == "STOPPED":
        return "stopped"
    if status == "EXCERPT":
        return "read once, not followed"
    if status in ("CONNECTING",):
        return "connecting"
    if status == "WAITING":
        return "waiting for the file"
    if last_byte is None:
        return "live · no bytes yet"
    ago = max(0.0, now - last_byte)
    if ago < quiet_after:
        return f"live · last byte {int(ago)} s ago"
    minutes = int(ago // 60)
    if minutes < 60:
        return f"quiet {minutes} min"
    return f"quiet {minutes // 60} h {minutes % 60} min"
