"""Draft autosave and restore for the journal editor.

A mixin for :class:`~redfix_tui.widgets.journal_editor.JournalEditor`, kept apart so the editor
module stays small. The draft is written only when it changed, and not at all until the offer to
restore a draft left by a crash has been answered (so autosave cannot clobber it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from redfix_tui.journal.bodytext import unescape_body
from redfix_tui.journal.drafts import Draft, DraftStore
from redfix_tui.widgets.journal_dialogs import ConfirmScreen

if TYPE_CHECKING:
    from textual.widgets import Input, TextArea

    from redfix_tui.journal.model import Entry, Journal

DraftState = tuple[str, str, str | None, str | None]
"""Title, body, fixed stamp and heading being edited: what the last written draft held."""


class DraftAutosave:
    """Write the editor's draft when it changes; offer to restore one at start-up.

    The host provides the fields, the editing state and ``_fill``/``_set_status``/``_error``.
    """

    drafts: DraftStore
    _draft_ready: bool
    _last_draft: DraftState | None
    _now: Callable[[], datetime]
    _title_input: Input
    _body: TextArea
    _fixed_stamp: str | None
    _editing: Entry | None
    _baseline: tuple[str, str]
    _journal: Journal

    def save_draft(self) -> None:
        """Write the draft now if it changed (an empty draft removes the file)."""
        if not self._draft_ready:
            return
        title, body = self._title_input.value, self._body.text
        editing = self._editing
        state = (title, body, self._fixed_stamp, editing.heading if editing else None)
        if state == self._last_draft:
            return
        dirty = (title, body) != self._baseline
        draft = Draft(
            title=title if dirty else "",
            body=body if dirty else "",
            stamp=self._fixed_stamp,
            editing_heading=editing.key[0] if editing else None,
            editing_body=editing.key[1] if editing else None,
        )
        try:
            self.drafts.save(draft, now=self._now())
        except OSError as exc:
            self._error(f"Could not save the draft to {self.drafts.path}: {exc.strerror or exc}")  # type: ignore[attr-defined]
            return
        self._last_draft = state

    def _forget_draft(self) -> None:
        """Delete the draft file (the text was saved or discarded)."""
        self.drafts.delete()
        self._last_draft = None

    def _offer_restore(self, draft: Draft) -> None:
        what = f"“{draft.title}”" if draft.title.strip() else "(untitled)"
        lines = len(draft.body.splitlines())
        kind = "an edit of an entry" if draft.editing_key else "a new entry"
        question = (
            f"A draft of {kind} was left unsaved ({draft.saved_at}): {what}, {lines} lines. "
            "Restore it?"
        )
        screen = ConfirmScreen(question, yes="Restore", no="Discard draft", escape_result=True)
        self.app.push_screen(screen, lambda yes: self._answer_restore(draft, bool(yes)))  # type: ignore[attr-defined]

    def _answer_restore(self, draft: Draft, restore: bool) -> None:
        self._draft_ready = True
        if not restore:
            self.drafts.delete()
            return
        editing = None
        if draft.editing_key is not None:
            found = self._journal.find(draft.editing_key)
            if len(found) == 1:
                editing = found[0]
            else:
                self.notify(  # type: ignore[attr-defined]
                    "The entry the draft was editing changed or is gone; restored as a new entry.",
                    severity="warning",
                    timeout=10,
                )
        self._fill(draft.title, draft.body, draft.stamp, editing, baseline=("", ""))  # type: ignore[attr-defined]
        if editing is not None:
            self._baseline = (editing.title, unescape_body(editing.body))
        self._set_status("Draft restored" + (f" · editing {editing.heading}" if editing else ""))  # type: ignore[attr-defined]
