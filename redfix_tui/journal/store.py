"""Safe reads and writes of the journal file.

Every change (editor save, ``redfix-tui journal add``) runs under the journal's cross-process lock
(:func:`~redfix_tui.journal.fileops.journal_lock`) and, inside it:

1. re-reads the file (bytes and identity: device, inode, size, mtime_ns);
2. applies the change to what is on disk *now* and writes a fsynced temp file beside it;
3. checks the file is still what step 1 read; if not (an editor that does not take the lock, such
   as vim, saved meanwhile), starts again from 1 — their text is merged, never clobbered;
4. swaps the temp file in (``renameat2(RENAME_EXCHANGE)``) and checks that the file it displaced
   is the one step 1 read. If a lockless save slipped in between 3 and 4, that file is swapped
   back and the merge starts again from 1 (should a second lockless save land in that very
   moment, the file it displaced is kept beside the journal as ``<name>.conflict-…`` and
   :attr:`SaveResult.notes` says so). Where the exchange is not supported, ``os.replace``.

When someone else changed the file since it was loaded:

- a new entry goes after their changes, and their text is kept;
- an edit of an entry they changed or removed is refused with :class:`ConcurrentEditError`
  and nothing is written.

A 0-byte or missing journal gets the ``# JOURNAL — phase`` header on the first change. A journal
that lost its line breaks (:mod:`~redfix_tui.journal.flattened`) is not added to: the message
says to unflatten it first. A path that
is not a regular file (directory, FIFO, device) is refused with :class:`NotRegularFileError`.
A journal without write permission bits, or in a read-only place, raises
:class:`JournalReadOnlyError` (also for root, who could write anyway: the mode is the operator's
intent). In a directory we may not write to, an append to a writable journal falls back to
``O_APPEND`` + fsync (under the lock); any other change is refused.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from redfix_tui.journal.errors import (
    ConcurrentEditError,
    JournalError,
    JournalReadOnlyError,
    NotRegularFileError,
)
from redfix_tui.journal.fileops import (
    Snapshot,
    atomic_write,
    exchange,
    fsync_dir,
    journal_lock,
    read_snapshot,
    unchanged,
    write_all,
    write_temp,
)
from redfix_tui.journal.flattened import flattened_message
from redfix_tui.journal.model import Entry, Journal, new_journal_text, parse

__all__ = [
    "ConcurrentEditError",
    "JournalError",
    "JournalReadOnlyError",
    "JournalStore",
    "NotRegularFileError",
    "SaveResult",
    "atomic_write",
    "decode",
    "encode",
    "fsync_dir",
]

ENCODING = "utf-8"
ERRORS = "surrogateescape"
"""Undecodable bytes survive a load/save round trip unchanged."""
RETRY_SECONDS = 10.0
"""How long merges are retried under the lock before giving up on a file that keeps changing."""
LOCK_SECONDS = 30.0
"""How long a save waits for another redfix-tui's lock on the journal."""

Change = Callable[[Journal], tuple[Journal, Entry | None]]


@dataclass(frozen=True)
class SaveResult:
    """What a save did."""

    journal: Journal
    """The journal as written."""
    entry: Entry
    """The entry appended or edited, as written (None only inside :meth:`JournalStore.create`)."""
    merged: bool
    """True when the file had been changed by someone else and their changes were kept."""
    notes: tuple[str, ...] = ()
    """One line each about something the operator should look at (a conflict copy kept)."""


def decode(data: bytes) -> str:
    """Decode journal bytes (invalid UTF-8 kept via surrogate escapes)."""
    return data.decode(ENCODING, ERRORS)


def encode(text: str) -> bytes:
    """Encode journal text back to exactly the bytes it came from."""
    return text.encode(ENCODING, ERRORS)


def _no_write_bits(mode: int) -> bool:
    return not mode & 0o222


