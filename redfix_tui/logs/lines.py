"""Spool lines as styled Rich segments, for a log view to paint (Textual-free).

A line becomes a list of segments: SGR colours kept, every other escape neutralised
(:mod:`redfix_tui.logs.ansi`), the style of its kind (failure, passed, banner — see
:mod:`redfix_tui.logs.markers`) under them, search matches highlighted, and a ``… [+N bytes]``
marker on lines longer than ``MAX_LINE_BYTES``. Ordinary lines take a fast path straight to
segments; lines with tabs, search matches or a truncation marker go through a Rich ``Text``.
:class:`LineRenderer` keeps the last ``LINE_CACHE_SIZE`` complete lines it rendered.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style

from redfix_tui.logs.ansi import clean_to_text, plain_of, sanitize, styled_runs
from redfix_tui.logs.markers import Kind, classify
from redfix_tui.logs.spool import LogSpool

MAX_LINE_BYTES = 4096
"""Longer lines are shown truncated, with a ``… [+N bytes]`` marker."""
LINE_CACHE_SIZE = 512
"""Rendered lines kept (about ten screens)."""

Content = tuple[list[Segment], int]
"""A line's segments and their width in cells."""


class LineRenderer:
    """Render spool lines with the styles a view gives; see the module docstring."""

    def __init__(
        self,
        base: Callable[[Kind | None], Style],
        extra: Callable[[str], Style],
        console: Callable[[], Console],
        cache_size: int = LINE_CACHE_SIZE,
    ) -> None:
        """``base(kind)``: a line's style by kind (None: ordinary); ``extra(name)``: the
        ``"match"`` and ``"truncated"`` styles; ``console()``: renders a Rich ``Text``."""
        self._base = base
        self._extra = extra
        self._console = console
        self._size = cache_size
        self._cache: OrderedDict[int, Content] = OrderedDict()

    def clear(self) -> None:
        """Forget every rendered line (styles or search changed, or a new spool)."""
        self._cache.clear()

    def forget(self, line: int) -> None:
        """Forget one line's rendering (the last line may have grown)."""
        self._cache.pop(line, None)

    def render(
        self, spool: LogSpool, line: int, regex: re.Pattern[str] | None, *, keep: bool = True
    ) -> Content:
        """Segments of ``line`` with matches of ``regex`` highlighted; kept for next time when
        ``keep`` and the line is complete."""
        cached = self._cache.get(line)
        if cached is not None:
            self._cache.move_to_end(line)
            return cached
        length = spool.line_length(line)
        truncated = length > MAX_LINE_BYTES
        clean = sanitize(spool.read_line(line, limit=MAX_LINE_BYTES if truncated else None))
        plain = plain_of(clean)
        base = self._base(classify(plain))
        if truncated or "\t" in clean or (regex is not None and regex.search(plain)):
            content = self._through_text(clean, base, regex, length if truncated else 0)
        else:
            segments = [Segment(text, base + style) for text, style in styled_runs(clean)]
            content = (segments, len(plain) if plain.isascii() else cell_len(plain))
        if keep and line < spool.complete_lines:
            self._cache[line] = content
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return content

    def _through_text(
        self, clean: str, base: Style, regex: re.Pattern[str] | None, truncated_length: int
    ) -> Content:
        """The slow path, through a Rich Text: tabs, search matches, the truncation marker."""
        text = clean_to_text(clean)
        if regex is not None:
            match_style = self._extra("match")
            for m in regex.finditer(text.plain):
                if m.end() > m.start():
                    text.stylize(match_style, m.start(), m.end())
        if truncated_length:
            text.append(
                f" … [+{truncated_length - MAX_LINE_BYTES:,} bytes]", self._extra("truncated")
            )
        segments = list(Segment.apply_style(text.render(self._console()), base))
        return segments, text.cell_len
