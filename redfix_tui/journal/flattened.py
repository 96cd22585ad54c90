"""Recover a journal from a copy whose line breaks were lost (everything on one line).

Such copies come from pasting a journal through a tool that joins lines: every run of line ends
became one space. Entry headings are unambiguous (``## <stamp> — ``); the rest is heuristic:

- a title ends before the first word that looks like the start of a sentence — a capitalised word
  (``Ran``, ``Read``) that does not follow a title separator (``:``, ``—``); a body that starts
  with a list item or bold text is found too. A title that itself contains such a word after a
  plain word is cut short there (its tail moves into the body; no text is lost).
- a paragraph break is put after every sentence end (``.``, ``!``, ``?`` outside code spans, not
  after an abbreviation), so paragraphs of several sentences come back as one paragraph per
  sentence; list items (`` - `` after a ``:`` or a sentence end) go on their own lines; fenced
  blocks get their fences on their own lines (their inner line breaks cannot be recovered).

:func:`unflatten` returns Markdown text; :func:`read_flattened` parses it into a
:class:`~redfix_tui.journal.model.Journal`. :func:`flattened_entries` recognises such a copy
(``journal list`` and the editor say so, and the store refuses to add to it), and
:func:`unflattened_path` names the recovered file ``redfix-tui journal unflatten`` writes beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

from redfix_tui.journal.model import Journal, parse

_HEADING = re.compile(r"(?:^|(?<=\s))## (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z) — ")
_HEADER = re.compile(r"^\s*(# JOURNAL — phase `[^`]*`)\s*")
_SENTENCE_START = re.compile(r"^(?:[A-Z][a-z']|\*\*|- |\d+\. )")
_TITLE_SEPARATORS = {"—", "–", "-", ":", "/", "+", "&", "=", "→"}
_ABBREVIATIONS = {"e.g", "i.e", "vs", "etc", "cf", "approx", "no", "nr", "fig", "mr", "dr", "al"}
_SENTENCE_END = re.compile(r"([.!?])[)\]\"'*_`]*$")


def split_title(segment: str) -> tuple[str, str]:
    """Split the text after an entry's ``## <stamp> — `` into (title, body)."""
    words = segment.split(" ")
    for k in range(1, len(words)):
        prev, word = words[k - 1], words[k]
        if not word or prev in _TITLE_SEPARATORS or prev.endswith(":"):
            continue
        rest = " ".join(words[k:])
        if _SENTENCE_START.match(rest):
            return " ".join(words[:k]).strip(), rest.strip()
    return segment.strip(), ""


def _is_sentence_end(text: str) -> bool:
    match = _SENTENCE_END.search(text)
    if not match:
        return False
    before = text[: match.start()]
    word = before.rsplit(" ", 1)[-1].lstrip("(*_`\"'")
    if word.lower() in _ABBREVIATIONS:
        return False
    return not (match.group(1) == "." and re.fullmatch(r"[A-Z]", word))  # an initial


def restore_paragraphs(body: str) -> str:
    """Put back paragraph breaks, list items and fences in a body that lost its line ends."""
    out = ""
    i, n = 0, len(body)
    in_list = False
    while i < n:
        char = body[i]
        if char == "`":
            run = len(body[i:]) - len(body[i:].lstrip("`"))
            fence = "`" * run
            end = body.find(fence, i + run)
            if end < 0:
                out += body[i:]
                break
            if run >= 3:
                content = body[i + run : end].strip()
                out = out.rstrip(" ") + ("\n\n" if out else "")
                out += f"{fence}\n{content}\n{fence}\n\n"
                in_list = False
                i = end + run
                while i < n and body[i] == " ":
                    i += 1
                continue
            out += body[i : end + run]
            i = end + run
            continue
        if char == " " and out and not out.endswith("\n"):
            after = body[i + 1 :]
            if after.startswith("- ") and (in_list or out.endswith(":") or _is_sentence_end(out)):
                out += "\n" if in_list else "\n\n"
                in_list = True
                i += 1
                continue
            if re.match(r"#{3,6} ", after) or (after[:1].strip() and _is_sentence_end(out)):
                out += "\n\n"
                in_list = False
                i += 1
                continue
        out += char
        i += 1
    return out.strip()


def unflatten(text: str) -> str:
    """Return Markdown journal text recovered from its flattened copy."""
    text = text.strip()
    pieces = _HEADING.split(text)
    lead, rest = pieces[0].strip(), pieces[1:]
    blocks: list[str] = []
    header = _HEADER.match(lead)
    if header:
        blocks.append(header.group(1))
        lead = lead[header.end() :]
    if lead.strip():
        blocks.append(restore_paragraphs(lead.strip()))
    for stamp, segment in zip(rest[::2], rest[1::2], strict=True):
        title, body = split_title(segment.strip())
        blocks.append(f"## {stamp} — {title}")
        if body:
            blocks.append(restore_paragraphs(body))
    return "\n\n".join(blocks) + "\n"


def read_flattened(text: str) -> Journal:
    """Parse a flattened journal copy into a :class:`Journal`."""
    return parse(unflatten(text))


def flattened_entries(text: str) -> int:
    """How many entry headings a journal that lost its line breaks holds; 0 if it did not.

    Flattened: the whole text is one line, and it holds entry headings that do not start it
    (after the header or other text), or more than one. A real journal of one bodiless entry and
    no final newline is one line too, but its heading starts the line and is the only one.
    """
    stripped = text.strip()
    if not stripped or "\n" in stripped:
        return 0
    count = len(_HEADING.findall(stripped))
    if count >= 2 or (count == 1 and not stripped.startswith("## ")):
        return count
    return 0


def unflattened_path(path: Path) -> Path:
    """Where the recovered copy of the flattened ``path`` goes: ``<stem>.unflattened.md``."""
    return path.with_name(f"{path.stem}.unflattened.md")


def flattened_message(path: Path, text: str) -> str | None:
    """One line for the operator when ``text`` (read from ``path``) is flattened, else None."""
    count = flattened_entries(text)
    if not count:
        return None
    return (
        f"{path} has lost its line breaks ({count} entries on one line); run "
        f"`redfix-tui journal unflatten {path}` to write a recovered copy to "
        f"{unflattened_path(path)}"
    )
