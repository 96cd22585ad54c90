"""The console's error log: tracebacks of failures the operator was told about in one line.

``$XDG_STATE_HOME/redfix-tui/errors.log`` (``~/.local/state/redfix-tui/errors.log`` when unset),
appended to, one block per failure with a UTC time stamp. Textual-free and light to import, since
the exit path uses it and must import nothing new.
"""

from __future__ import annotations

import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

LOG_NAME = "errors.log"


def state_dir() -> Path:
    """``$XDG_STATE_HOME/redfix-tui`` (``~/.local/state/redfix-tui`` when unset)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "redfix-tui"


def log_path() -> Path:
    """Where the error log is."""
    return state_dir() / LOG_NAME


def record_error(what: str, error: BaseException) -> Path:
    """Append ``what`` failed, with ``error``'s traceback, to the error log; return its path.

    Raises :class:`OSError` when the log cannot be written (the caller says so instead).
    """
    path = log_path()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = "".join(traceback.format_exception(error))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{stamp} {what} failed (pid {os.getpid()}):\n{text}\n")
    return path


def one_line(error: BaseException) -> str:
    """``ValueError: bad thing`` on one line (the exception's own message, if it has one)."""
    message = " ".join(str(getattr(error, "message", None) or error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
