"""The phase journal as data: header, entries and untouched text, kept byte for byte.

A journal is a Markdown file::

    # JOURNAL — phase `redfix`

    ## 2026-06-17T23:20Z — Bootstrap

    Body in Markdown ...

:func:`parse` splits it into parts — a :class:`Header`, :class:`Entry` objects and
:class:`RawText` for everything else (text before the header, a preamble, sections whose heading
is not an entry heading) — and :func:`format` joins the parts back so that
``format(parse(text)) == text`` for any text. Editing replaces the raw text of one part only.

The parts and their edits live in :mod:`~redfix_tui.journal.parts`, stamps and heading lines in
:mod:`~redfix_tui.journal.headings`; both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterator

from redfix_tui.journal.headings import (
    ENTRY_RE,
    FENCE_RE,
    HEADER_RE,
    SECTION_RE,
    STAMP_FORMAT,
    clean_title,
    closes_fence,
    detect_newline,
    format_header,
    format_heading,
    format_stamp,
    parse_stamp,
    split_lines,
    strip_eol,
    to_utc_minute,
)
from redfix_tui.journal.parts import Entry, Header, Journal, Part, RawText, number_entries

__all__ = [
    "ENTRY_RE",
    "FENCE_RE",
    "HEADER_RE",
    "SECTION_RE",
    "STAMP_FORMAT",
    "Entry",
    "Header",
    "Journal",
    "Part",
    "RawText",
    "clean_title",
    "detect_newline",
    "format",
    "format_header",
    "format_heading",
    "format_stamp",
    "new_journal_text",
    "parse",
    "parse_stamp",
    "to_utc_minute",
]


def _sections(lines: list[str]) -> Iterator[tuple[int, int]]:
    """Yield (start, end) line ranges, each starting at a level-1/2 heading outside fences."""
    start = 0
    fence: str | None = None
    for i, line in enumerate(lines):
        bare = strip_eol(line)
        match = FENCE_RE.match(bare)
        if fence is not None:
            if closes_fence(match, fence, bare):
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
    lines = split_lines(text)
    parts: list[Part] = []
    header_seen = False
    entry_seen = False
    for start, end in _sections(lines):
        first = strip_eol(lines[start])
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
    return number_entries(parts)


def format(journal: Journal) -> str:
    """Return the journal's text; ``format(parse(text)) == text``."""
    return journal.text


def new_journal_text(phase: str, newline: str = "\n") -> str:
    """Return the text of a new, empty journal for ``phase``."""
    return format_header(phase) + newline
