"""The one gate for text that comes from the node: shown as plain, visible characters.

Every string read on the node (a canonical's version, tags, stage names, test ids, process
lines, remote stderr…) is untrusted. Printed as it is, an escape sequence in it could set the
clipboard (OSC 52), retitle the window or erase the screen; shown through Rich or Textual
markup, ``[/]`` crashes the console, ``[b]`` disappears and ``[link=…]`` becomes a live link.

:func:`clean` finds escapes and controls with the log view's rule set
(:mod:`redfix_tui.logs.ansi`) and makes each one visible instead of obeying it:

* an SGR colour code is dropped (there is no colour outside the log view);
* any other escape sequence (CSI, OSC, DCS, SOS, PM, APC, 7- or 8-bit, a lone ESC) becomes one
  ``␛``, its payload dropped with it (an OSC's payload is what a terminal would have swallowed);
* a C0 control becomes its Unicode control picture (``␇``, ``␍``, ``␀``…), DEL becomes ``␡``,
  a C1 control ``␛``; a newline becomes ``␊`` unless ``newlines=True``; TAB is kept.

:func:`plain` wraps the result in a Rich :class:`~rich.text.Text` built with ``Text(...)``, never
``Text.from_markup``, so brackets are only ever brackets. This module never imports Textual.
"""

from __future__ import annotations

import re

from rich.style import StyleType
from rich.text import Text

from .logs.ansi import _ESCAPES as _RULES  # the log view's rules, shared rather than copied
from .logs.ansi import _NEEDS_WORK

ESCAPE_MARK = "␛"
"""What an escape sequence (or a C1 control) is shown as."""
NEWLINE_MARK = "␊"
"""What a newline is shown as in one-line text."""
DEL_MARK = "␡"
"""What DEL (0x7f) is shown as."""

_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    """The visible stand-in for one escape sequence or control character."""
    if match.group("sgr"):
        return ""
    found = match.group(0)
    if len(found) == 1:
        code = ord(found)
        if code < 0x20:
            return chr(0x2400 + code)  # the Control Pictures block: ␀ … ␟
        if code == 0x7F:
            return DEL_MARK
    return ESCAPE_MARK


def _clean_line(line: str) -> str:
    if _NEEDS_WORK.search(line) is None:
        return line
    return _RULES.sub(_visible, line)


def clean(text: str, *, newlines: bool = False) -> str:
    """Return ``text`` with every escape sequence and control character except TAB made visible.

    Each line is cleaned on its own (an unterminated OSC swallows the rest of its line, as in
    the log view, never the next lines); ``newlines=True`` keeps the newlines between them.
    """
    text = str(text)
    if _UNSAFE.search(text) is None:
        return text
    joint = "\n" if newlines else NEWLINE_MARK
    return joint.join(_clean_line(line) for line in text.split("\n"))


def plain(text: str, style: StyleType = "", *, newlines: bool = False) -> Text:
    """A Rich ``Text`` of ``clean(text)``: no markup interpreted, tabs expanded to 8 columns."""
    shown = Text(clean(text, newlines=newlines), style=style)
    if "\t" in shown.plain:
        shown.expand_tabs(8)
    return shown


def is_clean(text: str) -> bool:
    """True when ``text`` holds no escape or control character other than TAB and newline."""
    return _NEEDS_WORK.search(text) is None
