"""Drafts: the entry being written, saved often so a crash loses at most a few seconds.

Drafts live under the XDG state directory, not beside the journal, so they work when the
journal's directory is read-only and never litter a checked-in directory::

    $XDG_STATE_HOME/redfix-tui/drafts/<journal name>.<hash of its real path>.draft.json

(``$XDG_STATE_HOME`` defaults to ``~/.local/state``). One draft per journal. Writes are atomic
(temp file, fsync, rename), so a ``kill -9`` leaves either the previous draft or the new one.
A draft that cannot be parsed is moved aside (``.corrupt``), never deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from redfix_tui.journal.fileops import atomic_write

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
        """Remove the draft (after a successful save or an explicit discard)."""
        self.path.unlink(missing_ok=True)
