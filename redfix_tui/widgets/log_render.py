"""Rendering for :class:`~redfix_tui.widgets.log_view.LogView` (Textual's Line API).

Only the rows on screen are rendered. A spool line becomes a list of segments — SGR colours
kept, every other escape neutralised (:mod:`redfix_tui.logs.ansi`), the widget's base style,
failure/pass/banner highlights, search matches, a ``… [+N bytes]`` marker on lines longer than
``MAX_LINE_BYTES`` — kept in a small LRU keyed by line number. Each screen row is then one
:class:`Strip`: gutter, the (cropped) content, padding, and the cursor/selection style on top.
Ordinary lines take a fast path straight to segments; lines with tabs, search matches or a
truncation marker go through a Rich ``Text``. Wrapped mode lays out one page of rows at a time.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip

from redfix_tui.logs.ansi import clean_to_text, plain_of, sanitize, styled_runs
from redfix_tui.logs.markers import classify

if TYPE_CHECKING:
    from redfix_tui.logs.spool import LogSpool

MAX_LINE_BYTES = 4096
"""Longer lines are shown truncated, with a ``… [+N bytes]`` marker."""
LINE_CACHE_SIZE = 512
"""Rendered lines kept (about ten screens)."""

Content = tuple[list[Segment], int]
"""A line's segments and their width in cells."""


