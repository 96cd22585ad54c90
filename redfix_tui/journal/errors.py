"""The journal's errors: each message is one line for the operator (what failed, what to do)."""

from __future__ import annotations


class JournalError(Exception):
    """A journal could not be read or written; the message says why, for the operator."""


class JournalReadOnlyError(JournalError):
    """The journal (or its directory) may not be written."""


class ConcurrentEditError(JournalError):
    """The entry being edited was changed or removed by someone else since it was loaded."""


class NotRegularFileError(JournalError):
    """The journal path names a directory, FIFO, device or socket: never read or written."""
