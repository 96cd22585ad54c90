"""Entry bodies with heading lines in them: escaped when written, so they cannot split the entry.

The choice is **escape**, not refuse. A body line that the parser would take as the start of a new
section — a level-1 or level-2 ATX heading outside a fenced code block, which includes a line that
looks like an entry heading, ``## 2026-01-01T00:00Z — x`` — is written with a backslash in front::

    \\## 2026-01-01T00:00Z — x

Markdown renders ``\\#`` as a literal ``#``, so the line shows as the text that was typed, but it
no longer starts a heading: the entry stays whole and ``journal list`` shows no phantom entry.
Both writers (the editor and ``redfix-tui journal add``) go through
:meth:`~redfix_tui.journal.parts.Journal.append` / ``replace_entry``, which escape. The editor
shows a body unescaped (:func:`unescape_body`) so the operator sees what they typed, and saving
escapes it again to the same bytes. Only text being written is escaped: parsing and formatting an
existing file never change a byte.
"""

from __future__ import annotations

from collections.abc import Callable

from redfix_tui.journal.headings import FENCE_RE, SECTION_RE, closes_fence

ESCAPE = "\\"


def _map_lines(body: str, change: Callable[[str], str]) -> str:
    """Apply ``change`` to each line outside fenced code blocks (``\\n`` line ends)."""
    out: list[str] = []
    fence: str | None = None
    for line in body.split("\n"):
        match = FENCE_RE.match(line)
        if fence is not None:
            if closes_fence(match, fence, line):
                fence = None
            out.append(line)
        elif match:
            fence = match["fence"]
            out.append(line)
        else:
            out.append(change(line))
    return "\n".join(out)


def _escape(line: str) -> str:
    return ESCAPE + line if SECTION_RE.match(line) else line


def _unescape(line: str) -> str:
    if line.startswith(ESCAPE) and SECTION_RE.match(line[len(ESCAPE) :]):
        return line[len(ESCAPE) :]
    return line


def escape_body(body: str) -> str:
    """Return ``body`` with every line that would start a section escaped with a backslash."""
    return _map_lines(body, _escape)


def unescape_body(body: str) -> str:
    """Undo :func:`escape_body`: the body as the operator typed it."""
    return _map_lines(body, _unescape)


def heading_lines(body: str) -> list[str]:
    """The lines of ``body`` that :func:`escape_body` escapes (to tell the operator)."""
    found: list[str] = []

    def keep(line: str) -> str:
        found.append(line)
        return line

    _map_lines(body.replace("\r\n", "\n"), keep)
    return [line for line in found if SECTION_RE.match(line)]