class LogRenderMixin:
    """Line contents, their cache, decoration and the Line API ``render_line``."""

    spool: LogSpool | None
    cursor_line: int | None
    show_line_numbers: bool
    wrap: bool
    _anchor: int | None
    _regex: re.Pattern[str] | None

    def _reset_render(self) -> None:
        """Set up empty caches (called once from ``__init__``)."""
        self._contents: LRUCache[tuple[int, int], Content] = LRUCache(LINE_CACHE_SIZE)
        self._generation = 0
        self._styles: dict[str, Style] = {}
        self._wrap_page: tuple[tuple, list[Strip]] | None = None
        self._max_width = 0
        self._render_cost = 0.0
        self._frame: tuple[int, int] | None = None
        self._keep_lines = True
        self.last_rendered_line = -1
        """Highest spool line rendered so far since the last attach (benchmarks watch it)."""

    def _style(self, name: str) -> Style:
        """Component style ``name`` over the widget's own (``""``: the widget's), cached."""
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style
            if name:
                style = style + self._component(name)
            self._styles[name] = style
        return style

    def _component(self, name: str) -> Style:
        """Component style ``name`` alone, cached until CSS changes."""
        key = "!" + name
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self.get_component_rich_style(name)
        return style

    def notify_style_update(self) -> None:
        """CSS changed: drop cached styles and lines."""
        super().notify_style_update()
        self._styles = {}
        self._invalidate()

    def _invalidate(self) -> None:
        """Forget every rendered line (highlights, gutter or styles changed) and repaint."""
        self._generation += 1
        self._contents.clear()
        self._wrap_page = None
        self.refresh()

    def _forget_line(self, line: int) -> None:
        """Drop one line's cached rendering (it may have grown)."""
        self._contents.discard((line, self._generation))

    def _repaint_rows(self) -> None:
        """Repaint the rows (cursor, selection or gutter changed; line contents stay valid)."""
        self._wrap_page = None
        self.refresh()

    def _gutter_width(self) -> int:
        if not self.show_line_numbers or self.spool is None:
            return 0
        return len(str(max(1, self.spool.line_count))) + 1

    def _content(self, line: int) -> Content:
        """Segments of spool ``line`` with every style but the cursor's; no gutter, no padding."""
        key = (line, self._generation)
        cached = self._contents.get(key)
        if cached is not None:
            return cached
        spool = self.spool
        assert spool is not None
        length = spool.line_length(line)
        truncated = length > MAX_LINE_BYTES
        clean = sanitize(spool.read_line(line, limit=MAX_LINE_BYTES if truncated else None))
        plain = plain_of(clean)
        kind = classify(plain)
        base = self._style(f"log-view--{kind}" if kind else "")
        regex = self._regex
        if truncated or "\t" in clean or (regex is not None and regex.search(plain)):
            content = self._text_content(clean, base, length if truncated else 0)
        else:
            segments = [Segment(text, base + style) for text, style in styled_runs(clean)]
            width = len(plain) if plain.isascii() else cell_len(plain)
            content = (segments, width)
        if content[1] > self._max_width and not self.wrap:
            self._max_width = content[1]
            self.call_later(self._sync_size)
        if self._keep_lines and line < spool.complete_lines:
            self._contents[key] = content
        if line > self.last_rendered_line:
            self.last_rendered_line = line
        return content

    def _text_content(self, clean: str, base: Style, truncated_length: int) -> Content:
        """The slow path, through a Rich Text: tabs, search matches, the truncation marker."""
        text = clean_to_text(clean)
        if self._regex is not None:
            match_style = self._component("log-view--match")
            for m in self._regex.finditer(text.plain):
                if m.end() > m.start():
                    text.stylize(match_style, m.start(), m.end())
        if truncated_length:
            text.append(
                f" … [+{truncated_length - MAX_LINE_BYTES:,} bytes]",
                self._component("log-view--truncated"),
            )
        segments = list(Segment.apply_style(text.render(self.app.console), base))
        return segments, text.cell_len

    def _line_strip(self, line: int) -> Strip:
        """The full-width strip of spool ``line`` (styles, highlights; no gutter)."""
        segments, width = self._content(line)
        return Strip(segments, width)

    def _wrapped(self, line: int) -> list[Strip]:
        width = max(1, self.scrollable_content_region.width - self._gutter_width())
        strip = self._line_strip(line)
        if strip.cell_length <= width:
            return [strip]
        return list(strip.divide(range(width, strip.cell_length, width)))

    def _rows_fitting_at_end(self, rows: int, height: int) -> int:
        """How many of ``rows``, counted back from the last, fit in ``height`` lines (wrap)."""
        used = fitted = 0
        for row in range(rows - 1, -1, -1):
            used += len(self._wrapped(self._row_line(row)))
            if used > height:
                break
            fitted += 1
        return max(1, fitted)

    def _frame_geometry(self) -> tuple[int, int]:
        """Row width and gutter width (fixed while :meth:`render_lines` runs)."""
        if self._frame is not None:
            return self._frame
        return self.scrollable_content_region.width, self._gutter_width()

    def _decorate(self, line: int, segments: list[Segment], cells: int, first: bool) -> Strip:
        """One screen row: gutter, content, padding to the width, cursor/selection on top."""
        width, gutter = self._frame_geometry()
        row: list[Segment] = []
        if gutter:
            number = f"{line + 1:>{gutter - 1}} " if first else " " * gutter
            row.append(Segment(number, self._style("log-view--line-number")))
        row.extend(segments)
        pad = width - gutter - cells
        if pad > 0:
            row.append(Segment(" " * pad, self._style("")))
        post: Style | None = None
        if line == self.cursor_line:
            post = self._component("log-view--cursor")
        elif self._anchor is not None:
            selected = self.selection
            if selected is not None and selected[0] <= line <= selected[1]:
                post = self._component("log-view--selection")
        if post is not None:
            row = list(Segment.apply_style(row, None, post))
        return Strip(row, max(width, gutter))

    def render_lines(self, crop: Region) -> list[Strip]:
        """Render the rows in ``crop``, timing it (the follow logic paces repaints by it)."""
        started = time.perf_counter()
        self._frame = None
        self._frame = self._frame_geometry()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None
            self._render_cost += time.perf_counter() - started

    def render_line(self, y: int) -> Strip:
        """Render screen row ``y`` (Line API)."""
        width, gutter = self._frame_geometry()
        if self.spool is None:
            return Strip.blank(width, self._style(""))
        scroll_x, scroll_y = self.scroll_offset
        if self.wrap:
            return self._render_wrapped(y, scroll_y, width)
        row = scroll_y + y
        if row >= self.row_count:
            return Strip.blank(width, self._style(""))
        line = self._row_line(row)
        segments, cells = self._content(line)
        room = width - gutter
        if scroll_x or cells > room:
            cropped = Strip(segments, cells).crop(scroll_x, scroll_x + room)
            segments, cells = list(cropped), cropped.cell_length
        return self._decorate(line, segments, cells, True)

    def _render_wrapped(self, y: int, top: int, width: int) -> Strip:
        key = (top, width, self._generation, self.row_count, self.cursor_line, self.selection)
        if self._wrap_page is None or self._wrap_page[0] != key:
            page: list[Strip] = []
            height = self.scrollable_content_region.height
            row = top
            while len(page) < height and row < self.row_count:
                line = self._row_line(row)
                for index, part in enumerate(self._wrapped(line)):
                    page.append(self._decorate(line, list(part), part.cell_length, index == 0))
                row += 1
            self._wrap_page = (key, page)
        page = self._wrap_page[1]
        return page[y] if y < len(page) else Strip.blank(width, self._style(""))
