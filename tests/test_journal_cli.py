"""``redfix-tui journal add|list``."""

from __future__ import annotations

import io
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
