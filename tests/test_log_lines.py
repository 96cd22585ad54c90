"""LineRenderer: spool lines as styled segments, without Textual."""

from __future__ import annotations

import re

from rich.console import Console
from rich.style import Style

from redfix_tui.logs.lines import MAX_LINE_BYTES, LineRenderer
from redfix_tui.logs.spool import LogSpool

KINDS = {None: Style(), "failure": Style(bgcolor="red"), "passed": Style(color="green")}
EXTRA = {"match": Style(bgcolor="yellow"), "truncated": Style(italic=True)}


def _renderer(seen: list | None = None) -> LineRenderer:
    def base(kind):
        if seen is not None:
            seen.append(kind)
        return KINDS.get(kind, Style(bold=True))

    return LineRenderer(base, EXTRA.__getitem__, lambda: Console(width=200), cache_size=2)


def _text(content) -> str:
    return "".join(segment.text for segment in content[0])


def test_colours_kept_other_escapes_neutralised_and_kinds_styled() -> None:
    with LogSpool() as spool:
        spool.append(b"\x1b[32mok\x1b[0m \x1b]52;c;cm0=\x07done\n\x1b[31mFAILED\x1b[0m x\n")
        lines = _renderer()
        segments, width = lines.render(spool, 0, None)
        assert _text((segments, width)) == "ok done" and width == 7
        assert segments[0].style is not None and segments[0].style.color is not None
        segments, _ = lines.render(spool, 1, None)
        assert all(s.style is not None and s.style.bgcolor == Style(bgcolor="red").bgcolor
                   for s in segments)  # fmt: skip


def test_matches_highlighted_and_long_lines_truncated_with_a_marker() -> None:
    with LogSpool() as spool:
        spool.append(b"a needle in\tstack\n" + b"y" * (MAX_LINE_BYTES + 10) + b"\n")
        lines = _renderer()
        segments, _ = lines.render(spool, 0, re.compile("needle"))
        marked = "".join(s.text for s in segments if s.style and s.style.bgcolor)
        assert marked == "needle"
        content = lines.render(spool, 1, None)
        assert _text(content).endswith("y … [+10 bytes]")
        assert content[1] == MAX_LINE_BYTES + len(" … [+10 bytes]")


def test_cache_keeps_complete_lines_and_forgets_on_request() -> None:
    seen: list = []
    with LogSpool() as spool:
        spool.append(b"one\ntwo\nthree\npartial")
        lines = _renderer(seen)
        first = lines.render(spool, 0, None)
        assert lines.render(spool, 0, None) is first and len(seen) == 1
        lines.render(spool, 3, None)
        lines.render(spool, 3, None)
        assert len(seen) == 3, "the growing last line is never kept"
        lines.render(spool, 1, None, keep=False)
        lines.render(spool, 1, None)
        assert len(seen) == 5, "keep=False (a flood scrolling by) renders without keeping"
        lines.forget(0)
        lines.render(spool, 0, None)
        assert len(seen) == 6
        lines.render(spool, 2, None)  # cache size 2: line 1 falls out
        lines.render(spool, 1, None)
        assert len(seen) == 8
        lines.clear()
        lines.render(spool, 2, None)
        assert len(seen) == 9
