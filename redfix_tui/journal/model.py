"""The phase journal as data: header, entries and untouched text, kept byte for byte.

A journal is a Markdown file::

    # JOURNAL — phase `redfix`

    ## 2026-06-17T23:20Z — Bootstrap

    Body in Markdown ...

:func:`parse` splits it into parts — a :class:`Header`, :class:`Entry` objects and
:class:`RawText` for everything else (text before the header, a preamble, sections whose heading
is not an entry heading) — and :func:`format` joins the parts back so that
``format(parse(text)) == text`` for any text. Editing replaces the raw text of one part only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

HEADER_RE = re.compile(r"^\ufeff?# JOURNAL — phase `(?P<phase>[^`]*)`[ \t]*$")
"""The first line of a journal (a UTF-8 BOM before it is tolerated and kept)."""
ENTRY_RE = re.compile(r"^## (?P<stamp>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z) — (?P<title>.*?)[ \t]*$")
"""An entry heading: UTC minute, an em dash with a space each side, a title."""
SECTION_RE = re.compile(r"^#{1,2}(?:[ \t]|$)")
"""Any level-1 or level-2 ATX heading: it ends the entry before it."""
FENCE_RE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
STAMP_FORMAT = "%Y-%m-%dT%H:%MZ"


def _lines(text: str) -> list[str]:
    """Split ``text`` into lines that keep their line ends (only ``\\n`` ends a line)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _strip_eol(line: str) -> str:
    """Return ``line`` without its ``\\n`` or ``\\r\\n``."""
    if line.endswith("\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith("\n") else line


def detect_newline(text: str) -> str:
    """Return the line end the text mostly uses (``"\\n"`` for text without any)."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"


def to_utc_minute(when: datetime) -> datetime:
    """Return ``when`` in UTC truncated to the minute (a naive datetime is taken as UTC)."""
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.replace(second=0, microsecond=0)


def format_stamp(when: datetime) -> str:
    """Return the entry stamp for ``when``: ``YYYY-MM-DDTHH:MMZ`` in UTC."""
    return to_utc_minute(when).strftime(STAMP_FORMAT)


def parse_stamp(stamp: str) -> datetime:
    """Parse ``YYYY-MM-DDTHH:MMZ`` into an aware UTC datetime; ``ValueError`` when malformed."""
    return datetime.strptime(stamp.strip(), STAMP_FORMAT).replace(tzinfo=UTC)


def clean_title(title: str) -> str:
    """Collapse whitespace (including line ends) so the title fits on the heading line."""
    return " ".join(title.split())


def format_heading(when: datetime, title: str) -> str:
    """Return the entry heading line (without line end): ``## <stamp> — <title>``."""
    return f"## {format_stamp(when)} — {clean_title(title)}"


def format_header(phase: str) -> str:
    """Return the journal's first line (without line end)."""
    return f"# JOURNAL — phase `{phase}`"


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
        return _strip_eol(self.heading_raw)

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
        whether it ends with a line end (an empty file gets one).
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
        journal = _reindex(parts)
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
        and/or body; every other byte is unchanged. ``KeyError`` if the entry is not there."""
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
        journal = _reindex(parts)
        return journal, journal.entries[entry.index if entry.index >= 0 else 0]

    def _part_index(self, entry: Entry) -> int:
        positions = [i for i, p in enumerate(self.parts) if isinstance(p, Entry)]
        if 0 <= entry.index < len(positions):
            candidate = self.parts[positions[entry.index]]
            if isinstance(candidate, Entry) and candidate.key == entry.key:
                return positions[entry.index]
        matches = [i for i in positions if self.parts[i].key == entry.key]  # type: ignore[union-attr]
        if len(matches) != 1:
            raise KeyError(entry.heading)
        return matches[0]


def _normalize_body(body: str) -> str:
    return body.replace("\r\n", "\n").strip("\n").rstrip()


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


def _reindex(parts: list[Part]) -> Journal:
    out: list[Part] = []
    n = 0
    for part in parts:
        if isinstance(part, Entry):
            part = replace(part, index=n)
            n += 1
        out.append(part)
    return Journal(tuple(out))


def _closes(match: re.Match[str] | None, fence: str, line: str) -> bool:
    """Whether ``line`` (matched by FENCE_RE) closes a block opened by ``fence``."""
    if not match or match["fence"][0] != fence[0] or len(match["fence"]) < len(fence):
        return False
    return not line.strip()[len(match["fence"]) :].strip()


def _sections(lines: list[str]) -> Iterator[tuple[int, int]]:
    """Yield (start, end) line ranges, each starting at a level-1/2 heading outside fences."""
    start = 0
    fence: str | None = None
    for i, line in enumerate(lines):
        bare = _strip_eol(line)
        match = FENCE_RE.match(bare)
        if fence is not None:
            if _closes(match, fence, bare):
                fence = None
            continue
        if match:
            fence = match["fence"]
            continue
        if SECTION_RE.match(bare) and i > start:
            yield start, i
            start = i
    if start < len(lines):
        yield start, len(lines)


def parse(text: str) -> Journal:
    """Parse journal text into parts; never fails and never loses a character."""
    lines = _lines(text)
    parts: list[Part] = []
    header_seen = False
    entry_seen = False
    for start, end in _sections(lines):
        first = _strip_eol(lines[start])
        rest = "".join(lines[start + 1 : end])
        header = HEADER_RE.match(first)
        entry = ENTRY_RE.match(first)
        if header and not header_seen and not entry_seen:
            header_seen = True
            parts.append(Header(phase=header["phase"], raw=lines[start]))
            if rest:
                parts.append(RawText(rest))
            continue
        if entry:
            try:
                stamp = parse_stamp(entry["stamp"])
            except ValueError:
                stamp = None
            if stamp is not None:
                entry_seen = True
                parts.append(Entry(stamp, entry["title"], lines[start], rest))
                continue
        raw = lines[start] + rest
        if parts and isinstance(parts[-1], RawText):
            parts[-1] = RawText(parts[-1].raw + raw)
        else:
            parts.append(RawText(raw))
    return _reindex(parts)


def format(journal: Journal) -> str:
    """Return the journal's text; ``format(parse(text)) == text``."""
    return journal.text


def new_journal_text(phase: str, newline: str = "\n") -> str:
    """Return the text of a new, empty journal for ``phase``."""
    return format_header(phase) + newline
