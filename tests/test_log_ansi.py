"""The ANSI sanitiser keeps SGR colours and neutralises every other control sequence."""

from __future__ import annotations

import pytest

from redfix_tui.logs.ansi import decode, sanitize, strip, to_text

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
