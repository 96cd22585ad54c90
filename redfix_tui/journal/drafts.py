"""Drafts: the entry being written, saved often so a crash loses at most a few seconds.

Drafts live under the XDG state directory, not beside the journal, so they work when the
journal's directory is read-only and never litter a checked-in directory::

    $XDG_STATE_HOME/redfix-tui/drafts/<journal name>.<hash of its real path>.draft.json

(``$XDG_STATE_HOME`` defaults to ``~/.local/state``). One draft per journal. Writes are atomic
(temp file, fsync, rename), so a ``kill -9`` leaves either the previous draft or the new one.
A draft that cannot be parsed is moved aside (``.corrupt``), never deleted.

:class:`DraftAutosave` is the editor's autosave logic without the widget: it is handed the form's
:class:`FormState`, writes a draft only when that changed, and holds every write back until the
offer to restore a draft left by a crash has been answered (so autosave cannot clobber it).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from redfix_tui.journal.bodytext import unescape_body
from redfix_tui.journal.fileops import atomic_write
from redfix_tui.journal.parts import Entry, Journal

DRAFT_VERSION = 1


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/redfix-tui`` (``~/.local/state/redfix-tui`` when unset)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "redfix-tui"


@dataclass(frozen=True)
class Draft:
    """An unsaved entry."""

    title: str = ""
    body: str = ""
    stamp: str | None = None
    """A stamp the operator fixed (``YYYY-MM-DDTHH:MMZ``); None means "now, at save"."""
    editing_heading: str | None = None
    """Heading of the entry being edited (None for a new entry)."""
    editing_body: str | None = None
    """Body of the entry being edited as it was loaded (to find it again and detect changes)."""
    saved_at: str = ""
    """When the draft was written (ISO 8601, UTC)."""

    @property
    def is_empty(self) -> bool:
        """True when there is nothing worth keeping."""
        return not (self.title.strip() or self.body.strip())

    @property
    def editing_key(self) -> tuple[str, str] | None:
        """The :attr:`Entry.key` of the entry being edited, if any."""
        if self.editing_heading is None:
            return None
        return (self.editing_heading, self.editing_body or "")


class DraftStore:
    """Saves, loads and deletes the draft belonging to one journal."""

    def __init__(self, journal_path: Path, *, state_dir: Path | None = None) -> None:
        """``state_dir`` overrides :func:`default_state_dir` (tests, config)."""
        self.journal_path = Path(journal_path)
        real = os.path.realpath(self.journal_path)
        digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        root = (state_dir or default_state_dir()) / "drafts"
        self.path = root / f"{self.journal_path.name}.{digest}.draft.json"

    def save(self, draft: Draft, *, now: datetime | None = None) -> Draft:
        """Write ``draft`` atomically (an empty draft deletes the file); return what was saved."""
        if draft.is_empty:
            self.delete()
            return draft
        stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
        saved = Draft(**{**asdict(draft), "saved_at": stamp})
        payload = {"version": DRAFT_VERSION, "journal": str(self.journal_path), **asdict(saved)}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8", "surrogatepass")
        atomic_write(self.path, data, mode=0o600)
        return saved

    def load(self) -> Draft | None:
        """Return the saved draft, or None when there is none (or it was unreadable)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            payload = json.loads(raw.decode("utf-8", "surrogatepass"))
            fields = {k: payload[k] for k in Draft.__dataclass_fields__ if k in payload}
            draft = Draft(**fields)
            if not isinstance(draft.title, str) or not isinstance(draft.body, str):
                raise TypeError("title and body must be strings")
        except (ValueError, TypeError, KeyError, AttributeError):
            os.replace(self.path, self.path.with_suffix(".corrupt"))
            return None
        return None if draft.is_empty else draft

    def delete(self) -> None:
        """Remove the draft (after a successful save or an explicit discard); none is fine."""
        try:
            self.path.unlink(missing_ok=True)
        except NotADirectoryError:  # a file where the drafts directory would be: no draft
            return


