"""Journal store: safe writes under concurrent change, read-only files, drafts surviving kill -9."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from redfix_tui.journal.drafts import Draft, DraftStore
from redfix_tui.journal.model import parse
from redfix_tui.journal.store import (
    ConcurrentEditError,
    JournalReadOnlyError,
    JournalStore,
)

ROOT = Path(__file__).resolve().parents[1]
WHEN = datetime(2026, 6, 18, 1, 2, tzinfo=UTC)
BASE = (
    "# JOURNAL — phase `redfix`\n\n"
    "## 2026-06-17T23:20Z — Bootstrap\n\nFirst body.\n\n"
    "## 2026-06-17T23:40Z — M1: discourse\n\nSecond body.\n"
)


def _other_process(code: str) -> None:
    """Run ``code`` in another Python process (as vim in the next pane would change the file)."""
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, timeout=60)


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "JOURNAL-redfix.md"
    path.write_text(BASE, encoding="utf-8")
    return path


def test_missing_journal_is_created_with_header(tmp_path: Path) -> None:
    path = tmp_path / "JOURNAL-new.md"
    store = JournalStore(path, "newphase")
    assert store.load().phase == "newphase" and not path.exists()
    store.append("First", "Hello.", when=WHEN)
    assert path.read_text(encoding="utf-8") == (
        "# JOURNAL — phase `newphase`\n\n## 2026-06-18T01:02Z — First\n\nHello.\n"
    )
    other = tmp_path / "JOURNAL-other.md"
    JournalStore(other, "x").create()
    assert other.read_text(encoding="utf-8") == "# JOURNAL — phase `x`\n"


def test_append_after_another_process_appended_keeps_both(journal: Path) -> None:
    store = JournalStore(journal, "redfix")
    store.load()
    _other_process(
        f"""
        with open({str(journal)!r}, "a", encoding="utf-8") as f:
            f.write("\\n## 2026-06-18T00:55Z — From vim\\n\\nTheir words.\\n")
        """
    )
    result = store.append("Mine", "My words.", when=WHEN)
    assert result.merged
    assert journal.read_text(encoding="utf-8") == (
        BASE
        + "\n## 2026-06-18T00:55Z — From vim\n\nTheir words.\n"
        + "\n## 2026-06-18T01:02Z — Mine\n\nMy words.\n"
    )


def test_append_after_another_process_rewrote_the_file_keeps_their_text(journal: Path) -> None:
    store = JournalStore(journal, "redfix")
    store.load()
    _other_process(
        f"""
        from pathlib import Path
        p = Path({str(journal)!r})
        p.write_text(p.read_text(encoding="utf-8").replace("First body.", "First body, fixed."),
                     encoding="utf-8")
        """
    )
    store.append("Mine", "My words.", when=WHEN)
    text = journal.read_text(encoding="utf-8")
    assert "First body, fixed." in text and "First body.\n" not in text
    assert text.endswith("## 2026-06-18T01:02Z — Mine\n\nMy words.\n")


def test_edit_in_place_when_unchanged_and_when_others_changed_elsewhere(journal: Path) -> None:
    store = JournalStore(journal, "redfix")
    entry = store.load().entries[0]
    _other_process(
        f"""
        with open({str(journal)!r}, "a", encoding="utf-8") as f:
            f.write("\\nappended by someone\\n")
        """
    )
    result = store.edit(entry, body="First body, edited.")
    assert result.merged
    assert journal.read_text(encoding="utf-8") == (
        BASE.replace("First body.", "First body, edited.") + "\nappended by someone\n"
    )


@pytest.mark.parametrize("change", ["edit", "remove"])
def test_concurrent_edit_of_the_entry_is_refused_and_draft_kept(
    journal: Path, tmp_path: Path, change: str
) -> None:
    store = JournalStore(journal, "redfix")
    drafts = DraftStore(journal, state_dir=tmp_path / "state")
    entry = store.load().entries[1]
    drafts.save(Draft(title=entry.title, body="My edit.", editing_heading=entry.heading))
    replacement = "Second body, theirs." if change == "edit" else ""
    _other_process(
        f"""
        from pathlib import Path
        p = Path({str(journal)!r})
        text = p.read_text(encoding="utf-8")
        if {change!r} == "edit":
            text = text.replace("Second body.", {replacement!r})
        else:
            text = text[: text.index("## 2026-06-17T23:40Z")]
        p.write_text(text, encoding="utf-8")
        """
    )
    theirs = journal.read_bytes()
    with pytest.raises(ConcurrentEditError, match="changed or removed"):
        store.edit(entry, body="My edit.")
    assert journal.read_bytes() == theirs
    draft = drafts.load()
    assert draft is not None and draft.body == "My edit."


def test_read_only_journal_gives_clear_error_and_keeps_draft(journal: Path, tmp_path: Path) -> None:
    store = JournalStore(journal, "redfix")
    drafts = DraftStore(journal, state_dir=tmp_path / "state")
    store.load()
    drafts.save(Draft(title="Mine", body="Unsaved words."))
    journal.chmod(0o444)
    try:
        with pytest.raises(JournalReadOnlyError, match="read-only"):
            store.append("Mine", "Unsaved words.", when=WHEN)
    finally:
        journal.chmod(0o644)
    assert journal.read_text(encoding="utf-8") == BASE
    draft = drafts.load()
    assert draft is not None and (draft.title, draft.body) == ("Mine", "Unsaved words.")
    assert not [p for p in journal.parent.iterdir() if p.name.endswith(".tmp")]


def test_read_only_directory_appends_in_place_but_refuses_edits(journal: Path) -> None:
    store = JournalStore(journal, "redfix")
    entry = store.load().entries[0]
    journal.parent.chmod(0o555)
    try:
        store.append("Mine", "Appended in place.", when=WHEN)
        with pytest.raises(JournalReadOnlyError, match="not writable"):
            store.edit(entry, body="nope")
    finally:
        journal.parent.chmod(0o755)
    assert journal.read_text(encoding="utf-8") == (
        BASE + "\n## 2026-06-18T01:02Z — Mine\n\nAppended in place.\n"
    )


def test_permissions_crlf_and_final_newline_preserved(tmp_path: Path) -> None:
    path = tmp_path / "J.md"
    path.write_bytes(BASE.replace("\n", "\r\n").rstrip().encode())
    path.chmod(0o640)
    store = JournalStore(path, "redfix")
    store.load()
    store.append("Mine", "a\nb", when=WHEN)
    data = path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert data.endswith(b"\r\n\r\n## 2026-06-18T01:02Z \xe2\x80\x94 Mine\r\n\r\na\r\nb")
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_symlink_stays_a_link_and_bytes_survive(tmp_path: Path) -> None:
    target = tmp_path / "real.md"
    raw = BASE.encode() + b"odd byte \xff kept\n"
    target.write_bytes(raw)
    link = tmp_path / "JOURNAL.md"
    link.symlink_to(target)
    store = JournalStore(link, "redfix")
    assert parse(store.load().text).text == store.load().text
    store.append("Mine", "x", when=WHEN)
    assert link.is_symlink()
    assert target.read_bytes().startswith(raw)


def test_draft_store_round_trip_location_and_corrupt_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    journal = tmp_path / "JOURNAL-redfix.md"
    drafts = DraftStore(journal)
    assert drafts.path.parent == tmp_path / "xdg" / "redfix-tui" / "drafts"
    assert drafts.path.name.startswith("JOURNAL-redfix.md.")
    assert drafts.load() is None
    saved = drafts.save(Draft(title="t", body="b ✓", stamp="2026-06-18T01:02Z"))
    assert drafts.load() == saved and saved.saved_at
    assert stat.S_IMODE(drafts.path.stat().st_mode) == 0o600
    drafts.save(Draft())  # empty: nothing worth keeping
    assert not drafts.path.exists()
    drafts.path.write_text("{not json", encoding="utf-8")
    assert drafts.load() is None
    assert drafts.path.with_suffix(".corrupt").exists()


TYPIST = """
import sys, time
from pathlib import Path
from redfix_tui.journal.drafts import Draft, DraftStore

