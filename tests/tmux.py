"""A small driver for programs running in a real tmux server (used by benchmarks and tests)."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
import uuid
from pathlib import Path


class Tmux:
    """One private tmux server (its own socket) with one session running a command."""

    def __init__(
        self,
        command: list[str],
        *,
        width: int = 80,
        height: int = 24,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.socket = f"redfix-{uuid.uuid4().hex[:10]}"
        self.session = "t"
        environment = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        shell = f"cd {shlex.quote(str(cwd or Path.cwd()))} && exec env TERM=xterm-256color "
        shell += f"{environment} {shlex.join(command)}"
        self._tmux(
            "new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height), shell
        )
        self._tmux("set-option", "-t", self.session, "remain-on-exit", "on")

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env={**os.environ, "TMUX": ""},
        )
        if result.returncode != 0 and args[0] not in ("kill-server", "capture-pane"):
            raise RuntimeError(f"tmux {args[0]} failed: {result.stderr.strip()}")
        return result.stdout

    def capture(self) -> str:
        """The visible screen as text."""
        return self._tmux("capture-pane", "-p", "-t", self.session)

    def send(self, *keys: str) -> None:
        """Send keys (tmux key names, e.g. ``Enter``, ``Escape``, ``C-s``)."""
        self._tmux("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        """Type literal text."""
        self._tmux("send-keys", "-t", self.session, "-l", text)

    def wait_for(self, predicate, timeout: float = 20.0, interval: float = 0.01) -> str:
        """Poll the screen until ``predicate(screen)`` is true; return that screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if predicate(screen):
                return screen
            time.sleep(interval)
        raise TimeoutError(f"screen did not match within {timeout}s; last screen:\n{screen}")

    def cursor(self) -> tuple[int, int]:
        """Where the terminal's cursor is (column, row): Textual puts it in the focused input."""
        out = self._tmux("display-message", "-p", "-t", self.session, "#{cursor_x} #{cursor_y}")
        x, y = out.split()
        return int(x), int(y)

    def wait_for_cursor(self, predicate, timeout: float = 10.0, interval: float = 0.01):
        """Poll the cursor until ``predicate((x, y))`` is true; return that position."""
        deadline = time.monotonic() + timeout
        where = self.cursor()
        while time.monotonic() < deadline:
            where = self.cursor()
            if predicate(where):
                return where
            time.sleep(interval)
        raise TimeoutError(f"the cursor did not move as expected within {timeout}s: {where}")

    def pane_pid(self) -> int:
        """The pid of the command running in the pane."""
        return int(self._tmux("display-message", "-p", "-t", self.session, "#{pane_pid}"))

    def dead(self) -> bool:
        """True when the command in the pane has exited."""
        out = self._tmux("display-message", "-p", "-t", self.session, "#{pane_dead}")
        return out.strip() == "1"

    def kill(self) -> None:
        """Stop the tmux server."""
        self._tmux("kill-server")
