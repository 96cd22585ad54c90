"""Arrival times, stage durations and freshness on a fixture stream with a controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime

from redfix_tui.logs.clock import ArrivalTimes, duration, freshness, hms
from redfix_tui.logs.spool import LogSpool
from redfix_tui.logs.stages import StageTimes

T0 = datetime(2026, 6, 18, 23, 40, 0, tzinfo=UTC).timestamp()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# (seconds after T0, chunk): chunks split lines anywhere, as SSH reads do
STREAM: list[tuple[float, bytes]] = [
    (0, b"harness start\n\x1b[1m==== stage: install ====\x1b[0m\n"),
    (5, b"install step 1 ok\ninstall st"),
    (65, b"ep 2 ok\n"),
    (250, b"==== stage: upgrade ====\nupgrade step 1\n"),
    (310, b"==== stage: backup ====\n"),
    (400, b"==== stage: install ====\ninstall again\n"),
    (430, b"==== stage: upgrade ====\n"),
]


def _fed(clock: FakeClock) -> LogSpool:
    spool = LogSpool()
    spool.arrivals = ArrivalTimes(clock)
    for at, chunk in STREAM:
        clock.now = T0 + at
        spool.append(chunk)
    return spool


def test_one_timestamp_per_chunk_mapped_to_lines_by_offset() -> None:
    clock = FakeClock()
    with _fed(clock) as spool:
        arrivals = spool.arrivals
        assert len(arrivals) == len(STREAM)  # per chunk, not per line
        assert spool.line_count == 10
        times = [arrivals.of_line(spool, n) for n in range(spool.line_count)]
        assert [None if t is None else round(t - T0) for t in times] == [
            0,
            0,
            5,
            65,
            250,
            250,
            310,
            400,
            400,
            430,
        ]
        # a line split over two chunks arrived when its line ending did
        assert spool.read_line(3) == "install step 2 ok"
        assert times[3] == T0 + 65
        assert hms(times[3]) == "23:41:05"
        assert arrivals.last == T0 + 430


def test_stage_elapsed_and_durations() -> None:
    clock = FakeClock()
    with _fed(clock) as spool:
        stages = StageTimes()
        assert stages.extend(spool)
        assert [(s.line, s.name) for s in stages.stages] == [
            (1, "install"),
            (4, "upgrade"),
            (6, "backup"),
            (7, "install"),
            (9, "upgrade"),
        ]
        arrivals = spool.arrivals
        assert stages.since_stage(spool, arrivals, 0) is None  # before the first banner
        assert stages.since_stage(spool, arrivals, 3) == 65
        assert stages.since_stage(spool, arrivals, 5) == 0
        assert stages.took(spool, arrivals, 0) == 250
        assert stages.took(spool, arrivals, 1) == 60
        assert stages.took(spool, arrivals, 4) is None  # the last stage has not finished
        # the same stage earlier in the log (the previous run) is the yardstick
        assert stages.took(spool, arrivals, 3) == 30
        assert stages.earlier_took(spool, arrivals, 3) == 250
        assert stages.earlier_took(spool, arrivals, 0) is None
        assert stages.durations(spool, arrivals) == {"install": 30, "upgrade": 60, "backup": 90}


def test_stage_scan_is_incremental_and_budgeted() -> None:
    clock = FakeClock()
    with _fed(clock) as spool:
        stages = StageTimes()
        assert stages.extend(spool, max_lines=3)
        assert [s.line for s in stages.stages] == [1]
        assert stages.scanned == 3
        stages.extend(spool)
        assert [s.line for s in stages.stages] == [1, 4, 6, 7, 9]
        assert not stages.extend(spool)  # nothing new


def test_durations_read_as_clock_time() -> None:
    assert duration(0) == "0:00"
    assert duration(65.9) == "1:05"
    assert duration(3723) == "1:02:03"
    assert duration(-3) == "0:00"


def test_freshness_words() -> None:
    now = T0 + 1000
    assert freshness("CONNECTED", now - 3, now) == "live · last byte 3 s ago"
    assert freshness(None, now - 3.7, now) == "live · last byte 3 s ago"
    assert freshness("CONNECTED", None, now) == "live · no bytes yet"
    assert freshness("CONNECTED", now - 125, now) == "quiet 2 min"
    assert freshness("CONNECTED", now - 3 * 3600 - 60, now) == "quiet 3 h 1 min"
    assert freshness("RECONNECTING", now - 3, now, trouble_since=T0 + 60) == (
        "reconnecting since 23:41Z"
    )
    assert freshness("ENDED", now, now) == "ended"
    assert freshness("LOST", now, now) == "lost"