class JournalStore:
    """Loads a journal and saves appends and edits safely (see the module docstring)."""

    def __init__(self, path: Path, phase: str) -> None:
        """``phase`` names the header written when the file is missing or empty."""
        self.path = Path(path)
        self.phase = phase
        self._base: str | None = None
        self._journal: Journal | None = None
        self._notes: list[str] = []

    @property
    def real_path(self) -> Path:
        """The file actually written (symlinks resolved, so a link stays a link)."""
        return Path(os.path.realpath(self.path))

    @property
    def journal(self) -> Journal:
        """The journal as last loaded or saved (loads on first use)."""
        if self._journal is None:
            return self.load()
        return self._journal

    def _snapshot(self) -> Snapshot | None:
        try:
            return read_snapshot(self.real_path, self.path)
        except PermissionError as exc:
            raise JournalReadOnlyError(
                f"cannot read journal {self.path}: permission denied"
            ) from exc
        except OSError as exc:
            raise JournalError(f"cannot read journal {self.path}: {exc.strerror or exc}") from exc

    def _read(self) -> str | None:
        snapshot = self._snapshot()
        return decode(snapshot.data) if snapshot is not None else None

    def _parse(self, text: str | None) -> Journal:
        """A missing or 0-byte journal reads as a new one with just its header."""
        return parse(text or new_journal_text(self.phase))

    def load(self) -> Journal:
        """Read the journal; a missing or empty file reads as a new journal (header only)."""
        text = self._read()
        self._base = text
        self._journal = self._parse(text)
        return self._journal

    def changed_on_disk(self) -> bool:
        """Whether the file differs from what was last loaded or saved."""
        return self._read() != self._base

    def create(self) -> Journal:
        """Create the file with its header if it is missing or empty; return the journal."""
        if not self._read():
            self._commit(lambda journal: (journal, None))
        return self.load()

    def append(self, title: str, body: str, *, when: datetime) -> SaveResult:
        """Append an entry stamped ``when`` (UTC minute) after whatever the file holds now.

        Written once: when a save has to be merged again (another program saved meanwhile) and
        the file now holds one more copy of this very entry than at the first read, a lockless
        editor saved a buffer that already held it (it read the file while our write was in
        place), so it is not appended a second time.
        """
        first_count: list[int] = []

        def change(journal: Journal) -> tuple[Journal, Entry]:
            new_journal, entry = journal.append(when, title, body)
            ours = entry.body.rstrip()  # an editor may have added lines after it
            copies = [
                e
                for e in journal.entries
                if e.heading.rstrip() == entry.heading.rstrip() and e.body.startswith(ours)
            ]
            if not first_count:
                first_count.append(len(copies))
            elif len(copies) > first_count[0]:
                return journal, copies[-1]
            return new_journal, entry

        return self._commit(change)

    def edit(
        self,
        entry: Entry,
        *,
        title: str | None = None,
        body: str | None = None,
        when: datetime | None = None,
    ) -> SaveResult:
        """Replace ``entry``'s heading and/or body; refuse if it changed on disk since loading."""

        def change(journal: Journal) -> tuple[Journal, Entry]:
            found = journal.find(entry.key)
            if not found:
                raise ConcurrentEditError(
                    f"entry “{entry.heading}” was changed or removed in {self.path} since it was "
                    "loaded; your edit was not written (your draft is kept)"
                )
            try:
                return journal.replace_entry(entry, title=title, body=body, when=when)
            except KeyError:
                raise ConcurrentEditError(
                    f"entry “{entry.heading}” now appears more than once in {self.path}; "
                    "your edit was not written (your draft is kept)"
                ) from None

        return self._commit(change)

    def _commit(self, change: Change) -> SaveResult:
        """Lock, then re-read, merge and write until the write lands on what was merged."""
        try:
            self._notes = []
            with journal_lock(self.real_path, timeout=LOCK_SECONDS):
                deadline = time.monotonic() + RETRY_SECONDS
                while time.monotonic() < deadline:
                    snapshot = self._snapshot()
                    current = decode(snapshot.data) if snapshot is not None else None
                    if current and (flattened := flattened_message(self.path, current)):
                        raise JournalError(f"{flattened} first; nothing written")
                    new_journal, entry = change(self._parse(current))
                    if self._write(snapshot, new_journal.text):
                        merged = current != self._base
                        self._base = new_journal.text
                        self._journal = new_journal
                        notes = tuple(self._notes)
                        return SaveResult(
                            new_journal,
                            entry,  # type: ignore[arg-type]  # None only for create()
                            merged,
                            notes,
                        )
        except PermissionError as exc:
            raise JournalReadOnlyError(f"cannot write journal {self.path}: {exc.strerror}") from exc
        except OSError as exc:
            if exc.errno == errno.EROFS:
                raise JournalReadOnlyError(
                    f"journal {self.path} is on a read-only filesystem"
                ) from exc
            raise JournalError(f"cannot write journal {self.path}: {exc}") from exc
        kept = "".join(f"; {note}" for note in self._notes)
        raise JournalError(f"{self.path} keeps changing under us; nothing written, try again{kept}")

    def _write(self, snapshot: Snapshot | None, text: str) -> bool:
        """Write ``text`` if the file still is ``snapshot``; False if it changed meanwhile."""
        real = self.real_path
        try:
            st = os.stat(real) if snapshot is not None else None
        except FileNotFoundError:
            return False  # removed since the re-read: merge again
        if st is not None and (_no_write_bits(st.st_mode) or not os.access(real, os.W_OK)):
            raise JournalReadOnlyError(f"journal {self.path} is read-only; nothing written")
        parent = real.parent
        data = encode(text)
        if not os.access(parent, os.W_OK) or _no_write_bits(parent.stat().st_mode):
            return self._append_in_place(snapshot, data)
        mode = st.st_mode & 0o7777 if st is not None else None
        owner = (st.st_uid, st.st_gid) if st is not None else None
        tmp, ours = write_temp(real, data, mode=mode, owner=owner)
        try:
            if not unchanged(real, snapshot):
                return False
            if snapshot is None:
                return _create_exclusive(tmp, real)
            if not exchange(tmp, real):
                os.replace(tmp, real)  # no exchange here: the check above is the guard
                return True
            # ``tmp`` now names the file we displaced: it must be the one we merged into.
            if unchanged(tmp, snapshot):
                return True
            kept = self._put_back(tmp, real, ours)
            if kept is not None:
                self._notes.append(
                    f"another program saved {self.path} twice while we wrote it; a version it "
                    f"saved is kept in {kept}: compare it with the journal"
                )
            return False
        finally:
            tmp.unlink(missing_ok=True)
            fsync_dir(parent)

    def _put_back(self, theirs: Path, real: Path, ours: Snapshot) -> Path | None:
        """A lockless save landed between our check and our swap: swap their file back.

        Returns None when the journal is back as it was before our swap (the caller merges
        again). When yet another save replaced ours in that moment, the file it displaced is
        kept beside the journal (never dropped) and its path returned.
        """
        if not exchange(theirs, real):
            raise JournalError(f"cannot put back the version of {self.path} saved meanwhile")
        if unchanged(theirs, ours):
            return None
        keep = real.with_name(f"{real.name}.conflict-{os.getpid()}-{os.urandom(3).hex()}")
        os.link(theirs, keep)
        return keep

    def _append_in_place(self, snapshot: Snapshot | None, data: bytes) -> bool:
        """Fallback when the directory is not writable: O_APPEND the new tail, then fsync."""
        if snapshot is None or not data.startswith(snapshot.data):
            raise JournalReadOnlyError(
                f"directory {self.real_path.parent} is not writable, so {self.path} can only be "
                "appended to; nothing written"
            )
        fd = os.open(self.real_path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        try:
            if not unchanged(self.real_path, snapshot):
                return False
            write_all(fd, data[len(snapshot.data) :])
            os.fsync(fd)
        finally:
            os.close(fd)
        return True


def _create_exclusive(tmp: Path, real: Path) -> bool:
    """Give ``tmp`` the name ``real`` only if nothing has that name yet (hard link, then unlink)."""
    try:
        os.link(tmp, real)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP):
            raise
        if os.path.lexists(real):  # no hard links here: the check above is the guard
            return False
        os.replace(tmp, real)
    return True
