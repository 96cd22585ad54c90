"""The journal editor's entry form: stamp, title, live heading, body and status line.

A mixin for :class:`~redfix_tui.widgets.journal_editor.JournalEditor`, kept apart so the editor
module stays small. The heading follows the clock minute by minute until the operator types a
stamp of their own (then the stamp is fixed and the editor gets the ``-fixed-stamp`` class).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from redfix_tui.evidence import Evidence
from redfix_tui.journal.bodytext import unescape_body
from redfix_tui.journal.model import format_heading, format_stamp, parse_stamp

if TYPE_CHECKING:
    from textual.widgets import Input, Static, TextArea

    from redfix_tui.journal.model import Entry


def body_language() -> str | None:
    """``markdown`` when the TextArea can highlight it, else None (plain text)."""
    try:
        from textual._tree_sitter import get_language

        return "markdown" if get_language("markdown") is not None else None
    except Exception:  # tree-sitter absent or broken: plain text is fine
        return None


class EntryForm:
    """Fill the form, keep its heading current, report status; know whether it is dirty.

    The host is a widget that creates the fields, has an ``editing_heading`` reactive and a
    ``save_draft`` method (see :class:`~redfix_tui.widgets.journal_autosave.DraftAutosave`).
    """

    editing_heading: str | None
    _now: Callable[[], datetime]
    _stamp_input: Input
    _title_input: Input
    _body: TextArea
    _heading: Static
    _status: Static
    _editing: Entry | None
    _baseline: tuple[str, str]
    _live_stamp: str
    _fixed_stamp: str | None

    def insert_evidence(self, evidence: Evidence) -> None:
        """Insert ``evidence.to_markdown()`` at the body's cursor, as its own paragraph."""
        text = evidence.to_markdown()
        row, column = self._body.cursor_location
        line = self._body.document.get_line(row)
        before, after = line[:column], line[column:]
        prefix = ""
        if before.strip():
            prefix = "\n\n"
        elif row > 0 and self._body.document.get_line(row - 1).strip():
            prefix = "\n"
        suffix = "\n" if after.strip() else ""
        self._body.insert(prefix + text + suffix, maintain_selection_offset=False)
        self._body.focus()
        self.save_draft()  # type: ignore[attr-defined]

    @property
    def is_dirty(self) -> bool:
        """Whether the title or body differ from what was opened (unsaved text)."""
        return (self._title_input.value, self._body.text) != self._baseline

    def refresh_clock(self) -> None:
        """Update the live heading minute from the clock (the timer calls this every second)."""
        self._update_live_stamp()

    def _update_live_stamp(self, *, force: bool = False) -> None:
        stamp = format_stamp(self._now())
        if stamp == self._live_stamp and not force:
            return
        self._live_stamp = stamp
        if self._fixed_stamp is None:
            self._stamp_input.value = stamp
        self._refresh_heading()

    def _stamp_edited(self, text: str) -> None:
        """The operator changed the stamp field: fix the stamp, or go back to the clock."""
        value = text.strip()
        if value == self._live_stamp and self._fixed_stamp is None:
            return  # our own live update
        self._fixed_stamp = value or None
        if not value:
            self._update_live_stamp(force=True)
        self.set_class(self._fixed_stamp is not None, "-fixed-stamp")  # type: ignore[attr-defined]
        self._refresh_heading()

    def _current_stamp(self) -> datetime | None:
        try:
            return parse_stamp(self._fixed_stamp or self._live_stamp)
        except ValueError:
            return None

    def _refresh_heading(self) -> None:
        when = self._current_stamp()
        title = self._title_input.value or "…"
        if when is None:
            self._heading.update(Text(f"## {self._fixed_stamp}? — {title}", style="bold red"))
        else:
            self._heading.update(format_heading(when, title))

    def _set_status(self, text: str) -> None:
        self.remove_class("-error")  # type: ignore[attr-defined]
        self._status.update(text)

    def _error(self, text: str) -> None:
        self.add_class("-error")  # type: ignore[attr-defined]
        self._status.update(text)
        self.notify(text, title="Journal", severity="error", timeout=10, markup=False)  # type: ignore[attr-defined]

    def _fill(
        self,
        title: str,
        body: str,
        stamp: str | None,
        editing: Entry | None,
        *,
        baseline: tuple[str, str],
    ) -> None:
        """Put an entry (or a blank one) into the form; ``baseline`` is its unchanged text."""
        self._editing = editing
        self.editing_heading = editing.heading if editing else None
        self._fixed_stamp = stamp
        self._title_input.value = title
        self._body.load_text(body)
        self._stamp_input.value = stamp if stamp is not None else self._live_stamp
        self.set_class(stamp is not None, "-fixed-stamp")  # type: ignore[attr-defined]
        self._baseline = baseline
        self._refresh_heading()

    def _start_new(self) -> None:
        self._fill("", "", None, None, baseline=("", ""))
        self._update_live_stamp(force=True)
        self.save_draft()  # type: ignore[attr-defined]
        self._set_status("New entry")
        self._title_input.focus()

    def _start_edit(self, entry: Entry) -> None:
        stamp = format_stamp(entry.stamp)
        body = unescape_body(entry.body)  # as typed; saving escapes it to the same bytes again
        self._fill(entry.title, body, stamp, entry, baseline=(entry.title, body))
        self._set_status(f"Editing {entry.heading}")
        self._body.focus()