drafts = DraftStore(Path(sys.argv[1]), state_dir=Path(sys.argv[2]))
text = sys.argv[3]
interval = float(sys.argv[4])
typed = ""
last_save = time.monotonic()
for char in text:
    typed += char
    print(len(typed), flush=True)
    if time.monotonic() - last_save >= interval:
        drafts.save(Draft(title="Typing", body=typed))
        last_save = time.monotonic()
    time.sleep(0.005)
time.sleep(60)
"""


def test_kill_9_while_autosaving_loses_at_most_a_few_seconds(tmp_path: Path) -> None:
    journal = tmp_path / "JOURNAL-redfix.md"
    state = tmp_path / "state"
    text = "".join(f"word{i} " for i in range(400))
    interval = 0.2
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", TYPIST, str(journal), str(state), text, str(interval)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        typed = 0
        started = None
        for line in proc.stdout:
            typed = int(line)
            started = started or time.monotonic()
            if typed >= 900:
                break
        killed_at = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert typed >= 900
    draft = DraftStore(journal, state_dir=state).load()
    assert draft is not None and draft.title == "Typing"
    assert text.startswith(draft.body) and draft.body
    # chars per second actually achieved; at most ~2 autosave intervals of typing is lost
    rate = typed / max(killed_at - (started or killed_at), 1e-3)
    lost_seconds = (typed - len(draft.body)) / rate
    assert lost_seconds <= 2 * interval + 1.0
