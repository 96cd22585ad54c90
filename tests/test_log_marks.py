"""Marks on log lines: jumps wrap, notes are cleaned, the store is per node and file, atomic."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from redfix_tui.logs.marks import LogMarks, MarkStore, clean_note, state_home


def test_marks_sorted_and_next_wraps() -> None:
    marks = LogMarks()
    assert marks.next_after(0) is None
    marks.set(40, "restore starts")
    marks.set(7)
    marks.set(120, "ci_marker lost")
    assert [m.line for m in marks.marks] == [7, 40, 120]
    assert marks.next_after(0) == 7
    assert marks.next_after(7) == 40
    assert marks.next_after(120) == 7  # wraps
    marks.set(40, "new note")
    assert len(marks) == 3 and marks.get(40).note == "new note"
    assert marks.remove(40) and not marks.remove(40)
    assert marks.next_after(7) == 120


def test_notes_lose_control_characters() -> None:
    assert clean_note("a\x1b]2;pwned\x07 b\n c\t") == "a ]2;pwned b c"
    assert len(clean_note("x" * 5000)) == 500


def test_store_round_trip_per_node_and_file(tmp_path: Path) -> None:
    store = MarkStore(tmp_path)
    marks = LogMarks()
    marks.set(3, "first")
    marks.set(9)
    path = store.save("cc-ci", "/tmp/redfix-gitea.log", marks)
    assert path.is_relative_to(tmp_path)
    again = MarkStore(tmp_path).load("cc-ci", "/tmp/redfix-gitea.log")
    assert [(m.line, m.note) for m in again.marks] == [(3, "first"), (9, "")]
    # another node, or another file: other marks
    assert len(store.load("other-node", "/tmp/redfix-gitea.log")) == 0
    assert len(store.load("cc-ci", "/tmp/redfix-keycloak.log")) == 0
    # no temporary file left behind
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_hostile_names_stay_inside_the_store(tmp_path: Path) -> None:
    store = MarkStore(tmp_path / "marks")
    path = store.path_for("../../etc", "../../../../etc/passwd\n\x1b[2J")
    assert path.resolve().is_relative_to((tmp_path / "marks").resolve())
    assert "\x1b" not in str(path) and "\n" not in str(path)


def test_damaged_file_is_reported(tmp_path: Path) -> None:
    store = MarkStore(tmp_path)
    path = store.path_for("cc-ci", "/x.log")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"marks": [{"line": "seven"}]}))
    with pytest.raises(ValueError, match="without a line number"):
        store.load("cc-ci", "/x.log")
    path.write_text("not json")
    with pytest.raises(ValueError):
        store.load("cc-ci", "/x.log")


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    store = MarkStore(tmp_path)
    marks = LogMarks()
    marks.set(1, "kept")
    path = store.save("cc-ci", "/x.log", marks)

    def broken(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    marks.set(2, "lost")
    with pytest.raises(OSError):
        store.save("cc-ci", "/x.log", marks)
    assert [m.note for m in store.load("cc-ci", "/x.log").marks] == ["kept"]
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_state_home_follows_xdg(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert state_home() == tmp_path
    assert MarkStore().root == tmp_path / "redfix-tui" / "marks"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/dir")  # not absolute: ignored, as XDG says
    assert state_home() == Path.home() / ".local" / "state"
