"""RepaintPacer and the border line of a log view, without Textual."""

from __future__ import annotations

from redfix_tui.logs.pacing import (
    FLOOD_INTERVAL,
    MAX_PAINT_INTERVAL,
    SCROLLBAR_INTERVAL,
    RepaintPacer,
    flow_subtitle,
    human_bytes,
)


def test_human_bytes() -> None:
    assert [human_bytes(n) for n in (0, 1023, 1024, 5 << 20, 3 << 30, 5000 << 30)] == [
        "0 B",
        "1023 B",
        "1.0 KB",
        "5.0 MB",
        "3.0 GB",
        "5000.0 GB",
    ]


def test_flow_subtitle() -> None:
    assert flow_subtitle(1234, 2048, 0.0, []) == "1,234 lines · 2.0 KB"
    assert (
        flow_subtitle(5, 10, 1536.0, ["/x/ 2", "searching 50%"], pending=7)
        == "PAUSED — 7 new lines · 5 lines · 10 B · 1.5 KB/s · /x/ 2 · searching 50%"
    )


def test_arrivals_and_rate_over_the_last_second() -> None:
    pacer = RepaintPacer()
    assert pacer.rate(0.0) == 0.0, "no poll yet"
    assert pacer.tick(0.0, 1, 0)
    assert not pacer.tick(0.5, 1, 0), "same version: nothing arrived"
    assert pacer.tick(1.0, 2, 1000)
    assert pacer.rate(1.0) == 1000.0
    pacer.tick(3.0, 2, 1000)
    pacer.tick(3.5, 3, 2000)
    assert pacer.rate(3.5) == 2000.0, "older samples leave the window"
    pacer.reset()
    assert pacer.rate(4.0) == 0.0 and pacer.seen_version == -1


def test_a_flood_waits_between_repaints_longer_when_painting_is_slow() -> None:
    pacer = RepaintPacer()
    pacer.take_in(10.0, 1, 100)
    assert pacer.seen_version == 1 and pacer.lines_shown == 100
    assert not pacer.should_wait(10.01, False, FLOOD_INTERVAL), "no flood: repaint at once"
    assert pacer.should_wait(10.1, True, FLOOD_INTERVAL)
    assert not pacer.should_wait(10.0 + FLOOD_INTERVAL, True, FLOOD_INTERVAL)
    pacer.render_cost = 1.0  # painting got very slow
    pacer.take_in(20.0, 2, 200)
    assert pacer.render_cost == 0.0
    assert pacer.flood_interval(FLOOD_INTERVAL) == MAX_PAINT_INTERVAL
    assert pacer.should_wait(20.2, True, FLOOD_INTERVAL)
    assert not pacer.should_wait(20.0 + MAX_PAINT_INTERVAL, True, FLOOD_INTERVAL)


def test_the_scrollbar_lags_only_during_a_flood_and_not_for_long() -> None:
    pacer = RepaintPacer()
    pacer.scrollbar_synced(5.0)
    assert not pacer.scrollbar_lazy(5.1, False)
    assert pacer.scrollbar_lazy(5.1, True)
    assert not pacer.scrollbar_lazy(5.0 + SCROLLBAR_INTERVAL, True)
