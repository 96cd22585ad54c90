"""Marks the operator puts on log lines, with an optional note, kept per node and file.

(Not to be confused with :mod:`redfix_tui.logs.markers`, which recognises failure and banner
lines, nor with ``LogSpool.marks``, the console's own marker lines in a spool.)

:class:`LogMarks` holds one log's marks in memory (sorted by line, jumps wrap around);
:class:`MarkStore` keeps them on disk under ``$XDG_STATE_HOME/redfix-tui/marks/`` (default
``~/.local/state``), one JSON file per node and file, written atomically (a temporary file in
the same directory, fsynced, then renamed over the old one). Textual-free.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path

MAX_NOTE = 500
"""Longest note kept (characters)."""
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Mark:
    """One marked line."""

    line: int
    """0-based line of the log."""
    note: str = ""
    """The operator's note (may be empty)."""


def clean_note(note: str) -> str:
    """A note on one line, without control characters, at most :data:`MAX_NOTE` long."""
    text = "".join(c if c.isprintable() else " " for c in note)
    return " ".join(text.split())[:MAX_NOTE]


class LogMarks:
    """The marks of one log, sorted by line."""

    def __init__(self, marks: list[Mark] | None = None) -> None:
        """Start with ``marks`` (any order; one per line)."""
        self._by_line: dict[int, Mark] = {m.line: m for m in marks or []}
        self._lines = sorted(self._by_line)

    def __len__(self) -> int:
        return len(self._lines)

    def __contains__(self, line: object) -> bool:
        return line in self._by_line

    @property
    def marks(self) -> list[Mark]:
        """Every mark, by line."""
        return [self._by_line[n] for n in self._lines]

    def get(self, line: int) -> Mark | None:
        """The mark on ``line``, or None."""
        return self._by_line.get(line)

    def set(self, line: int, note: str = "") -> Mark:
        """Mark ``line`` (replacing its note if it was marked)."""
        mark = Mark(line, clean_note(note))
        if line not in self._by_line:
            self._lines.insert(bisect_left(self._lines, line), line)
        self._by_line[line] = mark
        return mark

    def remove(self, line: int) -> bool:
        """Unmark ``line``; False if it was not marked."""
        if self._by_line.pop(line, None) is None:
            return False
        self._lines.remove(line)
        return True

    def next_after(self, line: int) -> int | None:
        """The first marked line after ``line``, wrapping to the first (None: no marks)."""
        if not self._lines:
            return None
        index = bisect_right(self._lines, line)
        return self._lines[index % len(self._lines)]


def state_home() -> Path:
    """``$XDG_STATE_HOME`` or ``~/.local/state``."""
    xdg = os.environ.get("XDG_STATE_HOME")
    return Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "state"


class MarkStore:
    """Marks on disk, one JSON file per node and log file (see the module docstring)."""

    def __init__(self, root: Path | None = None) -> None:
        """Keep marks under ``root`` (default ``$XDG_STATE_HOME/redfix-tui/marks``)."""
        self.root = root if root is not None else state_home() / "redfix-tui" / "marks"

    def path_for(self, node: str, file: str) -> Path:
        """Where the marks of ``file`` on ``node`` live: a readable name and a hash of both
        (node and file names are untrusted: never used as path parts as they are)."""
        digest = hashlib.sha256(f"{node}\0{file}".encode()).hexdigest()[:16]
        node_part = _SLUG.sub("_", node or "local").strip("._")[:40] or "node"
        file_part = _SLUG.sub("_", os.path.basename(file)).strip("._")[:60] or "log"
        return self.root / node_part / f"{file_part}-{digest}.json"

    def load(self, node: str, file: str) -> LogMarks:
        """The saved marks (none when there is no file yet).

        Raises ``OSError`` when the file cannot be read and ``ValueError`` when it is not a
        marks file.
        """
        path = self.path_for(node, file)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return LogMarks()
        data = json.loads(raw)
        if not isinstance(data, dict) or not isinstance(data.get("marks"), list):
            raise ValueError(f"{path}: not a marks file")
        marks = []
        for item in data["marks"]:
            if not isinstance(item, dict):
                raise ValueError(f"{path}: not a marks file")
            line, note = item.get("line"), item.get("note", "")
            if not isinstance(line, int) or isinstance(line, bool) or line < 0:
                raise ValueError(f"{path}: a mark without a line number")
            marks.append(Mark(line, clean_note(note) if isinstance(note, str) else ""))
        return LogMarks(marks)

    def save(self, node: str, file: str, marks: LogMarks) -> Path:
        """Write ``marks`` atomically; return the file's path (raises ``OSError``)."""
        path = self.path_for(node, file)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "node": node,
            "file": file,
            "marks": [{"line": m.line, "note": m.note} for m in marks.marks],
        }
        fd, temporary = tempfile.mkstemp(prefix=".marks-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, indent=1)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path
