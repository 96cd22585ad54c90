"""Text from the node goes through one gate: no escape or markup reaches the terminal.

Unit tests of :mod:`redfix_tui.safe_text`, the junit CLI's output, and a Pilot walk over every
widget of the console against a demo node whose every field is hostile.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console
from rich.text import Text

from redfix_tui.junit import cli as junit_cli
from redfix_tui.logs.ansi import sanitize
from redfix_tui.safe_text import clean, is_clean, plain

OSC52 = "\x1b]52;c;SGVsbG8=\x07"
TITLE = "\x1b]0;pwned\x07"
ERASE = "\x1b[2J"
C1_CSI = "\x9b31m"
C1_OSC = "\x9d"
MARKUP = ("[/]", "[/x]", "[b]bold[/b]", "[link=https://x]l[/link]")
ESCAPES = (OSC52, TITLE, ERASE, C1_CSI, C1_OSC)
HOSTILE = ESCAPES + MARKUP
"""Every hostile value the tests put into node data."""

LEAKS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""A control character (other than TAB and newline) in rendered output."""


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (f"v{OSC52}1", "v␛1"),
        (f"{TITLE}t", "␛t"),
        (f"a{ERASE}b", "a␛b"),
        (f"{C1_CSI}red", "␛red"),
        (f"a{C1_OSC}swallowed", "a␛"),
        ("\x1b[1;31mred\x1b[0m", "red"),  # SGR dropped
        ("bell\x07", "bell␇"),
        ("cr\rlf\n", "cr␍lf␊"),
        ("nul\x00del\x7f", "nul␀del␡"),
        ("tab\tkept", "tab\tkept"),
        ("C1 NEL\x85", "C1 NEL␛"),
        ("lone esc\x1b", "lone esc␛"),
        ("plain [b]text[/b] é ✔", "plain [b]text[/b] é ✔"),
    ],
)
def test_clean_shows_every_escape_and_control_visibly(raw: str, shown: str) -> None:
    assert clean(raw) == shown
    assert LEAKS.search(clean(raw)) is None
    assert "\n" not in clean(raw)


def test_clean_keeps_newlines_when_asked_and_cleans_each_line_alone() -> None:
    assert clean(f"one{C1_OSC} osc to the end\ntwo{ERASE}\n", newlines=True) == "one␛\ntwo␛\n"
    assert clean("a\nb") == "a␊b"
    assert clean(f"a{C1_OSC}x\nb") == "a␛␊b"  # an unterminated OSC stops at its line's end


def test_clean_uses_the_log_views_rules() -> None:
    """What the log view removes is exactly what clean marks (SGR aside)."""
    samples = [*HOSTILE, "\x1b[?1049h", "\x1bPq#0\x1b\\x", "\x1b7\x1b(B", "\x1b_apc\x9c", "ok"]
    for raw in samples:
        visible = clean(raw).replace("␛", "")
        assert visible == sanitize(raw), raw


def test_plain_never_interprets_markup() -> None:
    for raw in MARKUP:
        text = plain(raw)
        assert isinstance(text, Text)
        assert text.plain == raw
        assert not text.spans
    console = Console(file=io.StringIO(), width=80, color_system=None, legacy_windows=False)
    console.print(plain("[link=https://x]l[/link] [b]bold[/b] [/] [/x]"))
    assert console.file.getvalue() == "[link=https://x]l[/link] [b]bold[/b] [/] [/x]\n"


def test_plain_styles_and_expands_tabs() -> None:
    text = plain(f"a\tb{OSC52}", "bold")
    assert text.plain == "a       b␛"
    assert str(text.style) == "bold"
    assert plain("x\ny", newlines=True).plain == "x\ny"


def test_is_clean() -> None:
    assert is_clean("tab\tand\nnewline [b]")
    assert not is_clean(f"x{C1_CSI}")


JUNIT_HOSTILE = (  # XML 1.0 refuses C0 controls even as references; C1 controls get through
    '<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="s" tests="2">'
    '<testcase classname="t" name="test_a&#x9b;31m[/x]&#x9d;0;pwned">'
    '<failure message="boom &#x9b;2J [b]x[/b] [link=https://x]l[/link]">tb</failure></testcase>'
    '<testcase classname="t" name="test_b&#x85;[/]"><error message="&#x9b;1Aerr"/></testcase>'
    "</testsuite></testsuites>\n"
)


def test_junit_cli_text_output_is_clean(tmp_path) -> None:
    path = tmp_path / "install__repo__x.xml"
    path.write_text(JUNIT_HOSTILE, encoding="utf-8")
    out = io.StringIO()
    status = junit_cli.run([str(path)], out)
    text = out.getvalue()
    assert status == junit_cli.EXIT_FAILED
    assert LEAKS.search(text) is None, repr(text)
    assert "\x9b" not in text and "\x9d" not in text
    assert "t::test_a␛[/x]␛ — boom ␛ [b]x[/b] [link=https://x]l[/link]" in text
    assert "t::test_b␛[/] — ␛err" in text


def test_junit_cli_json_escapes_c1_but_keeps_values(tmp_path) -> None:
    path = tmp_path / "install__repo__x.xml"
    path.write_text(JUNIT_HOSTILE, encoding="utf-8")
    out = io.StringIO()
    junit_cli.run([str(path), "--json"], out)
    raw = out.getvalue()
    assert LEAKS.search(raw) is None, repr(raw)
    assert "\\u009b" in raw
    failed = json.loads(raw)["files"][0]["failed"]
    ids = {case["id"] for case in failed}
    assert ids == {"t::test_a\x9b31m[/x]\x9d0;pwned", "t::test_b\x85[/]"}  # exact values
    assert "é ✔" in junit_cli.json_text({"k": "é ✔"})  # non-ASCII still readable
