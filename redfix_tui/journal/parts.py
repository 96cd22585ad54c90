"""The parts a journal is made of — header, entries, untouched text — and edits on them.

A :class:`Journal` is an ordered tuple of parts whose raw texts concatenate to the file; appending
or replacing an entry changes the raw text of that one part only. :mod:`redfix_tui.journal.model`
parses text into these parts and re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from redfix_tui.journal.bodytext import escape_body
from redfix_tui.journal.headings import (
    clean_title,
    detect_newline,
    format_heading,
    strip_eol,
    to_utc_minute,
)


@dataclass(frozen=True)
class Header:
    """The ``# JOURNAL — phase `<phase>``` line."""

    phase: str
    raw: str
    """The line exactly as in the file, line end included."""


@dataclass(frozen=True)
class RawText:
    """Text that is not the header or an entry; kept exactly as it is."""

    raw: str


@dataclass(frozen=True)
class Entry:
    """One journal entry: its heading line and the raw Markdown below it."""

    stamp: datetime
    title: str
    heading_raw: str
    """The heading line exactly as in the file, line end included."""
    body_raw: str
    """Everything up to the next section, exactly as in the file (blank lines included)."""
    index: int = field(default=-1, compare=False)
    """Position among the journal's entries (0-based), set by :func:`parse`."""

    @property
    def heading(self) -> str:
        """The heading line without its line end."""
        return strip_eol(self.heading_raw)

    @property
    def body(self) -> str:
        """The body without surrounding blank lines, with ``\\n`` line ends."""
        return self.body_raw.replace("\r\n", "\n").strip("\n").rstrip() if self.body_raw else ""

    @property
    def raw(self) -> str:
        """Heading and body exactly as in the file."""
        return self.heading_raw + self.body_raw

    @property
    def key(self) -> tuple[str, str]:
        """What identifies this entry's content regardless of the text around it."""
        return (self.heading.rstrip(), self.body)


Part = Header | RawText | Entry


def _raw_of(part: Part) -> str:
    return part.raw


