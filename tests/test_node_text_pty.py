"""The real-terminal proof: the console on a hostile node writes none of the node's escapes.

The console runs as ``python -m redfix_tui --demo-dir DIR`` on a pseudo-terminal whose every
byte is read. DIR holds a demo node made hostile (:mod:`tests.hostile_node`): escapes, C1
controls and markup in canonicals, tags, results.json, the rerun state, in-flight process lines,
a command's stderr and JUnit. The test drives the board, a refused rerun (a process line in a
toast) and the JUnit pane, quits with ``q``, and counts the payloads' distinctive bytes in what
the console wrote: Textual's own sequences are fine, the node's must number 0.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.hostile_node import DISTINCTIVE, IN_FLIGHT_PID, MARKUP, build_hostile_node

ROOT = Path(__file__).resolve().parent.parent
COLUMNS, ROWS = 200, 50


class PtyConsole:
    """The console on a fresh pseudo-terminal; :attr:`output` is every byte it wrote."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "redfix_tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.output = bytearray()

    def read(self, seconds: float) -> None:
        """Collect what the console writes for ``seconds`` (or until it closes the terminal)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every writer of the terminal is gone
                return
            if not chunk:
                return
            self.output += chunk

    def read_until(self, needle: bytes, timeout: float = 30.0) -> None:
        """Collect output until ``needle`` has been written; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            if time.monotonic() > deadline or self.process.poll() is not None:
                tail = bytes(self.output[-2000:])
                raise AssertionError(f"{needle!r} not written within {timeout:g}s; tail {tail!r}")
            self.read(0.2)

    def press(self, keys: bytes) -> None:
        """Type ``keys`` on the terminal."""
        os.write(self.master, keys)

    def close(self) -> int | None:
        """Wait for the console to exit (a SIGTERM to its own group if it does not)."""
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGTERM)
            return self.process.wait(timeout=10)
        finally:
            self.read(0.2)
            os.close(self.master)


def test_no_node_escape_reaches_the_terminal(tmp_path: Path) -> None:
    """Board, detail line, status bar, refusal toast, JUnit pane: 0 escape bytes leak."""
    demo_dir = tmp_path / "demo"
    _node, planted = build_hostile_node(demo_dir / "node")
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "REDFIX_DEMO_SPEED": "0.05",
    }
    console = PtyConsole(["--demo-dir", str(demo_dir)], cwd=tmp_path, env=env)
    try:
        console.read_until(f"pid {IN_FLIGHT_PID}".encode())  # status bar: the hostile run
        console.read_until(b"canonical ")  # the detail line
        for _ in range(5):  # every row of the board, every recipe's detail line
            console.press(b"\x1b[B")
            console.read(0.4)
        console.press(b"r")  # refused: a hostile process line in a notification
        console.read_until(f"in flight (pid {IN_FLIGHT_PID}".encode())
        console.press(b"u")  # the JUnit pane with hostile test ids, messages and output
        console.read_until(b"FAILED")
        console.press(b"]")
        console.read(1.0)
        console.press(b"q")
        status = console.close()
    finally:
        if console.process.poll() is None:
            os.killpg(console.process.pid, signal.SIGKILL)
    written = bytes(console.output)
    text = written.decode("utf-8", errors="replace")
    leaks = {payload: text.count(payload) for payload in DISTINCTIVE}
    leaked = sum(leaks.values())
    print(
        f"hostile values planted: {planted}; bytes written: {len(written)}; "
        f"leaked payloads: {leaked} {leaks}"
    )
    assert status == 0, text[-2000:]
    assert leaked == 0, leaks
    assert b"\x1b]52;" not in written and b"\x1b]0;pwned" not in written
    assert "␛" in text  # the escapes were shown, as visible marks
    shown = [m for m in MARKUP if m in text]
    assert shown, "no hostile markup was painted literally"
