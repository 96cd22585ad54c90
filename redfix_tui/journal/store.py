"""Safe reads and writes of the journal file.

Every save re-reads the file, applies the change to what is on disk *now*, writes a temporary
file in the same directory, fsyncs it, renames it over the journal and fsyncs the directory.
Permissions (and, when allowed, ownership) are preserved; the file's line ends and whether it ends
with a line end are kept by the model.

When someone else changed the file since it was loaded (vim in the next pane):

- a new entry goes after their changes, and their text is kept;
- an edit of an entry they changed or removed is refused with :class:`ConcurrentEditError`
  and nothing is written.

A journal without write permission bits, or in a read-only place, raises
:class:`JournalReadOnlyError` (also for root, who could write anyway: the mode is the operator's
intent). In a directory we may not write to, an append to a writable journal falls back to
``O_APPEND`` + fsync; any other change is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from redfix_tui.journal.model import Entry, Journal, new_journal_text, parse

ENCODING = "utf-8"
ERRORS = "surrogateescape"
"""Undecodable bytes survive a load/save round trip unchanged."""
_RETRIES = 3


class JournalError(Exception):
    """A journal could not be read or written; the message says why, for the operator."""


class JournalReadOnlyError(JournalError):
    """The journal (or its directory) may not be written."""


class ConcurrentEditError(JournalError):
    """The entry being edited was changed or removed by someone else since it was loaded."""


@dataclass(frozen=True)
class SaveResult:
    """What a save did."""

    journal: Journal
    """The journal as written."""
    entry: Entry
    """The entry appended or edited, as written."""
    merged: bool
    """True when the file had been changed by someone else and their changes were kept."""


def decode(data: bytes) -> str:
    """Decode journal bytes (invalid UTF-8 kept via surrogate escapes)."""
    return data.decode(ENCODING, ERRORS)


def encode(text: str) -> bytes:
    """Encode journal text back to exactly the bytes it came from."""
    return text.encode(ENCODING, ERRORS)


def _no_write_bits(mode: int) -> bool:
    return not mode & 0o222


def fsync_dir(directory: Path) -> None:
    """fsync a directory so a rename in it is durable (ignored where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(
    path: Path, data: bytes, *, mode: int | None = None, owner: tuple[int, int] | None = None
) -> None:
    """Write ``data`` to ``path`` via a fsynced temp file in the same directory and a rename.

    ``mode`` (permission bits) is applied to the new file; without it the umask decides.
    ``owner`` (uid, gid) is applied when allowed (silently kept as ours otherwise).
    Raises ``OSError`` on failure, leaving ``path`` untouched and no temp file behind.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else 0o600)
    try:
        try:
            if owner is not None:
                with contextlib.suppress(OSError):
                    os.fchown(fd, *owner)
            if mode is not None:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


class JournalStore:
    """Loads a journal and saves appends and edits safely (see the module docstring)."""

    def __init__(self, path: Path, phase: str) -> None:
        """``phase`` names the header written when the file has to be created."""
        self.path = Path(path)
        self.phase = phase
        self._base: str | None = None
        self._journal: Journal | None = None

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

    def _read(self) -> str | None:
        try:
            return decode(self.real_path.read_bytes())
        except FileNotFoundError:
            return None
        except PermissionError as exc:
            raise JournalReadOnlyError(
                f"cannot read journal {self.path}: permission denied"
            ) from exc
        except IsADirectoryError as exc:
            raise JournalError(f"journal path {self.path} is a directory") from exc

    def load(self) -> Journal:
        """Read the journal; a missing file reads as a new journal with just its header."""
        text = self._read()
        self._base = text
        self._journal = parse(text if text is not None else new_journal_text(self.phase))
        return self._journal

    def changed_on_disk(self) -> bool:
        """Whether the file differs from what was last loaded or saved."""
        return self._read() != self._base

    def create(self) -> Journal:
        """Create the file with its header if it does not exist; return the journal."""
        if self._read() is None:
            self._write(None, new_journal_text(self.phase))
        return self.load()

    def append(self, title: str, body: str, *, when: datetime) -> SaveResult:
        """Append an entry stamped ``when`` (UTC minute) after whatever the file holds now."""
        return self._commit(lambda journal: journal.append(when, title, body))

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

    def _commit(self, change: Callable[[Journal], tuple[Journal, Entry]]) -> SaveResult:
        for _ in range(_RETRIES):
            current = self._read()
            journal = parse(current if current is not None else new_journal_text(self.phase))
            new_journal, entry = change(journal)
            if self._write(current, new_journal.text):
                merged = current != self._base
                self._base = new_journal.text
                self._journal = new_journal
                return SaveResult(new_journal, entry, merged)
        raise JournalError(f"{self.path} keeps changing under us; nothing written, try again")

    def _write(self, expected: str | None, text: str) -> bool:
        """Write ``text`` if the file still holds ``expected``; False if it changed meanwhile."""
        real = self.real_path
        try:
            st = real.stat()
        except FileNotFoundError:
            st = None
        if st is not None and (_no_write_bits(st.st_mode) or not os.access(real, os.W_OK)):
            raise JournalReadOnlyError(f"journal {self.path} is read-only; nothing written")
        parent = real.parent
        dir_writable = os.access(parent, os.W_OK) and not _no_write_bits(parent.stat().st_mode)
        data = encode(text)
        try:
            if not dir_writable:
                return self._append_in_place(expected, text, data)
            mode = st.st_mode & 0o7777 if st is not None else None
            if self._read() != expected:
                return False
            owner = (st.st_uid, st.st_gid) if st is not None else None
            atomic_write(real, data, mode=mode, owner=owner)
        except PermissionError as exc:
            raise JournalReadOnlyError(f"cannot write journal {self.path}: {exc.strerror}") from exc
        except OSError as exc:
            if exc.errno == errno.EROFS:
                raise JournalReadOnlyError(
                    f"journal {self.path} is on a read-only filesystem"
                ) from exc
            raise JournalError(f"cannot write journal {self.path}: {exc}") from exc
        return True

    def _append_in_place(self, expected: str | None, text: str, data: bytes) -> bool:
        """Fallback when the directory is not writable: O_APPEND the new tail, then fsync."""
        if expected is None or not text.startswith(expected):
            raise JournalReadOnlyError(
                f"directory {self.real_path.parent} is not writable, so {self.path} can only be "
                "appended to; nothing written"
            )
        tail = data[len(encode(expected)) :]
        fd = os.open(self.real_path, os.O_WRONLY | os.O_APPEND)
        try:
            if os.fstat(fd).st_size != len(encode(expected)) or self._read() != expected:
                return False
            os.write(fd, tail)
            os.fsync(fd)
        finally:
            os.close(fd)
        return True
