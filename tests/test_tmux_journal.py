"""The journal in real tmux: with a log streaming, write an entry with log evidence and save.

Then the pane is killed mid-edit (SIGHUP, as when a tmux window closes) and the next start offers
the draft back.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from redfix_tui.journal.model import parse
from tests.tmux import Tmux

pytestmark = pytest.mark.tmux


class Writer(threading.Thread):
    """Appends numbered lines to a file until stopped (a log that keeps streaming)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.count = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with self.path.open("a") as handle:
            while not self.stop.is_set():
                self.count += 1
                handle.write(f"stream line {self.count} \x1b[32mPASSED\x1b[0m\n")
                handle.flush()
                time.sleep(0.05)


def newest(screen: str) -> int:
    """The highest streamed line number on the screen."""
    return max((int(n) for n in re.findall(r"stream line (\d+) ", screen)), default=0)


def console(demo: Path, log: Path, width: int = 100, height: int = 30) -> Tmux:
    return Tmux(
        [sys.executable, "-m", "redfix_tui", "--demo-dir", str(demo), "log", str(log)],
        width=width,
        height=height,
        env={"XDG_STATE_HOME": str(demo / "state")},
    )


def test_entry_with_log_evidence_while_streaming(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    demo.mkdir()
    log = tmp_path / "live.log"
    log.write_text("")
    writer = Writer(log)
    writer.start()
    tmux = console(demo, log)
    try:
        tmux.wait_for(lambda s: newest(s) >= 20, timeout=30)
        # `log PATH` starts with the keyboard on the log view (its keys in the footer)
        tmux.wait_for(lambda s: "Follow" in s or "Search" in s, timeout=10)
        tmux.send("v")
        tmux.send("k")
        tmux.send("k")
        tmux.send("e")  # evidence → opens the journal with the lines in the draft
        tmux.wait_for(lambda s: "New entry" in s and "Evidence:" in s, timeout=10)
        tmux.type("Live tail evidence")
        tmux.wait_for(lambda s: "— Live tail evidence" in s, timeout=10)
        tmux.send("C-s")
        journal_path = demo / "JOURNAL-redfix.md"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not journal_path.exists():
            time.sleep(0.05)
        assert journal_path.exists(), tmux.capture()
        lines_when_saved = writer.count
        text = journal_path.read_text()
        journal = parse(text)
        assert journal.phase == "redfix"
        [entry] = journal.entries
        assert entry.title == "Live tail evidence"
        assert re.search(r"^## \d{4}-\d\d-\d\dT\d\d:\d\dZ — Live tail evidence$", text, re.M)
        assert f"{log}` lines " in entry.body
        quoted = re.findall(r"^stream line (\d+) PASSED$", entry.body, re.MULTILINE)
        assert len(quoted) == 3 and "\x1b" not in entry.body  # three lines, escapes stripped
        assert [int(n) for n in quoted] == sorted(int(n) for n in quoted)
        # the log kept streaming underneath the editor: paused at the mark, it counts new lines,
        # and G follows again to the newest ones
        tmux.send("Escape")
        tmux.wait_for(lambda s: re.search(r"PAUSED — \d+ new lines", s) is not None, timeout=10)
        tmux.send("G")

        tmux.wait_for(lambda s: newest(s) >= max(writer.count - 40, lines_when_saved + 10), 15)
    finally:
        writer.stop.set()
        tmux.send("q")
        time.sleep(0.3)
        tmux.kill()


def open_journal(tmux: Tmux) -> None:
    """Open the journal editor on a console started by ``log PATH``.

    The keyboard starts on the log view, where ``j`` moves down (as in less): tab to the board,
    where ``j`` opens the journal.
    """
    tmux.wait_for(lambda s: "one line" in s, timeout=30)
    tmux.wait_for(lambda s: "Follow" in s or "Search" in s, timeout=10)
    tmux.send("Tab")
    tmux.wait_for(lambda s: "Sort" in s, timeout=10)
    tmux.send("j")


def quiet_console(tmp_path: Path) -> tuple[Tmux, Path, Path]:
    """A console on a one-line log, with the journal editor open; (tmux, demo dir, log)."""
    demo = tmp_path / "demo"
    demo.mkdir()
    log = tmp_path / "quiet.log"
    log.write_text("one line\n")
    tmux = console(demo, log)
    open_journal(tmux)
    tmux.wait_for(lambda s: "New entry" in s, timeout=10)
    return tmux, demo, log


def draft_comes_back(demo: Path, log: Path, *texts: str) -> None:
    """Start again on the same journal: the editor offers the draft, which holds ``texts``."""
    again = console(demo, log)
    try:
        open_journal(again)
        again.wait_for(lambda s: "draft" in s.lower(), timeout=10)
        again.send("y")
        again.wait_for(lambda s: all(text in s for text in texts), timeout=10)
    finally:
        again.send("q")
        time.sleep(0.3)
        again.kill()


def type_entry(tmux: Tmux, title: str, body: str) -> None:
    """Type a title and a body, waiting until each shows."""
    tmux.type(title)
    tmux.wait_for(lambda s: f"— {title}" in s, timeout=10)
    _, title_row = tmux.cursor()
    tmux.send("Tab")
    # Keys typed before the focus has moved would still go to the title: wait for the cursor.
    tmux.wait_for_cursor(lambda where: where[1] != title_row)
    tmux.type(body)
    tmux.wait_for(lambda s: body in s, timeout=10)


def test_killed_mid_edit_offers_the_draft_back(tmp_path: Path) -> None:
    """SIGHUP (a closed tmux window): the draft is saved on the way out."""
    tmux, demo, log = quiet_console(tmp_path)
    try:
        type_entry(tmux, "Unsaved thoughts", "mumble passed alone: load flake")
        pid = tmux.pane_pid()
    finally:
        tmux.kill()  # SIGHUP to the console
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), "the console outlived its terminal"
    journal = demo / "JOURNAL-redfix.md"
    assert not journal.exists() or "Unsaved" not in journal.read_text()
    draft_comes_back(demo, log, "Unsaved thoughts", "load flake")


def test_kill_9_loses_at_most_the_last_seconds(tmp_path: Path) -> None:
    """``kill -9`` (no handler can run): the autosaved draft (every 3 s) comes back."""
    tmux, demo, log = quiet_console(tmp_path)
    try:
        type_entry(tmux, "Crash-proof", "typed well before the crash")
        time.sleep(3.5)  # one autosave interval
        os.kill(tmux.pane_pid(), signal.SIGKILL)
        tmux.wait_for(lambda s: tmux.dead(), timeout=10)
    finally:
        tmux.kill()
    draft_comes_back(demo, log, "Crash-proof", "typed well before the crash")
