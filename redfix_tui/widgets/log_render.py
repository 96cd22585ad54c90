"""Rendering for :class:`~redfix_tui.widgets.log_view.LogView` (Textual's Line API).

Only the rows on screen are rendered. A spool line becomes one full-width :class:`Strip` —
SGR colours kept, every other escape neutralised (:mod:`redfix_tui.logs.ansi`), failure/pass/
banner highlights, search matches, a ``… [+N bytes]`` marker on lines longer than
``MAX_LINE_BYTES`` — kept in a small LRU keyed by line number. Each screen row then gets its
gutter, padding and cursor/selection style in one pass (:meth:`LogRenderMixin._decorate`).
Wrapped mode lays out one page of rows at a time.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.strip import Strip

from redfix_tui.logs.ansi import to_text
from redfix_tui.logs.markers import classify

if TYPE_CHECKING:
    from redfix_tui.logs.spool import LogSpool

MAX_LINE_BYTES = 4096
"""Longer lines are shown truncated, with a ``… [+N bytes]`` marker."""
STRIP_CACHE_SIZE = 1024
"""Rendered lines kept (a few screens' worth)."""


class LogRenderMixin:
    """Line strips, their cache, decoration and the Line API ``render_line``."""

    spool: LogSpool | None
    cursor_line: int | None
    show_line_numbers: bool
    wrap: bool
    _anchor: int | None
    _regex: re.Pattern[str] | None

    def _reset_render(self) -> None:
        """Set up empty caches (called once from ``__init__``)."""
        self._strips: LRUCache[tuple[int, int], Strip] = LRUCache(STRIP_CACHE_SIZE)
        self._generation = 0
        self._styles: dict[str, Style] = {}
        self._wrap_page: tuple[tuple, list[Strip]] | None = None
        self._max_width = 0
        self._render_cost = 0.0
        self.last_rendered_line = -1
        """Highest spool line rendered so far since the last attach (benchmarks watch it)."""

    def _style(self, name: str) -> Style:
        """A component (or, for ``""``, the widget's own) rich style, cached until CSS changes."""
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style if not name else self.get_component_rich_style(name)
            self._styles[name] = style
        return style

    def notify_style_update(self) -> None:
        """CSS changed: drop cached styles and strips."""
        super().notify_style_update()
        self._styles = {}
        self._invalidate()

    def _invalidate(self) -> None:
        """Forget every rendered line (highlights, gutter or styles changed) and repaint."""
        self._generation += 1
        self._strips.clear()
        self._wrap_page = None
        self.refresh()

    def _repaint_cursor(self) -> None:
        """Repaint for a moved cursor or selection (line strips stay valid)."""
        self._wrap_page = None
        self.refresh()

    def _gutter_width(self) -> int:
        if not self.show_line_numbers or self.spool is None:
            return 0
        return len(str(max(1, self.spool.line_count))) + 1

    def _line_strip(self, line: int) -> Strip:
        """The full-width strip of spool ``line`` (styles, highlights; no gutter)."""
        key = (line, self._generation)
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        spool = self.spool
        assert spool is not None
        length = spool.line_length(line)
        truncated = length > MAX_LINE_BYTES
        text = to_text(spool.read_line(line, limit=MAX_LINE_BYTES if truncated else None))
        plain = text.plain
        kind = classify(plain)
        if kind is not None:
            text.stylize_before(self._style(f"log-view--{kind}"))
        if self._regex is not None:
            match_style = self._style("log-view--match")
            for m in self._regex.finditer(plain):
                if m.end() > m.start():
                    text.stylize(match_style, m.start(), m.end())
        if truncated:
            text.append(
                f" … [+{length - MAX_LINE_BYTES:,} bytes]",
                self._style("log-view--truncated"),
            )
        strip = Strip(text.render(self.app.console), text.cell_len)
        if strip.cell_length > self._max_width and not self.wrap:
            self._max_width = strip.cell_length
            self.call_later(self._sync_size)
        if line < spool.complete_lines:
            self._strips[key] = strip
        if line > self.last_rendered_line:
            self.last_rendered_line = line
        return strip

    def _wrapped(self, line: int) -> list[Strip]:
        width = max(1, self.scrollable_content_region.width - self._gutter_width())
        strip = self._line_strip(line)
        if strip.cell_length <= width:
            return [strip]
        return list(strip.divide(range(width, strip.cell_length, width)))

    def _rows_fitting_at_end(self, height: int) -> int:
        """How many rows, counted back from the last, fit in ``height`` screen lines (wrap)."""
        used = fitted = 0
        for row in range(self.row_count - 1, -1, -1):
            used += len(self._wrapped(self._row_line(row)))
            if used > height:
                break
            fitted += 1
        return max(1, fitted)

    def _decorate(self, line: int, strip: Strip, first: bool, width: int) -> Strip:
        """Add the gutter, pad to ``width`` and apply base/selection styles, in one pass."""
        gutter = self._gutter_width()
        segments: list[Segment] = []
        if gutter:
            number = f"{line + 1:>{gutter - 1}} " if first else " " * gutter
            segments.append(Segment(number, self._style("log-view--line-number")))
        segments.extend(strip)
        pad = width - gutter - strip.cell_length
        if pad > 0:
            segments.append(Segment(" " * pad))
        post: Style | None = None
        if line == self.cursor_line:
            post = self._style("log-view--cursor")
        elif self._anchor is not None:
            selected = self.selection
            if selected is not None and selected[0] <= line <= selected[1]:
                post = self._style("log-view--selection")
        return Strip(Segment.apply_style(segments, self._style(""), post), max(width, gutter))

    def render_line(self, y: int) -> Strip:
        """Render screen row ``y`` (Line API)."""
        started = time.perf_counter()
        try:
            return self._render_line(y)
        finally:
            self._render_cost += time.perf_counter() - started

    def _render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if self.spool is None:
            return Strip.blank(width, self._style(""))
        scroll_x, scroll_y = self.scroll_offset
        if self.wrap:
            return self._render_wrapped(y, scroll_y, width)
        row = scroll_y + y
        if row >= self.row_count:
            return Strip.blank(width, self._style(""))
        line = self._row_line(row)
        content = self._line_strip(line)
        room = width - self._gutter_width()
        if scroll_x or content.cell_length > room:
            content = content.crop(scroll_x, scroll_x + room)
        return self._decorate(line, content, True, width)

    def _render_wrapped(self, y: int, top: int, width: int) -> Strip:
        key = (top, width, self._generation, self.row_count, self.cursor_line, self.selection)
        if self._wrap_page is None or self._wrap_page[0] != key:
            page: list[Strip] = []
            height = self.scrollable_content_region.height
            row = top
            while len(page) < height and row < self.row_count:
                line = self._row_line(row)
                for index, part in enumerate(self._wrapped(line)):
                    page.append(self._decorate(line, part, index == 0, width))
                row += 1
            self._wrap_page = (key, page)
        page = self._wrap_page[1]
        return page[y] if y < len(page) else Strip.blank(width, self._style(""))
