"""Benchmark: a regex search of a big spool, against ``grep -cE`` on the same file.

1. generate N lines (default 1,000,000, ~100 MB, every third with SGR colour codes) in a temp
   dir, and index it once as a :class:`LogSpool` (the index is not part of any measurement);
2. warm up once (page cache, code paths);
3. ``--runs`` times, interleaved:

   * ``grep -cE PATTERN FILE`` (a subprocess, its start included);
   * the core: :func:`redfix_tui.logs.search.search_spool` over the whole spool;
   * the widget path: a fresh headless app holding a ``LogPane`` on the spool; the clock starts
     when ``/`` is pressed (keys go in as terminal input, as a fast typist's would: ``/``, then,
     once the search input has the focus, the pattern; no Pilot waits), then Enter, and stops
     when the view's border shows the final count (``/PATTERN/ COUNT`` with no
     ``searching N%``). The part from Enter on is reported too.

Reported: the medians, their ratios to grep's median, the counts (all three must agree, or the
run fails), and the load average. The machine is shared: compare medians across a few runs.
Target: widget path ≤ 10× grep.

Run: ``.venv/bin/python benchmarks/bench_search.py [--lines N] [--runs R] [--pattern P]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events
from textual.app import App, ComposeResult
from textual.keys import _character_to_key
from textual.widgets import Input

from redfix_tui.logs.search import compile_pattern, search_spool
from redfix_tui.logs.spool import LogSpool
from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.log_view import LogView

PATTERN = "line 0009998[0-9]{2}"
POLL = 0.005
"""How often the widget measurement looks for the final count (seconds)."""
TIMEOUT = 60.0
"""The longest wait for the final count after Enter (seconds)."""


def generate(path: Path, lines: int) -> int:
    """Write ``lines`` ~100-byte log lines (``line %09d``), every third coloured; return bytes."""
    size = 0
    with path.open("wb") as out:
        for start in range(0, lines, 10000):
            block = []
            for i in range(start, min(lines, start + 10000)):
                stamp = b"2026-06-17T18:05:01.%06dZ" % (i % 10**6)
                if i % 3 == 0:
                    block.append(
                        b"%s \x1b[32mINFO\x1b[0m line %09d: waiting for gitea_app (\x1b[33m3/30"
                        b"\x1b[0m)\n" % (stamp, i)
                    )
                else:
                    block.append(
                        b"%s INFO line %09d: upgrade waiting for service gitea_app, try 3\n"
                        % (stamp, i)
                    )
            data = b"".join(block)
            out.write(data)
            size += len(data)
    return size


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def run_grep(path: Path, pattern: str) -> tuple[float, int]:
    """``grep -cE``: seconds and count."""
    started = time.perf_counter()
    out = subprocess.run(
        ["grep", "-cE", pattern, str(path)],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C"},
        check=False,
    )
    return time.perf_counter() - started, int(out.stdout.strip() or 0)


def run_core(spool: LogSpool, pattern: str) -> tuple[float, int]:
    """The core search over the whole spool: seconds and count."""
    ignore_case = pattern == pattern.lower()
    started = time.perf_counter()
    regex = compile_pattern(pattern, ignore_case=ignore_case)
    count = sum(len(step.matches) for step in search_spool(spool, regex))
    return time.perf_counter() - started, count


class SearchApp(App):
    """Just a log pane on the benchmark's spool."""

    def __init__(self, spool: LogSpool) -> None:
        super().__init__()
        self.spool = spool

    def compose(self) -> ComposeResult:
        yield LogPane()

    def on_mount(self) -> None:
        pane = self.query_one(LogPane)
        pane.attach(self.spool, "bench.log")
        pane.log_view.show_rate = False
        pane.log_view.focus()


def _type(app: App, keys: list[tuple[str, str]]) -> None:
    """Send ``(key, character)`` presses as terminal input (no Pilot waits between keys)."""
    driver = app._driver
    assert driver is not None
    for key, character in keys:
        driver.send_message(events.Key(key, character).set_sender(app))


async def run_widget(spool: LogSpool, pattern: str, expected: int) -> tuple[float, float, int]:
    """``/``, the pattern, Enter, until the final count (``expected``, or whatever shows after
    ``TIMEOUT``) shows: seconds (all, from Enter), count."""
    app = SearchApp(spool)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(LogView)
        await pilot.pause()
        find = app.query_one("#log-find", Input)
        done_text = f"/{pattern}/ "
        started = time.perf_counter()
        _type(app, [("slash", "/")])
        while not find.has_focus:
            await asyncio.sleep(POLL)
        _type(app, [(_character_to_key(c), c) for c in pattern])
        while find.value != pattern:
            await asyncio.sleep(POLL)
        entered = time.perf_counter()
        _type(app, [("enter", "\r")])
        final = f"{done_text}{expected:,}"
        while time.perf_counter() - entered < TIMEOUT:
            subtitle = str(view.border_subtitle)
            if subtitle.endswith(final) and "searching" not in subtitle:
                break
            await asyncio.sleep(POLL)
        finished = time.perf_counter()
        count = int(subtitle.split(done_text)[1].split(" ")[0].replace(",", ""))
        await app.workers.wait_for_complete()
    return finished - started, finished - entered, count


def main() -> None:
    """Generate, warm up, measure interleaved, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pattern", default=PATTERN)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="redfix-bench-search-") as tmp:
        path = Path(tmp) / "big.log"
        size = generate(path, args.lines)
        spool = LogSpool.open_file(path)
        print(f"{args.lines:,} lines, {size / 1e6:.0f} MB; pattern /{args.pattern}/; {_load()}")
        run_grep(path, args.pattern)
        run_core(spool, args.pattern)
        asyncio.run(run_widget(spool, args.pattern, run_grep(path, args.pattern)[1]))
        grep_t, core_t, widget_t, enter_t = [], [], [], []
        for run in range(args.runs):
            g, g_count = run_grep(path, args.pattern)
            c, c_count = run_core(spool, args.pattern)
            w, e, w_count = asyncio.run(run_widget(spool, args.pattern, g_count))
            if not g_count == c_count == w_count:
                raise SystemExit(f"counts differ: grep {g_count}, core {c_count}, view {w_count}")
            grep_t.append(g)
            core_t.append(c)
            widget_t.append(w)
            enter_t.append(e)
            print(
                f"run {run + 1}: grep {g:.3f}s  core {c:.3f}s  view {w:.3f}s "
                f"(from Enter {e:.3f}s)  count {g_count}"
            )
        spool.close()
    g, c, w, e = (statistics.median(t) for t in (grep_t, core_t, widget_t, enter_t))
    print(f"medians of {args.runs}: grep {g:.3f}s, core {c:.3f}s, view {w:.3f}s", end="")
    print(f" (from Enter {e:.3f}s)")
    print(f"ratios to grep: core {c / g:.1f}x, view {w / g:.1f}x, view from Enter {e / g:.1f}x")
    print(_load())


if __name__ == "__main__":
    main()
