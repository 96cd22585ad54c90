"""Selection, copy and evidence for :class:`~redfix_tui.widgets.log_view.LogView`.

``v`` anchors a range at the current line and the cursor keys extend it; ``y`` copies the marked
lines (escape sequences removed) to the clipboard with OSC 52, ``e`` posts them as journal
evidence. The range lives as an anchor plus the view's ``cursor_line``; spool line numbers are
0-based here and 1-based in messages and evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from redfix_tui.evidence import LogEvidence
from redfix_tui.logs.ansi import strip as strip_escapes

if TYPE_CHECKING:
    from redfix_tui.logs.spool import LogSpool


class LogSelectMixin:
    """The marked range of a LogView, and what can be done with it."""

    spool: LogSpool | None
    host: str
    source_label: str
    cursor_line: int | None
    follow: bool
    _anchor: int | None

    @property
    def selection(self) -> tuple[int, int] | None:
        """The marked range as 0-based ``(first, last)`` spool lines, or None."""
        if self._anchor is None or self.cursor_line is None:
            return None
        return min(self._anchor, self.cursor_line), max(self._anchor, self.cursor_line)

    def _post_selection(self) -> None:
        self._repaint_rows()
        selected = self.selection
        first, last = (selected[0] + 1, selected[1] + 1) if selected else (None, None)
        self.post_message(self.SelectionChanged(self, first, last))

    def action_mark(self) -> None:
        """Start marking at the current line (cursor keys extend); ``v`` again restarts there."""
        if self.spool is None or not self.spool.line_count:
            return
        if self.cursor_line is None:
            height = self.scrollable_content_region.height
            row = min(self.row_count - 1, round(self.scroll_y) + height - 1)
            self.cursor_line = self._row_line(max(0, row))
        self.follow = False
        self._anchor = self.cursor_line
        self._post_selection()

    def action_clear(self) -> None:
        """Clear the marked range (and the cursor)."""
        had = self._anchor is not None
        self._anchor = None
        self.cursor_line = None
        if had:
            self._post_selection()

    def selected_lines(self) -> tuple[int, int, list[str]] | None:
        """The marked lines (or the cursor line) as ``(first, last, plain lines)``, 1-based."""
        if self.spool is None:
            return None
        selected = self.selection
        if selected is None:
            if self.cursor_line is None:
                return None
            selected = (self.cursor_line, self.cursor_line)
        first, last = selected
        lines = [strip_escapes(self.spool.read_line(n)) for n in range(first, last + 1)]
        return first + 1, last + 1, lines

    def action_copy(self) -> None:
        """Copy the marked lines, escape sequences removed, to the clipboard (OSC 52)."""
        chosen = self.selected_lines()
        if chosen is None:
            self.notify("mark lines with v first", severity="warning")
            return
        _first, _last, lines = chosen
        self.app.copy_to_clipboard("\n".join(lines) + "\n")
        self.notify(f"copied {len(lines)} line{'s' if len(lines) != 1 else ''}")

    def action_evidence(self) -> None:
        """Post ``LogView.EvidenceRequested`` for the marked lines."""
        chosen = self.selected_lines()
        if chosen is None:
            self.notify("mark lines with v first", severity="warning")
            return
        first, last, lines = chosen
        evidence = LogEvidence(self.host, self.source_label, first, last, tuple(lines))
        self.post_message(self.EvidenceRequested(evidence))
