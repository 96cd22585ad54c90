"""Search and filter find exactly what `grep -n -E` finds on the same spool."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import threading

import pytest

from redfix_tui.logs.search import LineFilter, compile_pattern, find_all, search_spool
from redfix_tui.logs.spool import LogSpool

pytestmark = pytest.mark.skipif(shutil.which("grep") is None, reason="needs grep")

WORDS = ["ok", "PASSED", "FAILED", "error", "ERROR", "warn", "foo", "bar", "E   assert", "--x"]
PATTERNS = ["FAILED", "ERROR|error", "^E ", "o{2}", "[0-9]{3}$", "^$", "b.r", "bar$", "x"]


def _log() -> bytes:
    rng = random.Random(7)
    lines = []
    for i in range(60000):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 4)))
        colour = "\x1b[31m" if i % 3 == 0 else ""
        line = f"E   assert {i}" if i % 50 == 1 else f"{colour}{i} {words}".rstrip()
        lines.append(line if i % 97 else "")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def spool():
    spool = LogSpool()
    data = _log()
    for start in range(0, len(data), 4099):
        spool.append(data[start : start + 4099])
    yield spool
    spool.close()


def _grep(args: list[str], path) -> list[int]:
    out = subprocess.run(
        ["grep", "-n", "-E", *args, str(path)],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C"},
        check=False,
    ).stdout
    return [int(m.group(1)) - 1 for m in re.finditer(r"^(\d+)[:-]", out, re.MULTILINE)]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_search_equals_grep(spool: LogSpool, pattern: str) -> None:
    expected = _grep([pattern], spool.path)
    assert expected, "the corpus should contain matches"
    assert find_all(spool, pattern) == expected


def test_ignore_case_equals_grep_i(spool: LogSpool) -> None:
    assert find_all(spool, "error", ignore_case=True) == _grep(["-i", "error"], spool.path)


@pytest.mark.parametrize(("pattern", "context"), [("FAILED", 0), ("^E ", 2), ("xyz|999", 5)])
def test_filter_with_context_equals_grep_context(
    spool: LogSpool, pattern: str, context: int
) -> None:
    flt = LineFilter(compile_pattern(pattern), context)
    flt.extend(spool)
    assert list(flt.lines) == _grep(["-C", str(context), pattern], spool.path)


def test_filter_extends_incrementally_as_lines_arrive(tmp_path) -> None:
    data = _log()
    flt = LineFilter(compile_pattern("^E |FAILED"), 3)
    with LogSpool() as growing:
        rng = random.Random(1)
        pos = 0
        while pos < len(data):
            step = rng.randint(1, 30000)
            growing.append(data[pos : pos + step])
            pos += step
            flt.extend(growing, max_lines=rng.randint(1, 5000))
        while flt.scanned < growing.complete_lines:
            flt.extend(growing)
        assert list(flt.lines) == _grep(["-C", "3", "^E |FAILED"], growing.path)


def test_search_reports_progress_and_can_be_cancelled(spool: LogSpool) -> None:
    steps = list(search_spool(spool, compile_pattern("foo"), block_lines=1000))
    assert len(steps) == 60
    assert [s.scanned for s in steps] == list(range(1000, 60001, 1000))
    cancel = threading.Event()
    seen = 0
    for _step in search_spool(spool, compile_pattern("foo"), block_lines=1000, cancel=cancel):
        seen += 1
        if seen == 3:
            cancel.set()
    assert seen == 3


def test_bad_pattern_gives_a_clear_message() -> None:
    with pytest.raises(ValueError, match="bad regular expression"):
        compile_pattern("(unclosed")
