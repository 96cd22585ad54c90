"""Telling the operator through the terminal: a bell and a window title (Textual-free).

When a rerun ends, when the connection to the node drops and (off by default) when a failure
line appears in a followed log, the console rings the terminal bell and sets the terminal's
title with OSC 2 (``ESC ] 2 ; TEXT BEL``), so a hidden or detached tmux window shows it
(tmux's ``#{pane_title}``, its bell flag). :class:`Notifier` decides what to announce under the
``[notify]`` settings and builds the escape sequences; the app writes them to its terminal.
Node text reaches a title only through :func:`title_text`: no control character (C0, C1, DEL)
can get to the terminal, and the title is kept short.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Protocol

from .runs.model import BAD

BELL = "\x07"
"""The terminal bell."""
TITLE_LIMIT = 120
"""Longest title set (characters)."""
PREFIX = "redfix"
"""How every title starts."""


class NotifySettings(Protocol):
    """The ``[notify]`` settings (``config.NotifyConfig`` meets it)."""

    bell: bool
    title: bool
    failure_lines: bool


def title_text(text: str, limit: int = TITLE_LIMIT) -> str:
    """``text`` made safe for a terminal title: control and format characters (C0, C1, DEL,
    bidi overrides) become spaces, runs of space collapse, at most ``limit`` characters."""
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    words = " ".join(kept.split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def title_sequence(text: str) -> str:
    """The OSC 2 sequence setting the terminal's (tmux: the pane's) title to ``text``."""
    return f"\x1b]2;{title_text(text)}\x07"


@dataclass(frozen=True)
class Announcement:
    """What to tell the operator: a title and whether to ring the bell."""

    title: str
    """The title text (already made safe), or "" to leave the title alone."""
    bell: bool

    def escapes(self) -> str:
        """The bytes to write to the terminal (title first, then the bell)."""
        return (title_sequence(self.title) if self.title else "") + (BELL if self.bell else "")


class Notifier:
    """Decides what to announce (see the module docstring); one per console."""

    def __init__(self, settings: NotifySettings) -> None:
        """Announce under ``settings`` (read at each event: a reloaded config applies)."""
        self.settings = settings
        self._connected = False
        self._failures_seen: dict[str, int] = {}

    def _announce(self, title: str, *, failure_line: bool = False) -> Announcement | None:
        settings = self.settings
        if failure_line and not settings.failure_lines:
            return None
        if not (settings.bell or settings.title):
            return None
        text = title_text(f"{PREFIX}: {title}")
        return Announcement(text if settings.title else "", settings.bell)

    def rerun_ended(
        self, recipe: str, stages: dict[str, str], *, terminated: bool = False
    ) -> Announcement | None:
        """A rerun ended: ``redfix: RECIPE ✘ STAGE`` for the first failed stage, ``✘ stopped``
        for a terminated run, else ``redfix: RECIPE ✔ passed``."""
        failed = [stage for stage, verdict in stages.items() if verdict in BAD]
        if terminated:
            words = "✘ stopped"
        elif failed:
            words = f"✘ {failed[0]}"
        elif stages:
            words = "✔ passed"
        else:
            words = "ended (no verdicts)"
        return self._announce(f"{recipe} {words}")

    def connection(self, host: str, state: str, message: str = "") -> Announcement | None:
        """The node's connection state changed; announce a drop once: ``reconnecting`` or
        ``down`` after ``connected`` (a ``connecting`` between them, a reconnect attempt that
        may be told before the loss, changes nothing)."""
        if state == "connecting":
            return None
        was_connected, self._connected = self._connected, state == "connected"
        if not was_connected or state == "connected":
            return None
        reason = f" ({message})" if message else ""
        return self._announce(f"{host} connection {state}{reason}")

    def failure_line(self, where: str, line: str) -> Announcement | None:
        """A failure line appeared in the followed log ``where`` (only with
        ``failure_lines`` on)."""
        return self._announce(f"{where} ✘ {line.strip()}", failure_line=True)
