"""Exit is guaranteed: on SIGHUP (and SIGTERM) the console saves its drafts and is gone within
2 s, even when its drafts cannot be written or its exit path raises, hangs or blocks the event
loop (a real pty, a subprocess)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import resource
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TYPED = "unsaveddraftxyz"
ESCAPES = re.compile(rb"\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>78])")


def _no_file_writes() -> None:
    """No file may grow (even root's writes fail with EFBIG; Python ignores SIGXFSZ): drafts
    and the error log are unwritable, the terminal is not."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


class PtyConsole:
    """``tests/exit_console.py`` on a 100×30 pty whose output is drained all the time."""

    def __init__(self, mode: str, tmp_path: Path, state_home: Path, writable: bool) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "XDG_STATE_HOME": str(state_home),
            "PYTHONPATH": str(ROOT),
        }
        env.pop("TEXTUAL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.exit_console", mode, str(tmp_path / "JOURNAL.md")],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=env,
            start_new_session=True,
            preexec_fn=None if writable else _no_file_writes,
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                self.output += chunk
            elif self.process.poll() is not None:
                return

    def wait_for(self, text: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in ESCAPES.sub(b"", bytes(self.output)):
            if time.monotonic() > deadline or self.process.poll() is not None:
                tail = bytes(self.output[-1500:]).decode(errors="replace")
                raise AssertionError(f"{text!r} not shown (exit {self.process.poll()}): {tail}")
            time.sleep(0.05)

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        os.close(self.master)


@pytest.mark.parametrize(
    ("mode", "writable", "signum"),
    [
        ("ok", True, signal.SIGHUP),
        ("raise", True, signal.SIGHUP),
        ("hang", False, signal.SIGHUP),
        ("block", False, signal.SIGHUP),
        ("raise", False, signal.SIGHUP),
        ("block", True, signal.SIGTERM),
    ],
)
def test_signal_exits_within_2s(tmp_path: Path, mode: str, writable: bool, signum: int) -> None:
    state_home = tmp_path / "state"
    drafts = state_home / "redfix-tui" / "drafts"
    console = PtyConsole(mode, tmp_path, state_home, writable)
    try:
        console.wait_for("connecting")  # the status bar: the app is up
        console.send("j")
        console.wait_for("Title")  # the editor's title field has the keyboard
        console.send(TYPED)
        console.wait_for(TYPED)
        started = time.monotonic()
        os.kill(console.process.pid, signum)
        code = console.process.wait(5)
        took = time.monotonic() - started
    finally:
        console.close()
    assert took < 2.0, f"{mode}: still there {took:.2f}s after signal {signum}"
    assert code == 128 + signum
    saved = list(drafts.glob("*.draft.json")) if drafts.is_dir() else []
    if writable:
        assert len(saved) == 1 and TYPED in saved[0].read_text()
    else:
        assert all(p.stat().st_size == 0 for p in saved)
    log = state_home / "redfix-tui" / "errors.log"
    if mode == "raise" and writable:
        text = log.read_text()
        assert "on exit, closing the node session failed" in text and "close exploded" in text
    print(f"{mode}: exit {code} {took:.2f}s after signal {signum}")
