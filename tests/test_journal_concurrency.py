"""Concurrency proof: 20 ``redfix-tui journal add`` processes at once, 10 rounds, lose nothing —
also while a lockless writer (as vim saves: new file, rename over) rewrites the journal at random
moments."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

from redfix_tui.journal.fileops import exchange, read_snapshot, unchanged
from redfix_tui.journal.model import parse

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 10
WRITERS = 20


class Rogue(threading.Thread):
    """Rewrites the journal without the lock, like vim's ``:w`` (write a new file, rename it over).

    Each save keeps all the content and adds one line at the end. Like vim, it notices when the
    file changed between its read and its save (here: the file its rename displaced is not the one
    it read) and then saves again with the other writer's text merged in, so it never drops an
    entry the adds wrote meanwhile.
    """

    def __init__(self, path: Path, seed: int) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.random = random.Random(seed)
        self.lines: list[str] = []
        self.resaves = 0
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.wait(self.random.uniform(0.005, 0.05)):
                if self.path.exists():
                    line = f"rogue change {len(self.lines) + 1}"
                    self.save(line)
                    self.lines.append(line)
        except BaseException as exc:  # reported by the test, not lost with the thread
            self.error = exc

    def save(self, line: str) -> None:
        """Read, add ``line``, check the file is unchanged (vim's mtime check), rename over."""
        base = read_snapshot(self.path)
        assert base is not None
        want = base.data + (b"" if base.data.endswith(b"\n") else b"\n") + line.encode() + b"\n"
        tmp = self.path.with_name(f".{self.path.name}.rogue")
        while True:
            tmp.write_bytes(want)
            put_in = read_snapshot(tmp)
            if not unchanged(self.path, base):  # vim: "file changed since reading it": reload
                base = read_snapshot(self.path)
                assert base is not None
                want = union(base.data, want)
                continue
            assert exchange(tmp, self.path), "RENAME_EXCHANGE unsupported here"
            displaced = read_snapshot(tmp)
            tmp.unlink()
            assert displaced is not None and put_in is not None
            if displaced.identity == base.identity and displaced.data == base.data:
                return
            # Changed between the check and the rename: the file now lacks their text.
            self.resaves += 1
            want = union(displaced.data, want)
            base = put_in


def union(theirs: bytes, ours: bytes) -> bytes:
    """``theirs`` followed by the non-blank lines of ``ours`` it lacks (order kept)."""
    have = set(theirs.splitlines())
    missing = [line for line in ours.splitlines() if line.strip() and line not in have]
    out = theirs if theirs.endswith(b"\n") else theirs + b"\n"
    return out + b"".join(line + b"\n" for line in missing)


def _add(journal: Path, title: str, body: Path, cwd: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "redfix_tui", "--journal", str(journal), "journal", "add"]
    return subprocess.Popen(
        [*command, "--title", title, "--body-file", str(body)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd)}
        | {"PYTHONPATH": str(ROOT)},
        text=True,
    )


def _round(journal: Path, cwd: Path, number: int) -> dict[str, str]:
    """Start WRITERS adds at once; wait for all; return their title → body marker."""
    wanted = {}
    procs = []
    for i in range(WRITERS):
        title, body = f"round {number} writer {i}", f"body of round {number} writer {i}."
        body_file = cwd / f"body-{number}-{i}.md"
        body_file.write_text(body + "\n", encoding="utf-8")
        wanted[title] = body
        procs.append(_add(journal, title, body_file, cwd))
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    return wanted


def _check(journal: Path, wanted: dict[str, str]) -> int:
    """Every add is in the journal once, with its body; return the number of entries."""
    entries = parse(journal.read_text(encoding="utf-8")).entries
    titles = [e.title for e in entries]
    assert sorted(titles) == sorted(wanted)
    for entry in entries:
        assert wanted[entry.title] in entry.body
    return len(entries)


def test_concurrent_adds_and_a_lockless_rogue_lose_nothing(tmp_path: Path) -> None:
    """10 rounds: 20 adds at once leave 20 entries, and every change of the rogue is kept."""
    rogue = True
    counts = []
    rogue_lines = resaves = conflicts = 0
    started = time.monotonic()
    for number in range(ROUNDS):
        journal = tmp_path / f"JOURNAL-{number}.md"
        writer = Rogue(journal, seed=number) if rogue else None
        if writer is not None:
            journal.write_text("# JOURNAL — phase `redfix`\n", encoding="utf-8")
            writer.start()
        try:
            wanted = _round(journal, tmp_path, number)
        finally:
            if writer is not None:
                writer.stopping.set()
                writer.join(timeout=30)
        if writer is not None:
            assert writer.error is None, writer.error
            text = journal.read_text(encoding="utf-8")
            missing = [line for line in writer.lines if f"\n{line}\n" not in f"\n{text}"]
            assert missing == []  # every rogue change is there
            assert writer.lines  # and there were some, during the adds
            rogue_lines += len(writer.lines)
            resaves += writer.resaves
            conflicts += len(list(tmp_path.glob(f"{journal.name}.conflict-*")))
        counts.append(_check(journal, wanted))
    elapsed = time.monotonic() - started
    assert counts == [WRITERS] * ROUNDS
    print(
        f"\n{ROUNDS} rounds x {WRITERS} concurrent adds: entries per round {counts}; "
        f"rogue saves {rogue_lines} (re-saved after a clash {resaves}; conflict copies kept "
        f"{conflicts}); {elapsed:.1f} s"
    )
