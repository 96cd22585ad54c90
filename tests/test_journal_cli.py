"""``redfix-tui journal add|list``."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path

from redfix_tui.journal.cli import run

WHEN = datetime(2026, 6, 18, 1, 2, 42, tzinfo=UTC)


def _run(argv: list[str], path: Path, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(
        argv,
        journal_path=path,
        phase="redfix",
        now=lambda: WHEN,
        stdin=io.StringIO(stdin),
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_add_creates_journal_and_list_prints_headings(tmp_path: Path) -> None:
    path = tmp_path / "JOURNAL-redfix.md"
    body = tmp_path / "body.md"
    body.write_text("From a file.\n\n- item\n", encoding="utf-8")
    assert _run(["add", "--title", "First", "--body-file", str(body)], path)[0] == 0
    code, out, _ = _run(["add", "--title", "Second  one", "--body-file", "-"], path, "Piped.\n")
    assert code == 0 and out == "## 2026-06-18T01:02Z — Second one\n"
    assert _run(["add", "--title", "Third", "-"], path, "Dash.")[0] == 0
    assert _run(["add", "--title", "Bodiless"], path)[0] == 0
    assert path.read_text(encoding="utf-8") == (
        "# JOURNAL — phase `redfix`\n\n"
        "## 2026-06-18T01:02Z — First\n\nFrom a file.\n\n- item\n\n"
        "## 2026-06-18T01:02Z — Second one\n\nPiped.\n\n"
        "## 2026-06-18T01:02Z — Third\n\nDash.\n\n"
        "## 2026-06-18T01:02Z — Bodiless\n"
    )
    code, out, _ = _run(["list"], path)
    assert code == 0
    assert out.splitlines() == [
        "## 2026-06-18T01:02Z — First",
        "## 2026-06-18T01:02Z — Second one",
        "## 2026-06-18T01:02Z — Third",
        "## 2026-06-18T01:02Z — Bodiless",
    ]


def test_list_reference_journal(reference_journal: Path) -> None:
    code, out, _ = _run(["list"], reference_journal)
    assert code == 0 and len(out.splitlines()) == 3
    assert out.startswith("## 2026-06-17T23:20Z — Bootstrap\n")


def test_errors_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "J.md"
    code, _, err = _run(["list"], path)
    assert code == 1 and "does not exist" in err
    code, _, err = _run(["add", "--title", "   "], path)
    assert code == 2 and "must not be empty" in err
    code, _, err = _run(["add"], path)
    assert code == 2 and "--title" in err
    code, _, err = _run(["add", "--title", "x", "--body-file", str(tmp_path / "nope")], path)
    assert code == 1 and "nope" in err
    path.write_text("# JOURNAL — phase `redfix`\n", encoding="utf-8")
    path.chmod(0o444)
    code, _, err = _run(["add", "--title", "x"], path)
    assert code == 1 and "read-only" in err
    assert path.read_text(encoding="utf-8") == "# JOURNAL — phase `redfix`\n"


def test_heading_like_body_line_is_escaped_and_said(tmp_path: Path) -> None:
    path = tmp_path / "J.md"
    body = "Copied from the log:\n## 2026-01-01T00:00Z — x\nend\n"
    code, out, err = _run(["add", "--title", "Mine", "-"], path, body)
    assert code == 0 and out == "## 2026-06-18T01:02Z — Mine\n"
    assert err.count("\n") == 1 and "backslash" in err and "## 2026-01-01T00:00Z — x" in err
    assert "\n\\## 2026-01-01T00:00Z — x\n" in path.read_text(encoding="utf-8")
    code, out, _ = _run(["list"], path)
    assert code == 0 and out == "## 2026-06-18T01:02Z — Mine\n"


def test_flattened_journal_list_says_so_and_unflatten_writes_beside_it(
    tmp_path: Path, flattened_journal: Path, reference_journal: Path
) -> None:
    path = tmp_path / "JOURNAL-redfix.md"
    flat = flattened_journal.read_bytes()
    path.write_bytes(flat)
    code, out, err = _run(["list"], path)
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "lost its line breaks (3 entries on one line)" in err
    assert f"redfix-tui journal unflatten {path}" in err
    code, out, err = _run(["add", "--title", "Mine"], path)
    assert code == 1 and "unflatten" in err and path.read_bytes() == flat

    code, out, err = _run(["unflatten"], path)
    target = tmp_path / "JOURNAL-redfix.unflattened.md"
    assert code == 0, err
    assert str(target) in out and "3 entries" in out
    assert path.read_bytes() == flat  # never in place
    recovered = target.read_text(encoding="utf-8")
    code, out, _ = _run(["list"], target)
    assert code == 0
    assert out.splitlines() == [
        line
        for line in reference_journal.read_text(encoding="utf-8").splitlines()
        if line.startswith("## 20")
    ]

    code, _, err = _run(["unflatten", str(path)], tmp_path / "other.md")
    assert code == 1 and "already exists" in err and err.count("\n") == 1
    assert target.read_text(encoding="utf-8") == recovered  # not overwritten
    code, _, err = _run(["unflatten"], reference_journal)
    assert code == 1 and "not a flattened copy" in err
    assert not (reference_journal.parent / "JOURNAL-redfix.unflattened.md").exists()


def test_fifo_journal_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "J.md"
    os.mkfifo(path)
    for argv in (["list"], ["add", "--title", "x"]):
        code, out, err = _run(argv, path)
        assert code == 1 and out == ""
        assert err.count("\n") == 1 and f"{path} is a FIFO, not a regular file" in err
    assert path.is_fifo()
