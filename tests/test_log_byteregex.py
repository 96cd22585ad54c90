"""Searching ASCII blocks as bytes (and case-insensitive patterns over lower-cased bytes) finds
exactly the lines the text search finds."""

from __future__ import annotations

import random
import re

import pytest

from redfix_tui.logs.ansi import decode
from redfix_tui.logs.byteregex import bytes_search
from redfix_tui.logs.search import _match_lines, compile_pattern, find_all, search_spool
from redfix_tui.logs.spool import LogSpool

ATOMS = [
    "a", "B", "k", "S", "x", "Z", "0", "9", " ", "-", "_", ".", r"\.", r"\d", r"\w", r"\W", r"\D",
    "[a-f]", "[A-F]", "[^a-c]", "[^A-C]", "[0-9A-Z]", "[Z-a]", "[_a-zA-Z]", r"\x1c", r"\t",
    r"\x1b\[", "FAIL", "error", "Line", "(a|B)", "(?:kS)", r"\b", r"\B", "^", "$", "1 9", "-0-",
]  # fmt: skip
QUANTIFIERS = ["", "", "", "*", "+", "?", "{2}", "{1,3}", "*?", "++"]
CHARS = "aAbBkKsSxXzZ019 \t-_.[]\x1b\x1c\x1d\x7f\r"


def _random_pattern(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        atom = rng.choice(ATOMS)
        quantifier = "" if atom in ("^", "$", r"\b", r"\B") else rng.choice(QUANTIFIERS)
        parts.append(atom + quantifier)
    pattern = "".join(parts)
    roll = rng.random()
    if roll < 0.1:
        pattern = f"({pattern})\\1"
    elif roll < 0.2:
        pattern = f"(?<=a){pattern}"
    elif roll < 0.3:
        pattern = f"{pattern}(?!B)"
    elif roll < 0.4:
        pattern = f"{pattern}|{rng.choice(ATOMS)}"
    return pattern


def _random_data(rng: random.Random) -> bytes:
    lines = ["".join(rng.choice(CHARS) for _ in range(rng.randint(0, 12))) for _ in range(300)]
    lines += ["FAILED x", "an Error", "LINE 1", "line 2", "abab", "BkSa", "a1 9b", "X-0-1 9"]
    rng.shuffle(lines)
    return ("\n".join(lines) + "\n").encode("ascii")


@pytest.mark.parametrize("seed", range(6))
def test_bytes_search_finds_the_lines_text_search_finds(seed: int) -> None:
    rng = random.Random(seed)
    data = _random_data(rng)
    text = decode(data)
    folded = 0
    for _ in range(300):
        pattern = _random_pattern(rng)
        for ignore_case in (False, True):
            try:
                regex = compile_pattern(pattern, ignore_case=ignore_case)
            except ValueError:
                continue
            search = bytes_search(regex)
            assert search is not None, pattern
            folded += search.lower
            got = _match_lines(search.regex, search.subject(data), 0)
            assert got == _match_lines(regex, text, 0), (pattern, ignore_case)
    assert folded > 200, "most case-insensitive patterns should take the lower-cased path"


@pytest.mark.parametrize(
    "pattern",
    [r"\s", r"a\Sb", "ü", r"\u00fc", r"\N{LATIN SMALL LETTER A}", "(?u)a"],
)
def test_patterns_meaning_more_on_text_stay_text(pattern: str) -> None:
    assert bytes_search(compile_pattern(pattern)) is None


def test_scoped_flags_are_not_folded() -> None:
    search = bytes_search(compile_pattern("(?-i:A)b", ignore_case=True))
    assert search is not None and not search.lower
    data = b"Ab\nab\nAB\n"
    assert _match_lines(search.regex, search.subject(data), 0) == [0, 2]


def test_space_class_differs_on_ascii_so_text_is_used() -> None:
    """``\\s`` matches the file separator ``\\x1c`` in text but not in bytes."""
    assert re.search(r"\s", "\x1c") and not re.search(rb"\s", b"\x1c")
    with LogSpool() as spool:
        spool.append(b"a\x1cb\nab\n")
        assert find_all(spool, r"a\sb") == [0]


def test_mixed_blocks_ascii_and_utf8_agree_with_text_search() -> None:
    """Blocks with UTF-8 are searched as text, ASCII blocks as bytes: one result either way."""
    lines = []
    for i in range(4000):
        lines.append(f"── stage {i} ──" if i % 700 == 0 else f"Line {i} ok \x1b[31mERR\x1b[0m")
    data = ("\n".join(lines) + "\n").encode()
    text = decode(data)
    with LogSpool() as spool:
        spool.append(data)
        for pattern in ["line 1[0-9]{2} ", "err", "ERR", "Line 3[0-9]{3}", r"\bok\b", "stage|ERR"]:
            regex = compile_pattern(pattern, ignore_case=pattern == pattern.lower())
            expected = _match_lines(regex, text, 0)
            assert expected
            got = find_all(spool, pattern, ignore_case=pattern == pattern.lower())
            assert got == expected, pattern
            small = [
                n for step in search_spool(spool, regex, block_bytes=4096) for n in step.matches
            ]
            assert small == expected, pattern


@pytest.mark.parametrize("seed", range(3))
def test_blocks_passed_over_for_lack_of_a_required_piece_hold_no_match(seed: int) -> None:
    """One line per block: every block without the pattern's letter-free piece is skipped, and
    the lines found are still those the text search finds in the same blocks."""
    rng = random.Random(100 + seed)
    data = _random_data(rng)
    lines = decode(data).split("\n")[:-1]
    skipping = 0
    with LogSpool() as spool:
        spool.append(data)
        for _ in range(150):
            pattern = rng.choice(["1 9", "-0-", " 9"]) + _random_pattern(rng)
            regex = compile_pattern(pattern, ignore_case=True)
            search = bytes_search(regex)
            assert search is not None
            skipping += bool(search.required)
            got = [n for step in search_spool(spool, regex, block_bytes=1) for n in step.matches]
            expected = [n for n, line in enumerate(lines) if _match_lines(regex, line, n)]
            assert got == expected, pattern
    assert skipping > 50