@dataclass(frozen=True)
class Journal:
    """A parsed journal: an ordered list of parts whose raw texts concatenate to the file."""

    parts: tuple[Part, ...]

    @property
    def header(self) -> Header | None:
        """The header line, if the file has one."""
        return next((p for p in self.parts if isinstance(p, Header)), None)

    @property
    def phase(self) -> str | None:
        """The phase named in the header."""
        header = self.header
        return header.phase if header else None

    @property
    def entries(self) -> list[Entry]:
        """The entries in file order."""
        return [p for p in self.parts if isinstance(p, Entry)]

    @property
    def newline(self) -> str:
        """The line end this file uses."""
        return detect_newline(self.text)

    @property
    def text(self) -> str:
        """The journal's text (same as :func:`format`)."""
        return "".join(_raw_of(p) for p in self.parts)

    def find(self, key: tuple[str, str]) -> list[Entry]:
        """Return the entries whose :attr:`Entry.key` equals ``key``."""
        return [e for e in self.entries if e.key == key]

    def append(self, when: datetime, title: str, body: str) -> tuple[Journal, Entry]:
        """Return a journal with a new entry at the end, and that entry.

        One blank line separates it from what comes before; the file keeps its line-end style and
        whether it ends with a line end (an empty file gets one). Body lines that would start a
        section are escaped (:mod:`~redfix_tui.journal.bodytext`), so the entry stays whole.
        """
        text = self.text
        nl = self.newline
        ends_with_newline = text.endswith("\n") or not text
        if not text or text.endswith(nl + nl) or text.endswith("\n\n"):
            sep = ""
        elif text.endswith("\n"):
            sep = nl
        else:
            sep = nl + nl
        eol = nl if ends_with_newline else ""
        content = _normalize_body(body)
        if content:
            heading_raw = format_heading(when, title) + nl
            body_raw = nl + content.replace("\n", nl) + eol
        else:
            heading_raw, body_raw = format_heading(when, title) + eol, ""
        parts = list(self.parts)
        if sep:
            _absorb_separator(parts, sep)
        entry = Entry(
            stamp=to_utc_minute(when),
            title=clean_title(title),
            heading_raw=heading_raw,
            body_raw=body_raw,
        )
        parts.append(entry)
        journal = number_entries(parts)
        return journal, journal.entries[-1]

    def replace_entry(
        self,
        entry: Entry,
        *,
        title: str | None = None,
        body: str | None = None,
        when: datetime | None = None,
    ) -> tuple[Journal, Entry]:
        """Return a journal where ``entry`` (found by position and content) has a new heading
        and/or body; every other byte is unchanged. ``KeyError`` if the entry is not there.
        The new body is escaped as in :meth:`append`."""
        index = self._part_index(entry)
        old = self.parts[index]
        assert isinstance(old, Entry)
        nl = self.newline
        heading_raw = old.heading_raw
        stamp, new_title = old.stamp, old.title
        if title is not None or when is not None:
            stamp = to_utc_minute(when) if when is not None else old.stamp
            new_title = clean_title(title) if title is not None else old.title
            eol = old.heading_raw[len(old.heading) :]
            heading_raw = format_heading(stamp, new_title) + eol
        body_raw = old.body_raw
        if body is not None:
            is_last = index == len(self.parts) - 1
            body_raw = _replace_body(old, body, nl, is_last=is_last)
            if not heading_raw.endswith("\n") and _normalize_body(body):
                heading_raw += nl  # the heading was the last line of a file with no final newline
        new = replace(old, stamp=stamp, title=new_title, heading_raw=heading_raw, body_raw=body_raw)
        parts = list(self.parts)
        parts[index] = new
        journal = number_entries(parts)
        return journal, journal.entries[entry.index if entry.index >= 0 else 0]

    def _part_index(self, entry: Entry) -> int:
        positions = [i for i, p in enumerate(self.parts) if isinstance(p, Entry)]
        if 0 <= entry.index < len(positions):
            candidate = self.parts[positions[entry.index]]
            if isinstance(candidate, Entry) and candidate.key == entry.key:
                return positions[entry.index]
        matches = [i for i in positions if getattr(self.parts[i], "key", None) == entry.key]
        if len(matches) != 1:
            raise KeyError(entry.heading)
        return matches[0]


def _normalize_body(body: str) -> str:
    """A body as written: ``\n`` line ends, no surrounding blank lines, heading lines escaped."""
    return escape_body(body.replace("\r\n", "\n").strip("\n").rstrip())


def _replace_body(old: Entry, body: str, nl: str, *, is_last: bool) -> str:
    """Swap the content of ``old``'s body for ``body``, keeping the blank lines around it."""
    old_raw = old.body_raw
    new = _normalize_body(body).replace("\n", nl)
    if _normalize_body(old_raw):
        content_start = len(old_raw) - len(old_raw.lstrip("\r\n"))
        content_end = len(old_raw.rstrip("\r\n"))
        lead, trail = old_raw[:content_start], old_raw[content_end:]
        if not new:
            return trail
        return lead + new + trail
    if not new:
        return old_raw
    # A bodiless entry: one blank line before the next section; keep the file's final newline.
    trail = nl + nl if not is_last else (nl if old_raw or old.heading_raw.endswith("\n") else "")
    return nl + new + trail


def _absorb_separator(parts: list[Part], sep: str) -> None:
    """Add ``sep`` to the end of the last part (its blank lines belong to what precedes)."""
    if not parts:
        parts.append(RawText(sep))
        return
    last = parts[-1]
    if isinstance(last, Entry):
        if last.body_raw:
            parts[-1] = replace(last, body_raw=last.body_raw + sep)
        else:
            parts[-1] = replace(last, heading_raw=last.heading_raw + sep)
    elif isinstance(last, Header):
        parts.append(RawText(sep))
    else:
        parts[-1] = RawText(last.raw + sep)


def number_entries(parts: list[Part]) -> Journal:
    """Return a journal of ``parts`` with each entry's :attr:`Entry.index` set (0-based)."""
    out: list[Part] = []
    n = 0
    for part in parts:
        if isinstance(part, Entry):
            part = replace(part, index=n)
            n += 1
        out.append(part)
    return Journal(tuple(out))
