"""The ANSI sanitiser keeps SGR colours and neutralises every other control sequence."""

from __future__ import annotations

from itertools import pairwise

import pytest
from rich.console import Console
from rich.style import Style

from redfix_tui.logs.ansi import decode, plain_of, sanitize, strip, styled_runs, to_text

DANGEROUS = [
    ("osc52 clipboard, BEL", "a\x1b]52;c;aGVsbG8=\x07b", "ab"),
    ("osc52 clipboard, ST", "a\x1b]52;c;aGVsbG8=\x1b\\b", "ab"),
    ("osc title", "x\x1b]0;pwned\x07y", "xy"),
    ("osc hyperlink", "\x1b]8;;http://e\x1b\\link\x1b]8;;\x1b\\", "link"),
    ("unterminated osc", "ok\x1b]2;title to the end", "ok"),
    ("cursor move", "m\x1b[10;20Hn", "mn"),
    ("erase screen", "\x1b[2Jclear\x1b[K", "clear"),
    ("private mode", "\x1b[?1049hfoo\x1b[?25l", "foo"),
    ("bell", "ding\x07dong", "dingdong"),
    ("backspace", "ab\x08\x08cd", "abcd"),
    ("lone esc", "end\x1b", "end"),
    ("esc 7/8, charset", "\x1b7a\x1b(Bb\x1b8", "ab"),
    ("dcs", "\x1bPq#0;2;0;0;0\x1b\\after", "after"),
    ("apc, pm, sos", "\x1b_apc\x1b\\1\x1b^pm\x1b\\2\x1bXsos\x1b\\3", "123"),
    ("8-bit csi", "a\x9b2Jb", "ab"),
    ("8-bit osc", "a\x9d0;t\x9cb", "ab"),
    ("C1 NEL", "a\x85b", "ab"),
    ("NUL, DEL, form feed", "a\x00b\x7fc\x0cd", "abcd"),
    ("carriage-return progress", "10%\r50%\r100%", "100%"),
    ("CRLF ending", "line\r", "line"),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [(r, e) for _, r, e in DANGEROUS], ids=[n for n, _, _ in DANGEROUS]
)
def test_dangerous_sequences_are_removed(raw: str, expected: str) -> None:
    clean = sanitize(raw)
    assert clean == expected
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in clean)
    assert to_text(raw).plain == expected


def test_sgr_colours_are_kept_as_styles() -> None:
    raw = "ok \x1b[1;31mFAILED\x1b[0m \x1b[38;5;208mx\x1b[m"
    assert sanitize(raw) == raw
    text = to_text(raw)
    assert text.plain == "ok FAILED x"
    styles = {text.plain[s.start : s.end]: s.style for s in text.spans}
    assert styles["FAILED"].color.name == "color(1)"
    assert styles["FAILED"].bold
    assert styles["x"].color.number == 208


def test_sgr_mixed_with_dangerous_sequences() -> None:
    raw = "\x1b[32mPASSED\x1b]52;c;ZXZpbA==\x07\x1b[0m\x1b[5A"
    assert sanitize(raw) == "\x1b[32mPASSED\x1b[0m"
    assert strip(raw) == "PASSED"


def test_tabs_expand() -> None:
    assert to_text("a\tb").plain == "a       b"


def test_invalid_utf8_becomes_replacement_characters() -> None:
    text = decode(b"ok \xff\xfe bytes \xe2\x82")
    assert text == "ok \ufffd\ufffd bytes \ufffd"
    assert to_text(text).plain == text


def test_plain_line_is_returned_unchanged() -> None:
    line = "nothing to see here ✓"
    assert sanitize(line) is line


SGR_LINES = [
    "ok \x1b[1;31mFAILED\x1b[0m \x1b[38;5;208mx\x1b[m",
    "a\x1b[0mb",
    "\x1b[1m\x1b[31mred bold\x1b[22m not bold\x1b[39m default \x1b[7mrev",
    "\x1b[38;2;10;20;30mrgb\x1b[48;5;3m on bg\x1b[49m\x1b[4m under",
    "x\x1b[38:5:208my\x1b[;1mz",
    "wide ✓ 日本 \x1b[32mgreen 日本\x1b[0m",
    "plain, no escapes",
    "",
]


def _char_styles(pairs) -> list[tuple[str, object]]:
    return [(char, style or None) for text, style in pairs for char in text]


@pytest.mark.parametrize("raw", SGR_LINES)
def test_fast_runs_style_every_character_as_the_text_path_does(raw: str) -> None:
    clean = sanitize(raw)
    runs = styled_runs(clean)
    rendered = [(s.text, s.style) for s in to_text(raw).render(Console())]
    assert _char_styles(runs) == _char_styles(rendered)
    assert "".join(text for text, _ in runs) == plain_of(clean) == strip(raw)
    assert all(text for text, _ in runs)
    assert all(a[1] != b[1] for a, b in pairwise(runs))


def test_colours_left_open_do_not_bleed_into_the_next_line() -> None:
    assert to_text("\x1b[31mred, never closed").spans
    bold = to_text("\x1b[1mbold next line").spans[0].style
    assert bold.bold and bold.color is None
    assert styled_runs(sanitize("\x1b[31mred, never closed"))[0][1].color is not None
    assert [style for _, style in styled_runs("next line")] == [Style.null()]
