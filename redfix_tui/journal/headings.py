"""Line-level text of a journal: UTC-minute stamps, header and entry heading lines, line ends.

The helpers :mod:`redfix_tui.journal.model` builds on; re-exported from there, so
``from redfix_tui.journal.model import format_heading`` keeps working.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

HEADER_RE = re.compile(r"^\ufeff?# JOURNAL — phase `(?P<phase>[^`]*)`[ \t]*$")
"""The first line of a journal (a UTF-8 BOM before it is tolerated and kept)."""
ENTRY_RE = re.compile(r"^## (?P<stamp>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z) — (?P<title>.*?)[ \t]*$")
"""An entry heading: UTC minute, an em dash with a space each side, a title."""
STAMP_FORMAT = "%Y-%m-%dT%H:%MZ"
SECTION_RE = re.compile(r"^#{1,2}(?:[ \t]|$)")
"""Any level-1 or level-2 ATX heading: it ends the entry before it."""
FENCE_RE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
"""The opening (or closing) line of a fenced code block; headings inside one do not count."""


def closes_fence(match: re.Match[str] | None, fence: str, line: str) -> bool:
    """Whether ``line`` (matched by FENCE_RE) closes a block opened by ``fence``."""
    if not match or match["fence"][0] != fence[0] or len(match["fence"]) < len(fence):
        return False
    return not line.strip()[len(match["fence"]) :].strip()


def split_lines(text: str) -> list[str]:
    """Split ``text`` into lines that keep their line ends (only ``\\n`` ends a line)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def strip_eol(line: str) -> str:
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
