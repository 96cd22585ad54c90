"""Benchmark: JUnit model load + tree build vs a plain lxml iterparse pass (issue 4, item 7).

Generates a 10,000-case (~26 MB) JUnit file (5% failures with tracebacks, 2 KB of stdout per
case) in a temporary directory, then times, in this same run, (a) a plain ``lxml.etree.iterparse``
pass over it and (b) :func:`load_junit_file` followed by :func:`build_tree`. Peak RSS growth of
each is measured in a fresh subprocess (``ru_maxrss`` after minus before).

Run: ``.venv/bin/python benchmarks/bench_junit.py [--cases N] [--repeat R]``.
Targets: ratio ≤ 2.0, model peak RSS growth ≤ 80 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
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
    count = (plain_iterparse if mode == "iterparse" else model_load)(path)
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


def main() -> int:
    """Generate, time both passes alternately, measure peak RSS, print figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-junit-") as tmp:
        path = Path(tmp) / "upgrade__cc-ci__test_bench.xml"
        generate(path, args.cases)
        size_mb = path.stat().st_size / 1e6
        times: dict[str, list[float]] = {"iterparse": [], "model": []}
        for _ in range(args.repeat):
            for mode, func in (("iterparse", plain_iterparse), ("model", model_load)):
                start = time.perf_counter()
                count = func(str(path))
                times[mode].append(time.perf_counter() - start)
                assert count == args.cases, (mode, count)
        best = {mode: min(values) for mode, values in times.items()}
        ratio = best["model"] / best["iterparse"]
        rss = {mode: _peak(mode, str(path)) for mode in times}
        growth = {m: (r["after_kb"] - r["before_kb"]) / 1024 for m, r in rss.items()}
        print(f"file: {args.cases:,} cases, {size_mb:.1f} MB")
        print(f"plain iterparse: best {best['iterparse']:.3f} s of {args.repeat}")
        print(f"model + tree:    best {best['model']:.3f} s of {args.repeat}")
        print(f"ratio: {ratio:.2f}x (target ≤ 2.0)")
        for mode in times:
            print(
                f"peak RSS growth, {mode}: {growth[mode]:.1f} MB "
                f"(process peak {rss[mode]['after_kb'] / 1024:.1f} MB)"
            )
        ok = ratio <= 2.0 and growth["model"] <= 80
        print("targets met" if ok else "TARGETS MISSED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
