"""Stage banners of a spool and the times they imply (Textual-free).

:class:`StageTimes` finds the harness's stage banners (``==== stage: NAME ====``, see
:data:`redfix_tui.runs.progress.STAGE_BANNER`) in a spool, scanning incrementally, and with the
spool's :class:`~redfix_tui.logs.clock.ArrivalTimes` tells how long after its stage began a
line arrived and how long each finished stage took.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_right
from dataclasses import dataclass

from redfix_tui.logs.ansi import strip
from redfix_tui.logs.clock import ArrivalTimes
from redfix_tui.logs.search import search_spool
from redfix_tui.logs.spool import LogSpool
from redfix_tui.runs.progress import STAGE_BANNER


@dataclass(frozen=True)
class Stage:
    """One stage banner in a spool."""

    line: int
    """0-based line of the banner."""
    name: str
    """The stage's name (``install``, ``upgrade``…)."""


class StageTimes:
    """The stage banners of a spool (scanned incrementally) and the times they imply."""

    def __init__(self) -> None:
        """Start empty; :meth:`extend` scans."""
        self.stages: list[Stage] = []
        """Banners found so far, in line order."""
        self.scanned = 0
        """Lines ``[0, scanned)`` have been examined."""
        self._lines = array("Q")
        self._lock = threading.Lock()

    def extend(
        self,
        spool: LogSpool,
        cancel: threading.Event | None = None,
        *,
        max_lines: int | None = None,
        wait: bool = True,
    ) -> bool:
        """Examine complete lines not yet seen, at most ``max_lines`` of them (thread-safe: one
        scan at a time; with ``wait`` False, return at once while another scan runs).

        True when a banner was found.
        """
        if not self._lock.acquire(blocking=wait):
            return False
        found = False
        try:
            stop = spool.complete_lines
            if max_lines is not None:
                stop = min(stop, self.scanned + max_lines)
            for step in search_spool(
                spool, STAGE_BANNER, start=self.scanned, stop=stop, cancel=cancel
            ):
                for n in step.matches:
                    match = STAGE_BANNER.search(strip(spool.read_line(n, limit=4096)))
                    if match is not None:
                        self.stages.append(Stage(n, match.group(1)))
                        self._lines.append(n)
                        found = True
                self.scanned = step.scanned
        finally:
            self._lock.release()
        return found

    def stage_of(self, line: int) -> int | None:
        """Index in :attr:`stages` of the stage ``line`` belongs to (None before the first)."""
        index = bisect_right(self._lines, line) - 1
        return None if index < 0 else index

    def since_stage(self, spool: LogSpool, arrivals: ArrivalTimes, line: int) -> float | None:
        """Seconds from the start of ``line``'s stage to ``line``'s arrival (None: no stage)."""
        index = self.stage_of(line)
        if index is None:
            return None
        began = arrivals.of_line(spool, self.stages[index].line)
        at = arrivals.of_line(spool, line)
        return None if began is None or at is None else max(0.0, at - began)

    def took(self, spool: LogSpool, arrivals: ArrivalTimes, index: int) -> float | None:
        """How long stage ``index`` took: from its banner to the next (None: not finished)."""
        if index + 1 >= len(self.stages):
            return None
        began = arrivals.of_line(spool, self.stages[index].line)
        ended = arrivals.of_line(spool, self.stages[index + 1].line)
        return None if began is None or ended is None else max(0.0, ended - began)

    def earlier_took(self, spool: LogSpool, arrivals: ArrivalTimes, index: int) -> float | None:
        """How long the same stage took the last time before ``index`` in this spool (an
        earlier run in the same log), or None."""
        name = self.stages[index].name
        for earlier in range(index - 1, -1, -1):
            if self.stages[earlier].name == name:
                return self.took(spool, arrivals, earlier)
        return None

    def durations(self, spool: LogSpool, arrivals: ArrivalTimes) -> dict[str, float]:
        """Stage name → seconds, for the finished stages (the latest occurrence of each)."""
        result: dict[str, float] = {}
        for index, stage in enumerate(self.stages):
            took = self.took(spool, arrivals, index)
            if took is not None:
                result[stage.name] = took
        return result
