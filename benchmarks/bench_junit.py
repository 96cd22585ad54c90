"""Benchmark: JUnit model load + tree build vs a plain lxml iterparse pass.

Generates a 10,000-case (~26 MB) JUnit file (5% failures with tracebacks, 2 KB of stdout per
case) in a temporary directory, then times, in this same run and alternating, (a) a plain
``lxml.etree.iterparse`` pass over it (default parser, every element's end event, cases cleared)
and (b) what the UI does: :func:`load_junit_file`, :func:`build_tree` and the failure list.
Each variant runs once untimed first (imports, page cache), and the collector is emptied before
every timed run so no variant pays for another's garbage; best and median of ``--repeat`` runs
are printed. (c) times a load followed by reading every case's id and duration, so any work the
model defers until cases are read (a collapsed suite's passing cases) shows up too; a stricter
reference, iterparse with end events of ``<testcase>`` only, is shown for information. Peak RSS
growth of each is measured in a fresh subprocess (``VmHWM`` after minus before). The load
average before and after is printed so a reader knows the conditions.

Run: ``.venv/bin/python benchmarks/bench_junit.py [--cases N] [--repeat R]``.
Targets: ratio of the best times ≤ 2.0, model peak RSS growth ≤ 80 MB.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TRACEBACK = (
    "    def test_case_{i}(node):\n"
    "        response = node.get('/srv/status')\n"
    ">       assert response.status == 200, response.text\n"
    "E       AssertionError: <html>502 Bad Gateway</html>\n"
    "E       assert 502 == 200\n\n" + "    frame line with some detail & more detail\n" * 170 + "\n"
    "tests/discourse/test_upgrade.py:{line}: AssertionError"
)


def generate(path: Path, cases: int) -> None:
    """Write a pytest-xunit2-shaped JUnit file with ``cases`` cases over 10 suites."""
    stdout = ("log line with some text 0123456789 abcdefghij\n" * 45)[:2048]
    per_suite = max(1, cases // 10)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="bench">\n')
        for i in range(cases):
            if i % per_suite == 0:
                if i:
                    out.write("</testsuite>\n")
                out.write(f'<testsuite name="pytest" tests="{per_suite}">\n')
            classname = f"tests.recipe{i // per_suite}.test_mod{i % 7}"
            out.write(f'<testcase classname="{classname}" name="test_case_{i}" time="0.012">')
            if i % 20 == 0:
                message = quoteattr(f"AssertionError: case {i} got 502 & not 200")
                body = escape(TRACEBACK.format(i=i, line=i % 300 + 1))
                out.write(f"<failure message={message}>{body}</failure>")
            out.write(f"<system-out>{escape(stdout)}</system-out></testcase>\n")
        out.write("</testsuite>\n</testsuites>\n")


def plain_iterparse(path: str) -> int:
    """The reference: a plain lxml iterparse pass over every element (nothing kept)."""
    from lxml import etree

    count = 0
    for _event, elem in etree.iterparse(path, events=("end",)):
        if elem.tag == "testcase":
            count += 1
            elem.clear()
    return count


def case_iterparse(path: str) -> int:
    """A stricter reference, for information: end events of ``<testcase>`` only, so Python sees
    one event per case (the model's own event filter is close to this)."""
    from lxml import etree

    count = 0
    for _event, elem in etree.iterparse(path, events=("end",), tag="testcase"):
        count += 1
        elem.clear()
    return count


def model_load(path: str) -> int:
    """What the UI does: load the model, build the drill-down tree, list its failures."""
    from redfix_tui.junit.load import load_junit_file
    from redfix_tui.junit.model import Run
    from redfix_tui.junit.tree import build_tree, failures

    jf = load_junit_file(path)
    assert jf.error is None, jf.error
    tree = build_tree(Run(run_id="bench", files=[jf]))
    total = jf.counts.total
    assert len(failures(tree)) == len(range(0, total, 20))
    return total


def model_walk(path: str) -> int:
    """Load the file, then read every case's id and duration once."""
    from redfix_tui.junit.load import load_junit_file

    jf = load_junit_file(path)
    assert jf.error is None, jf.error
    return len([(case.test_id, case.time) for case in jf.iter_cases()])


def _vm_hwm_kb() -> int:
    """This process's peak RSS in KiB (``VmHWM``; ``ru_maxrss`` survives exec, so not that)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(mode: str, path: str) -> None:
    """Subprocess entry: run one variant once and print peak RSS growth as JSON."""
    import lxml.etree  # noqa: F401  (import cost is not part of the measurement)

    import redfix_tui.junit.load
    import redfix_tui.junit.tree  # noqa: F401

    before = _vm_hwm_kb()
    count = {
        "iterparse": plain_iterparse,
        "cases-only": case_iterparse,
        "model": model_load,
        "walk": model_walk,
    }[mode](path)
    after = _vm_hwm_kb()
    print(json.dumps({"cases": count, "before_kb": before, "after_kb": after}))


def _peak(mode: str, path: str) -> dict[str, int]:
    """Run ``mode`` in a fresh interpreter and return its RSS figures."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, path],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def _load() -> str:
    """The 1, 5 and 15 minute load averages and the CPU count, as one line."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def _time(func: Callable[[str], int], path: str, expected: int) -> float:
    """One timed run of ``func(path)`` after a collection, checking the case count."""
    gc.collect()
    start = time.perf_counter()
    count = func(path)
    elapsed = time.perf_counter() - start
    assert count == expected, (func, count)
    return elapsed


def main() -> int:
    """Generate, time the passes alternately, measure peak RSS, print figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return 0
    from lxml import etree

    with tempfile.TemporaryDirectory(prefix="bench-junit-") as tmp:
        path = Path(tmp) / "upgrade__cc-ci__test_bench.xml"
        generate(path, args.cases)
        size_mb = path.stat().st_size / 1e6
        print(
            f"python {platform.python_version()}, lxml {etree.__version__}, "
            f"libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))}"
        )
        print(f"before: {_load()}")
        passes = {
            "iterparse": plain_iterparse,
            "cases-only": case_iterparse,
            "model": model_load,
            "walk": model_walk,
        }
        times: dict[str, list[float]] = {mode: [] for mode in passes}
        for func in passes.values():
            _time(func, str(path), args.cases)
        for _ in range(args.repeat):
            for mode, func in passes.items():
                times[mode].append(_time(func, str(path), args.cases))
        best = {mode: min(values) for mode, values in times.items()}
        median = {mode: statistics.median(values) for mode, values in times.items()}
        ratio = best["model"] / best["iterparse"]
        rss = {mode: _peak(mode, str(path)) for mode in ("iterparse", "model", "walk")}
        growth = {m: (r["after_kb"] - r["before_kb"]) / 1024 for m, r in rss.items()}
        print(f"after:  {_load()}")
        print(f"file: {args.cases:,} cases, {size_mb:.1f} MB; {args.repeat} runs each, alternating")
        labels = {
            "iterparse": "plain iterparse:          ",
            "cases-only": "iterparse, testcase only: ",
            "model": "model + tree + failures:  ",
            "walk": "model + read every case:  ",
        }
        for mode, label in labels.items():
            by_best = best[mode] / best["iterparse"]
            by_median = median[mode] / median["iterparse"]
            print(
                f"{label}best {best[mode]:.3f} s, median {median[mode]:.3f} s"
                f" ({by_best:.2f}x / {by_median:.2f}x of iterparse)"
            )
        strict = best["model"] / best["cases-only"]
        print(f"ratio (best): {ratio:.2f}x (target ≤ 2.0); {strict:.2f}x of the testcase-only pass")
        for mode in rss:
            print(
                f"peak RSS growth, {mode}: {growth[mode]:.1f} MB "
                f"(process peak {rss[mode]['after_kb'] / 1024:.1f} MB)"
            )
        ok = ratio <= 2.0 and growth["model"] <= 80
        print("targets met" if ok else "TARGETS MISSED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
