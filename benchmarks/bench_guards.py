"""Benchmark: the guards against hostile input refuse it at once, and the demo node builds fast.

These bounds used to be timing assertions in unit tests, where load on a shared machine made them
flaky; the tests keep asserting the behaviour (refused, nothing expanded, nothing leaked) and this
benchmark prints the times, each beside a baseline measured in the same run:

- an entity bomb (billion laughs) refused by the JUnit loader, against loading a plain JUnit file
  of the same size;
- 100,000-deep JSON refused by the node JSON reader, against ``json.loads`` of a flat document of
  the same size;
- building the demo node (the simulated cc-ci tree), against copying its fixtures directory.

Run: ``.venv/bin/python benchmarks/bench_guards.py [--runs N]``. Targets: each refusal under
1 s and no slower than 10× its baseline; the demo build under 0.3 s (best of the runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redfix_tui.demo.tree import SUITES, build_demo_node
from redfix_tui.junit import load_junit_bytes
from redfix_tui.node_json import NodeJSONError, load_json
from tests.junit_samples import LOLZ


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """Best and median wall time of ``action`` over ``runs`` runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def refuse_json(text: str) -> None:
    """Load ``text`` and insist that it is refused."""
    try:
        load_json(text, "results.json")
    except NodeJSONError:
        return
    raise AssertionError("deep JSON was accepted")


def main() -> None:
    """Print each guard's best and median time beside its baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"load average {os.getloadavg()[0]:.2f}, {runs} runs each")

    plain = (
        b'<?xml version="1.0"?><testsuite name="s">'
        + b'<testcase name="c"/>' * (len(LOLZ) // 20 + 1)
        + b"</testsuite>"
    )
    bomb = timed(lambda: load_junit_bytes("bomb.xml", LOLZ), runs)
    base = timed(lambda: load_junit_bytes("plain.xml", plain), runs)
    print(
        f"entity bomb refused   best {bomb[0] * 1000:8.2f} ms  median {bomb[1] * 1000:8.2f} ms"
        f"  | plain file {base[1] * 1000:8.2f} ms  ratio {bomb[1] / base[1]:.2f}x"
    )

    deep = "[" * 100_000 + "]" * 100_000
    flat = json.dumps([0] * (len(deep) // 2))
    refused = timed(lambda: refuse_json(deep), runs)
    loads = timed(lambda: json.loads(flat), runs)
    print(
        f"deep JSON refused     best {refused[0] * 1000:8.2f} ms  median {refused[1] * 1000:8.2f}"
        f" ms  | json.loads flat {loads[1] * 1000:8.2f} ms  ratio {refused[1] / loads[1]:.2f}x"
    )

    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10_000))
        build = timed(lambda: build_demo_node(Path(tmp) / f"n{next(counter)}"), runs)
        copy = timed(lambda: shutil.copytree(SUITES, Path(tmp) / f"c{next(counter)}"), runs)
    print(
        f"demo node build       best {build[0] * 1000:8.2f} ms  median {build[1] * 1000:8.2f} ms"
        f"  | copy of its suites {copy[1] * 1000:8.2f} ms  ratio {build[1] / copy[1]:.2f}x"
        f"  (target: best < 300 ms)"
    )


if __name__ == "__main__":
    main()