@dataclass(frozen=True)
class FormState:
    """What the entry form holds: the text typed, a fixed stamp and the entry being edited."""

    title: str
    body: str
    stamp: str | None = None
    """The stamp the operator fixed; None while the heading follows the clock."""
    editing: Entry | None = None
    """The entry being edited (None for a new entry)."""
    baseline: tuple[str, str] = ("", "")
    """Title and body as opened: text equal to it is not worth a draft."""

    @property
    def dirty(self) -> bool:
        """Whether the title or body differ from what was opened (unsaved text)."""
        return (self.title, self.body) != self.baseline

    @property
    def key(self) -> tuple[str, str, str | None, str | None]:
        """What a written draft is compared by: title, body, stamp, heading being edited."""
        heading = self.editing.heading if self.editing else None
        return (self.title, self.body, self.stamp, heading)

    def to_draft(self) -> Draft:
        """The draft to write (an untouched entry being edited keeps only which entry it is)."""
        editing = self.editing
        return Draft(
            title=self.title if self.dirty else "",
            body=self.body if self.dirty else "",
            stamp=self.stamp,
            editing_heading=editing.key[0] if editing else None,
            editing_body=editing.key[1] if editing else None,
        )


@dataclass(frozen=True)
class Restored:
    """A draft the operator chose to restore, resolved against the journal."""

    draft: Draft
    editing: Entry | None
    """The entry the draft was editing, found again (None: a new entry, or the entry is lost)."""
    lost_entry: bool
    """True when the draft edited an entry that changed or is gone (restored as a new entry)."""

    @property
    def state(self) -> FormState:
        """The form state to put back: the draft's text, over the entry it was editing."""
        editing = self.editing
        baseline = (editing.title, unescape_body(editing.body)) if editing else ("", "")
        return FormState(self.draft.title, self.draft.body, self.draft.stamp, editing, baseline)


class DraftAutosave:
    """Write a form's draft when it changed; hold writes back until the restore offer is answered.

    Textual-free: the editor hands it :class:`FormState` snapshots (from a timer and on every exit
    path) and shows the :class:`OSError` a failed write raises.
    """

    def __init__(self, store: DraftStore, *, now: Callable[[], datetime]) -> None:
        """``now`` stamps each write (``saved_at``)."""
        self.store = store
        self._now = now
        self._last: tuple[str, str, str | None, str | None] | None = None
        self.ready = False
        """Whether writes are allowed (False until the restore offer has been answered)."""
        self.due = False
        """Whether the form changed since the last write (the timer writes only then)."""

    def pending(self) -> Draft | None:
        """The draft a crash left, to offer for restore; None starts autosave at once.

        Raises :class:`OSError` when the draft cannot be read; autosave then stays off, so it
        cannot overwrite a draft nobody has seen.
        """
        draft = self.store.load()
        if draft is None:
            self.ready = True
        return draft

    def note_change(self) -> None:
        """The form changed: the next timer tick writes the draft."""
        self.due = True

    def save(self, state: FormState) -> bool:
        """Write ``state`` as the draft if it changed (empty removes it); True when written.

        Raises :class:`OSError` when the draft cannot be written (it is tried again next time).
        """
        if not self.ready:
            return False
        if state.key == self._last:
            self.due = False
            return False
        self.store.save(state.to_draft(), now=self._now())
        self._last = state.key
        self.due = False
        return True

    def forget(self) -> None:
        """Delete the draft (its text was saved or discarded); raises :class:`OSError`."""
        self._last = None
        self.due = False
        self.store.delete()

    def answer(self, draft: Draft, restore: bool, journal: Journal) -> Restored | None:
        """The operator answered the restore offer; autosave starts.

        Declined: the draft is deleted (:class:`OSError` when it cannot be) and None returned.
        Accepted: the entry it was editing is looked up in ``journal`` (it must be there exactly
        once, unchanged).
        """
        self.ready = True
        if not restore:
            self.store.delete()
            return None
        key = draft.editing_key
        if key is None:
            return Restored(draft, None, lost_entry=False)
        found = journal.find(key)
        if len(found) == 1:
            return Restored(draft, found[0], lost_entry=False)
        return Restored(draft, None, lost_entry=True)
