"""Journal integrity: the cross-process lock, the "unchanged since the re-read" swap, short
writes, paths that are not regular files, 0-byte journals, heading-like body lines, flattened
journals."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from redfix_tui.journal import fileops
from redfix_tui.journal import store as store_module
from redfix_tui.journal.bodytext import escape_body, heading_lines, unescape_body
from redfix_tui.journal.errors import JournalError, NotRegularFileError
from redfix_tui.journal.fileops import (
    exchange,
    journal_lock,
    lock_path,
    read_snapshot,
    unchanged,
)
from redfix_tui.journal.flattened import flattened_entries
from redfix_tui.journal.model import parse
from redfix_tui.journal.store import JournalStore

ROOT = Path(__file__).resolve().parents[1]
WHEN = datetime(2026, 6, 18, 1, 2, tzinfo=UTC)
BASE = "# JOURNAL — phase `redfix`\n\n## 2026-06-17T23:20Z — Bootstrap\n\nFirst body.\n"
ADD = [sys.executable, "-m", "redfix_tui"]
MINE = "\n## 2026-06-18T01:02Z — Mine\n\nMy words.\n"


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "JOURNAL-redfix.md"
    path.write_text(BASE, encoding="utf-8")
    return path


def _vim_save(path: Path, extra: str) -> None:
    """What vim (backupcopy=no) does on :w — write a new file and rename it over; no lock."""
    tmp = path.with_name(f"{path.name}.vimtmp")
    tmp.write_bytes(path.read_bytes() + extra.encode())
    os.replace(tmp, path)


# ---------------------------------------------------------------- "unchanged since the re-read"


def test_unchanged_compares_identity_and_content(journal: Path) -> None:
    snap = read_snapshot(journal)
    assert snap is not None and snap.data == BASE.encode()
    assert unchanged(journal, snap)
    _vim_save(journal, "")  # same bytes, new inode
    assert not unchanged(journal, snap)
    snap = read_snapshot(journal)
    with journal.open("r+b") as handle:  # same inode and size, other bytes
        handle.write(b"X")
    os.utime(journal, ns=(snap.identity[3], snap.identity[3]))  # even with the old mtime
    assert not unchanged(journal, snap)
    snap = read_snapshot(journal)
    os.utime(journal, ns=(1, 1))  # touched: same bytes, other mtime
    assert not unchanged(journal, snap)
    missing = journal.with_name("missing.md")
    assert unchanged(missing, None)
    assert not unchanged(journal, None)


def test_lockless_save_between_reread_and_rename_is_merged(journal: Path, monkeypatch) -> None:
    store = JournalStore(journal, "redfix")
    store.load()
    real_write_temp = store_module.write_temp
    saves = []

    def write_temp_then_vim_saves(target, data, **kwargs):
        result = real_write_temp(target, data, **kwargs)
        if not saves:  # once: after our re-read and temp file, before the check and rename
            _vim_save(journal, "vim line\n")
            saves.append(1)
        return result

    monkeypatch.setattr(store_module, "write_temp", write_temp_then_vim_saves)
    result = store.append("Mine", "My words.", when=WHEN)
    assert result.merged and saves
    assert journal.read_text(encoding="utf-8") == BASE + "vim line\n" + MINE
    assert sorted(p.name for p in journal.parent.iterdir()) == [
        ".JOURNAL-redfix.md.lock",
        "JOURNAL-redfix.md",
    ]


def test_lockless_save_between_check_and_swap_is_put_back_and_merged(
    journal: Path, monkeypatch
) -> None:
    """The microseconds between the last check and the swap: the displaced file is checked."""
    store = JournalStore(journal, "redfix")
    store.load()
    calls = []

    def vim_saves_then_exchange(first: Path, second: Path) -> bool:
        if not calls:
            _vim_save(journal, "vim line\n")
        calls.append((first, second))
        return exchange(first, second)

    monkeypatch.setattr(store_module, "exchange", vim_saves_then_exchange)
    store.append("Mine", "My words.", when=WHEN)
    # swap in, swap theirs back, merge again and swap in: nothing of theirs lost
    assert len(calls) == 3
    assert journal.read_text(encoding="utf-8") == BASE + "vim line\n" + MINE
    assert not [p for p in journal.parent.iterdir() if p.name.endswith(".tmp")]


def test_two_lockless_saves_in_that_moment_keep_a_conflict_copy_and_say_so(
    journal: Path, monkeypatch
) -> None:
    store = JournalStore(journal, "redfix")
    store.load()
    calls = []

    def vim_saves_twice(first: Path, second: Path) -> bool:
        if len(calls) < 2:
            _vim_save(journal, f"vim line {len(calls) + 1}\n")
        calls.append(1)
        return exchange(first, second)

    monkeypatch.setattr(store_module, "exchange", vim_saves_twice)
    result = store.append("Mine", "My words.", when=WHEN)
    assert len(calls) == 3  # swap in, swap back (out comes their second save), merge, swap in
    assert journal.read_text(encoding="utf-8") == BASE + "vim line 1\n" + MINE
    kept = [p for p in journal.parent.iterdir() if ".conflict-" in p.name]
    assert len(kept) == 1
    assert kept[0].read_text(encoding="utf-8") == BASE + MINE + "vim line 2\n"
    assert len(result.notes) == 1 and str(kept[0]) in result.notes[0]
    assert "\n" not in result.notes[0]


def test_without_exchange_the_check_still_guards(journal: Path, monkeypatch) -> None:
    """Where RENAME_EXCHANGE is missing, the re-check before os.replace catches the vim save."""
    monkeypatch.setattr(store_module, "exchange", lambda first, second: False)
    real_write_temp = store_module.write_temp
    saves = []

    def write_temp_then_vim_saves(target, data, **kwargs):
        result = real_write_temp(target, data, **kwargs)
        if not saves:
            _vim_save(journal, "vim line\n")
            saves.append(1)
        return result

    monkeypatch.setattr(store_module, "write_temp", write_temp_then_vim_saves)
    store = JournalStore(journal, "redfix")
    store.load()
    store.append("Mine", "My words.", when=WHEN)
    assert journal.read_text(encoding="utf-8") == BASE + "vim line\n" + MINE


# ---------------------------------------------------------------- the lock


def test_lock_is_exclusive_across_processes(journal: Path) -> None:
    lock = lock_path(journal)
    assert lock.name == ".JOURNAL-redfix.md.lock"
    with journal_lock(journal):
        with (
            pytest.raises(JournalError, match="stayed locked"),
            journal_lock(journal, timeout=0.05),
        ):
            pass
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [*ADD, "--journal", str(journal), "journal", "add", "--title", "Waited"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        with pytest.raises(subprocess.TimeoutExpired):  # it waits for our lock
            proc.wait(timeout=1.0)
        assert journal.read_text(encoding="utf-8") == BASE
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert journal.read_text(encoding="utf-8").endswith("— Waited\n")


def test_every_write_happens_under_the_lock(journal: Path, monkeypatch) -> None:
    """Appends and edits (the editor's and the CLI's path) write only while holding the lock."""
    real_write_temp = store_module.write_temp
    held = []

    def write_temp_checking_the_lock(target, data, **kwargs):
        fd = os.open(lock_path(journal), os.O_RDONLY)
        try:  # another open file description cannot take the lock now
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held.append(False)
        except BlockingIOError:
            held.append(True)
        finally:
            os.close(fd)
        return real_write_temp(target, data, **kwargs)

    monkeypatch.setattr(store_module, "write_temp", write_temp_checking_the_lock)
    store = JournalStore(journal, "redfix")
    entry = store.load().entries[0]
    store.append("Mine", "My words.", when=WHEN)
    store.edit(entry, body="Edited.")
    assert held == [True, True]


# ---------------------------------------------------------------- writes and odd paths


def test_short_writes_are_completed(journal: Path, monkeypatch) -> None:
    real_write = os.write
    sizes = []

    def short_write(fd: int, data) -> int:
        sizes.append(len(data))
        return real_write(fd, bytes(data[:3]))

    monkeypatch.setattr(fileops.os, "write", short_write)
    store = JournalStore(journal, "redfix")
    store.append("Mine", "My words ✓ " * 20, when=WHEN)
    assert len(sizes) > 50
    assert journal.read_text(encoding="utf-8") == (
        BASE + "\n## 2026-06-18T01:02Z — Mine\n\n" + ("My words ✓ " * 20).rstrip() + "\n"
    )


@pytest.mark.parametrize("kind", ["directory", "FIFO", "character device"])
def test_not_a_regular_file_is_refused_in_one_line(tmp_path: Path, kind: str) -> None:
    if kind == "directory":
        path = tmp_path / "J.md"
        path.mkdir()
    elif kind == "FIFO":
        path = tmp_path / "J.md"
        os.mkfifo(path)
    else:
        path = Path("/dev/null")
    store = JournalStore(path, "redfix")
    for action in (store.load, lambda: store.append("Mine", "x", when=WHEN)):
        with pytest.raises(NotRegularFileError) as caught:
            action()
        message = str(caught.value)
        assert f"{path} is a {kind}" in message and "\n" not in message
    if kind == "FIFO":
        assert path.is_fifo()  # not replaced by a file


def test_zero_byte_journal_gets_the_header_on_first_add(tmp_path: Path) -> None:
    path = tmp_path / "J.md"
    path.write_bytes(b"")
    store = JournalStore(path, "p1")
    assert store.load().phase == "p1"
    store.append("First", "Hello.", when=WHEN)
    assert path.read_text(encoding="utf-8") == (
        "# JOURNAL — phase `p1`\n\n## 2026-06-18T01:02Z — First\n\nHello.\n"
    )
    empty = tmp_path / "E.md"
    empty.write_bytes(b"")
    JournalStore(empty, "p2").create()
    assert empty.read_text(encoding="utf-8") == "# JOURNAL — phase `p2`\n"


# ---------------------------------------------------------------- heading-like body lines


HEADINGY = (
    "Seen in the log:\n"
    "## 2026-01-01T00:00Z — not an entry\n"
    "# top level too\n"
    "```\n## 2026-01-01T00:01Z — inside a fence stays as is\n```\n"
    "### level three is fine\n"
    "\\## typed with a backslash already\n"
)


def test_heading_like_body_lines_are_escaped_and_do_not_split_the_entry() -> None:
    journal, _ = parse(BASE).append(WHEN, "Mine", HEADINGY)
    text = journal.text
    assert "\n\\## 2026-01-01T00:00Z — not an entry\n" in text
    assert "\n\\# top level too\n" in text
    assert "\n## 2026-01-01T00:01Z — inside a fence stays as is\n" in text
    assert "\n### level three is fine\n" in text
    again = parse(text)
    assert [e.title for e in again.entries] == ["Bootstrap", "Mine"]
    assert again.text == text  # byte-exact round trip
    assert unescape_body(again.entries[1].body).replace("\\## typed", "## typed") == (
        HEADINGY.rstrip().replace("\\## typed", "## typed")
    )
    assert escape_body(unescape_body(again.entries[1].body)) == again.entries[1].body
    assert heading_lines(HEADINGY) == [
        "## 2026-01-01T00:00Z — not an entry",
        "# top level too",
    ]
    edited, _ = again.replace_entry(again.entries[0], body="## 2026-02-02T00:00Z — x")
    assert [e.title for e in parse(edited.text).entries] == ["Bootstrap", "Mine"]
    assert "\\## 2026-02-02T00:00Z — x" in edited.entries[0].body


# ---------------------------------------------------------------- flattened journals


def test_flattened_journal_is_recognised_and_not_added_to(
    tmp_path: Path, flattened_journal: Path, reference_journal: Path
) -> None:
    flat = flattened_journal.read_text(encoding="utf-8")
    assert flattened_entries(flat) == 3
    assert flattened_entries(reference_journal.read_text(encoding="utf-8")) == 0
    assert flattened_entries("## 2026-01-01T00:00Z — one bodiless entry") == 0
    assert flattened_entries("") == 0
    path = tmp_path / "J.md"
    path.write_text(flat, encoding="utf-8")
    with pytest.raises(JournalError, match="lost its line breaks") as caught:
        JournalStore(path, "redfix").append("Mine", "x", when=WHEN)
    assert "redfix-tui journal unflatten" in str(caught.value)
    assert path.read_text(encoding="utf-8") == flat


def test_an_entry_an_editor_carried_in_is_not_appended_twice(tmp_path: Path) -> None:
    """A lockless editor that read the file while our write was in place saves a buffer holding
    our entry; the merge that follows must not add the entry a second time."""
    path = tmp_path / "J.md"
    store = JournalStore(path, "redfix")
    store.create()
    original = store._write
    calls: list[str] = []

    def write(snapshot, text: str) -> bool:
        if not calls:  # first try: the editor's save lands instead, carrying our entry
            calls.append(text)
            path.write_text(text + "\nan editor's line\n", encoding="utf-8")
            return False
        return original(snapshot, text)

    store._write = write  # type: ignore[method-assign]
    store.append("carried", "the body", when=datetime(2026, 6, 17, 23, 40, tzinfo=UTC))
    text = path.read_text(encoding="utf-8")
    assert [e.title for e in parse(text).entries] == ["carried"]
    assert "an editor's line" in text


def test_the_same_entry_added_twice_on_purpose_is_kept_twice(tmp_path: Path) -> None:
    """Idempotence looks only at copies that appeared during one add, not at earlier ones."""
    path = tmp_path / "J.md"
    store = JournalStore(path, "redfix")
    when = datetime(2026, 6, 17, 23, 40, tzinfo=UTC)
    store.append("twice", "same body", when=when)
    JournalStore(path, "redfix").append("twice", "same body", when=when)
    assert [e.title for e in parse(path.read_text(encoding="utf-8")).entries] == ["twice"] * 2
