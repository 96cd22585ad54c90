"""Make raw log text safe to show in a terminal: keep SGR colours, neutralise everything else.

A log is untrusted input. Printed verbatim, it could set the clipboard (OSC 52), retitle the
window, move the cursor, erase the screen or ring the bell. :func:`sanitize` keeps only SGR
("Select Graphic Rendition", ``ESC [ … m``) colour codes and removes every other escape or
control sequence:

* CSI sequences other than SGR (cursor moves, erase, scroll regions, mode changes), 7- and 8-bit;
* OSC (titles, OSC 52 clipboard, hyperlinks), DCS, SOS, PM and APC strings, terminated by BEL or
  ST or unterminated (then up to the end of the line);
* other two/three byte ESC sequences (``ESC 7``, ``ESC c``, ``ESC ( B``) and a lone ESC;
* C0 controls except TAB (bell, backspace, form feed, NUL…), DEL, and C1 controls U+0080–U+009F.

Carriage returns: a terminal would overwrite the line from its start, which is how progress
bars redraw themselves. We keep what a reader wants — the text after the last ``\\r`` that is
followed by something (a trailing ``\\r`` as in CRLF is simply dropped). Earlier redraws are
discarded, not shown.

Tabs are expanded to 8-column stops by :func:`to_text`. Invalid UTF-8 never reaches here as
bytes: :func:`decode` replaces it with U+FFFD.

Each line is decoded on its own: colours left open at the end of a line do not bleed into the
next one (a viewer renders lines in any order). :func:`styled_runs` is the fast path for a
sanitised line — its text runs with their SGR styles, style transitions cached — and gives the
same styles as :func:`to_text`.
"""

from __future__ import annotations

import re

from rich.ansi import AnsiDecoder
from rich.style import Style
from rich.text import Text

# One alternation, tried at each ESC / control character. Order matters: specific forms first.
_ESCAPES = re.compile(
    r"""
      (?P<sgr>\x1b\[[0-9;:]*m)                              # SGR: kept
    | (?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?    # any other CSI (7/8-bit)
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])                # OSC, DCS, SOS, PM, APC …
      [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?                  #   … up to BEL / ST / end
    | \x1b[\x20-\x2f]*[\x30-\x7e]?                           # other ESC sequences, lone ESC
    | [\x00-\x08\x0b-\x1f\x7f-\x9f]                          # C0 (not TAB), DEL, C1
    """,
    re.VERBOSE,
)
_NEEDS_WORK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_SGR_PARAMS = re.compile(r"\x1b\[([0-9;:]*)m")

_NULL = Style.null()
_transitions: dict[tuple[Style, str], Style] = {}


def decode(raw: bytes) -> str:
    """Decode bytes as UTF-8, invalid sequences becoming U+FFFD replacement characters."""
    return raw.decode("utf-8", errors="replace")


def _keep_sgr(match: re.Match[str]) -> str:
    return match.group("sgr") or ""


def _last_carriage_segment(line: str) -> str:
    """Return the text after the last non-trailing ``\\r`` (what a terminal ends up showing)."""
    line = line.rstrip("\r")
    _head, sep, tail = line.rpartition("\r")
    return tail if sep else line


def sanitize(line: str) -> str:
    """Return ``line`` with only SGR escape sequences kept; see the module docstring."""
    if _NEEDS_WORK.search(line) is None:
        return line
    if "\r" in line:
        line = _last_carriage_segment(line)
    return _ESCAPES.sub(_keep_sgr, line)


def strip(line: str) -> str:
    """Return the plain text of ``line``: every escape sequence (SGR included) removed."""
    return _SGR.sub("", sanitize(line))


def plain_of(clean: str) -> str:
    """Return the plain text of an already sanitised line (its SGR codes removed)."""
    return _SGR.sub("", clean) if "\x1b" in clean else clean


def to_text(line: str) -> Text:
    """Return a Rich :class:`~rich.text.Text` for ``line``: SGR as styles, nothing else."""
    return clean_to_text(sanitize(line))


def clean_to_text(clean: str) -> Text:
    """Like :func:`to_text`, for a line :func:`sanitize` has already made safe."""
    text = AnsiDecoder().decode_line(clean) if "\x1b" in clean else Text(clean)
    if "\t" in clean:
        text.expand_tabs(8)
    text.end = ""
    return text


def _after_sgr(style: Style, params: str) -> Style:
    """The style after SGR ``params`` is applied to ``style`` (Rich's decoder rules, cached)."""
    key = (style, params)
    try:
        return _transitions[key]
    except KeyError:
        pass
    decoder = AnsiDecoder()
    decoder.style = style
    decoder.decode_line(f"\x1b[{params}m")
    if len(_transitions) >= 4096:
        _transitions.clear()
    _transitions[key] = decoder.style
    return decoder.style


def styled_runs(clean: str) -> list[tuple[str, Style]]:
    """Split a sanitised line without tabs into ``(text, SGR style)`` runs, in order.

    Runs are never empty and adjacent runs differ in style; an unstyled run has the null style.
    """
    if "\x1b" not in clean:
        return [(clean, _NULL)] if clean else []
    runs: list[tuple[str, Style]] = []
    style = _NULL
    pos = 0
    for match in _SGR_PARAMS.finditer(clean):
        start = match.start()
        if start > pos:
            _add_run(runs, clean[pos:start], style)
        style = _after_sgr(style, match.group(1))
        pos = match.end()
    if pos < len(clean):
        _add_run(runs, clean[pos:], style)
    return runs


def _add_run(runs: list[tuple[str, Style]], text: str, style: Style) -> None:
    if runs and runs[-1][1] == style:
        runs[-1] = (runs[-1][0] + text, style)
    else:
        runs.append((text, style))
