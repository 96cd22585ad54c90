"""Recognise the log lines that matter: failures, passes and stage banners.

Classification works on a line's plain text (escape sequences stripped):

* ``failure``: ``FAILED``, ``ERROR``, ``Traceback``, pytest's assertion lines starting ``E   ``,
  logrus' ``FATA``, and pytest's ``!!!`` interruption lines;
* ``passed``: ``PASSED``;
* ``banner``: a title between two rules — ``==== stage: upgrade ====``, ``── upgrade ──``,
  ``===== test session starts =====``, ``#### restore ####`` — or a line starting
  ``stage: NAME`` / ``[stage] NAME``. A rule is 2+ of ``=``, ``-``, ``#``, ``*``, ``~`` or the
  box-drawing lines ``─ ━ ═``; the title is up to 100 characters. Underscore rules (pytest's
  per-test separators) are not banners. A banner whose title names install, upgrade, backup,
  restore or custom (as a word) belongs to that stage.

Failure and banner lines are also indexed for the whole spool by :class:`MarkerIndex`, which
scans incrementally (in a thread for a big log) so jumps never rescan what was seen.
"""

from __future__ import annotations

import re
import threading
from array import array
from typing import Literal

from redfix_tui.logs.ansi import strip
from redfix_tui.logs.search import search_spool
from redfix_tui.logs.spool import LogSpool
from redfix_tui.runs.model import STAGES

Kind = Literal["failure", "passed", "banner"]


_RULE = r"(?:[=\-#*~]{2,}|[─━═]{2,})"
BANNER = re.compile(
    rf"^\s*{_RULE}\s*(?P<title>[^\s=#*~─━═-](?:.{{0,98}}[^\s=#*~─━═-])?)\s*{_RULE}\s*$"
    r"|^\W{0,4}\[?stage\]?[:\s]\s*(?P<name>[\w.-]+)",
    re.IGNORECASE,
)
"""A stage banner; see the module docstring."""

FAILURE = re.compile(r"\bFAILED\b|\bERROR\b|\bTraceback\b|^E {3}|\bFATA|!!!?")
PASSED = re.compile(r"\bPASSED\b")
_STAGE_WORD = re.compile(r"\b(" + "|".join(STAGES) + r")\b", re.IGNORECASE)

# One pattern finding every candidate line in raw text (escape codes may sit inside a line,
# so candidates are confirmed on the plain text by :func:`classify`).
_CANDIDATE = re.compile(
    r"FAILED|ERROR|Traceback|^(?:\x1b\[[0-9;]*m)*E {3}|FATA|!!|"
    r"[=#*~─━═-]{2}|stage",
    re.MULTILINE | re.IGNORECASE,
)


# Every line that FAILURE, BANNER or PASSED can match also matches this (one search rules out
# the common ordinary line).
_MAYBE = re.compile(r"FAILED|ERROR|Traceback|^E {3}|FATA|!!|PASSED|[=\-#*~]{2}|[─━═]{2}|(?i:stage)")


def classify(plain: str) -> Kind | None:
    """Return what kind of line ``plain`` (no escape sequences) is, or ``None``."""
    if _MAYBE.search(plain) is None:
        return None
    if FAILURE.search(plain):
        return "failure"
    if BANNER.match(plain):
        return "banner"
    if PASSED.search(plain):
        return "passed"
    return None


def banner_title(plain: str) -> str | None:
    """Return the title of a banner line, or ``None`` if ``plain`` is not a banner."""
    m = BANNER.match(plain)
    if m is None:
        return None
    return (m.group("title") or m.group("name") or "").strip()


def banner_stage(plain: str) -> str | None:
    """Return the stage (install…custom) a banner line names, or ``None``."""
    title = banner_title(plain)
    if not title:
        return None
    m = _STAGE_WORD.search(title)
    return m.group(1).lower() if m else None


class MarkerIndex:
    """Line numbers of failure lines and banners across a spool, extended incrementally."""

    def __init__(self) -> None:
        """Start empty; call :meth:`extend` to scan."""
        self.failures = array("Q")
        """0-based numbers of failure lines, ascending."""
        self.banners = array("Q")
        """0-based numbers of banner lines, ascending."""
        self.scanned = 0
        """Lines ``[0, scanned)`` have been examined."""
        self._lock = threading.Lock()

    def extend(self, spool: LogSpool, cancel: threading.Event | None = None) -> None:
        """Examine the spool's complete lines not yet seen (thread-safe, one scan at a time)."""
        with self._lock:
            for step in search_spool(
                spool, _CANDIDATE, start=self.scanned, stop=spool.complete_lines, cancel=cancel
            ):
                for n in step.matches:
                    kind = classify(strip(spool.read_line(n, limit=4096)))
                    if kind == "failure":
                        self.failures.append(n)
                    elif kind == "banner":
                        self.banners.append(n)
                self.scanned = step.scanned
