"""JournalEditor driven by Pilot in a tiny App: type, insert evidence, save, cancel, drafts."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from redfix_tui.evidence import JUnitEvidence, LogEvidence
from redfix_tui.journal.drafts import Draft, DraftStore
from redfix_tui.widgets.journal_dialogs import ConfirmScreen
from redfix_tui.widgets.journal_editor import JournalEditor

from .journal_app import EditorApp

LOG = LogEvidence("cc-ci", "/tmp/redfix-discourse.log", 41, 42, ("FAIL one", "FAIL two"))


@pytest.fixture
def journal(tmp_path: Path, reference_journal: Path) -> Path:
    path = tmp_path / "JOURNAL-redfix.md"
    path.write_bytes(reference_journal.read_bytes())
    return path


def _drafts(app: EditorApp) -> DraftStore:
    return DraftStore(app.journal, state_dir=app.state_dir)


async def _settle(app: EditorApp, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_type_insert_evidence_and_save(
    journal: Path, tmp_path: Path, reference_journal: Path
) -> None:
    app = EditorApp(journal, tmp_path / "state")
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.query_one(JournalEditor)
        await pilot.pause()
        assert app.focused is editor.query_one("#je-title")
        await pilot.press(*"M1: discourse rerun", "tab", *"Upgrade overlay still red.")
        await pilot.press("enter")
        editor.insert_evidence(LOG)
        editor.insert_evidence(
            JUnitEvidence(
                "tests/d/test_upgrade.py::t",
                "upgrade",
                "failed",
                "assert False",
                "/var/junit/u.xml",
            )
        )
        await pilot.pause()
        heading = str(editor.query_one("#je-heading").render())
        assert heading == "## 2026-06-18T01:02Z — M1: discourse rerun"
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
    expected = (
        "\n## 2026-06-18T01:02Z — M1: discourse rerun\n\n"
        "Upgrade overlay still red.\n\n"
        "Evidence: `cc-ci:/tmp/redfix-discourse.log` lines 41–42:\n\n"
        "```\nFAIL one\nFAIL two\n```\n\n"
        "- `tests/d/test_upgrade.py::t` (upgrade, failed) → `assert False`\n\n"
        "Evidence: junit `/var/junit/u.xml`.\n"
    )
    assert (
        journal.read_text(encoding="utf-8")
        == reference_journal.read_text(encoding="utf-8") + expected
    )
    assert [m.entry.title for m in app.saved] == ["M1: discourse rerun"]
    assert _drafts(app).load() is None


async def test_fixed_stamp_and_live_minute(journal: Path, tmp_path: Path) -> None:
    clock = [datetime(2026, 6, 18, 1, 2, 59, tzinfo=UTC)]
    app = EditorApp(journal, tmp_path / "state", now=lambda: clock[0])
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.query_one(JournalEditor)
        await pilot.press(*"Later")
        clock[0] = datetime(2026, 6, 18, 1, 3, 1, tzinfo=UTC)
        editor.refresh_clock()
        await pilot.pause()
        assert str(editor.query_one("#je-heading").render()).startswith("## 2026-06-18T01:03Z")
        stamp = editor.query_one("#je-stamp")
        stamp.value = "2026-06-17T22:00Z"
        await pilot.pause()
        clock[0] = datetime(2026, 6, 18, 1, 9, tzinfo=UTC)
        editor.refresh_clock()  # a fixed stamp does not follow the clock
        await pilot.pause()
        assert stamp.value == "2026-06-17T22:00Z"
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
    assert journal.read_text(encoding="utf-8").endswith("\n## 2026-06-17T22:00Z — Later\n")


async def test_cancel_asks_first_when_there_is_text(
    journal: Path, tmp_path: Path, reference_journal: Path
) -> None:
    app = EditorApp(journal, tmp_path / "state")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"Half a thought")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen) and app.closed == 0
        editor = app.query_one(JournalEditor)
        editor.save_draft()
        assert _drafts(app).load().title == "Half a thought"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.closed == 1
        assert _drafts(app).load() is None
        await pilot.press("escape")  # nothing typed now: closes without asking
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen) and app.closed == 2
    assert journal.read_bytes() == reference_journal.read_bytes()


@pytest.mark.parametrize("answer", ["y", "n"])
async def test_draft_restore_offer(journal: Path, tmp_path: Path, answer: str) -> None:
    state = tmp_path / "state"
    DraftStore(journal, state_dir=state).save(Draft(title="From before", body="Crashed here."))
    app = EditorApp(journal, state)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "From before" in app.screen.question
        await pilot.press(answer)
        await pilot.pause()
        editor = app.query_one(JournalEditor)
        if answer == "n":
            assert editor.query_one("#je-title").value == ""
            assert _drafts(app).load() is None
            return
        assert editor.query_one("#je-title").value == "From before"
        assert editor.query_one("#je-body").text == "Crashed here."
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
    assert journal.read_text(encoding="utf-8").endswith(
        "\n## 2026-06-18T01:02Z — From before\n\nCrashed here.\n"
    )


async def test_autosave_timer_and_exit_keep_the_draft(journal: Path, tmp_path: Path) -> None:
    app = EditorApp(journal, tmp_path / "state", autosave_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"Autosaved")
        for _ in range(50):  # wait for the timer, not a fixed time
            await pilot.pause(0.02)
            draft = _drafts(app).load()
            if draft and draft.title == "Autosaved":
                break
        assert _drafts(app).load().title == "Autosaved"
        app.query_one(JournalEditor).autosave_interval = 3600
        await pilot.press("tab", *"typed just before exit")
    # app exit unmounts the editor, which writes the draft
    draft = _drafts(app).load()
    assert draft is not None and draft.body == "typed just before exit"


async def test_concurrent_edit_is_refused_and_draft_kept(journal: Path, tmp_path: Path) -> None:
    app = EditorApp(journal, tmp_path / "state")
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.query_one(JournalEditor)
        entries = editor.query_one("#je-entries")
        entries.focus()
        entries.highlighted = 1
        await pilot.press("enter")
        await pilot.pause()
        assert editor.editing_heading.startswith("## 2026-06-17T23:40Z")
        body = editor.query_one("#je-body")
        body.move_cursor(body.document.end)
        await pilot.press("enter", *"My addition.")
        code = (
            f"from pathlib import Path; p = Path(r'{journal}'); "
            "p.write_text(p.read_text(encoding='utf-8').replace('Teardown clean (no discourse',"
            " 'Teardown DIRTY (no discourse'), encoding='utf-8')"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
        theirs = journal.read_bytes()
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert journal.read_bytes() == theirs
        assert app.saved == []
        assert "changed or removed" in str(editor.query_one("#je-status").render())
        assert any("changed or removed" in n.message for n in app._notifications)
        draft = _drafts(app).load()
        assert draft is not None and draft.body.endswith("My addition.")
        assert draft.editing_heading.startswith("## 2026-06-17T23:40Z")


async def test_edit_in_place_saves_only_that_entry(
    journal: Path, tmp_path: Path, reference_journal: Path
) -> None:
    app = EditorApp(journal, tmp_path / "state")
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.query_one(JournalEditor)
        entries = editor.query_one("#je-entries")
        entries.focus()
        entries.highlighted = 0
        await pilot.press("enter")
        body = editor.query_one("#je-body")
        body.move_cursor(body.document.end)
        await pilot.press("enter", "enter", *"Added later.")
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
    original = reference_journal.read_text(encoding="utf-8")
    anchor = "verify the compose at the latest tag directly first.\n"
    assert journal.read_text(encoding="utf-8") == original.replace(
        anchor, anchor + "\nAdded later.\n"
    )


async def test_read_only_journal_gives_message_and_keeps_draft(
    journal: Path, tmp_path: Path, reference_journal: Path
) -> None:
    journal.chmod(0o444)
    app = EditorApp(journal, tmp_path / "state")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"Cannot land", "tab", *"body")
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert any("read-only" in n.message for n in app._notifications)
        assert app.saved == []
    journal.chmod(0o644)
    assert journal.read_bytes() == reference_journal.read_bytes()
    draft = _drafts(app).load()
    assert draft is not None and (draft.title, draft.body) == ("Cannot land", "body")


async def test_heading_like_body_line_is_escaped_and_shown_as_typed(
    journal: Path, tmp_path: Path, reference_journal: Path
) -> None:
    typed = "Log said:\n## 2026-01-01T00:00Z — fake entry\nend."
    app = EditorApp(journal, tmp_path / "state")
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.query_one(JournalEditor)
        await pilot.press(*"Pasted heading")
        editor.query_one("#je-body").insert(typed)
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert "backslash" in str(editor.query_one("#je-status").render())
        written = journal.read_text(encoding="utf-8")
        assert written == reference_journal.read_text(encoding="utf-8") + (
            "\n## 2026-06-18T01:02Z — Pasted heading\n\n"
            "Log said:\n\\## 2026-01-01T00:00Z — fake entry\nend.\n"
        )
        assert [e.title for e in editor.journal.entries][-1] == "Pasted heading"
        assert len(editor.journal.entries) == 4
        entries = editor.query_one("#je-entries")
        entries.focus()
        entries.highlighted = 3
        await pilot.press("enter")
        await pilot.pause()
        assert editor.query_one("#je-body").text == typed  # as typed, not escaped
        assert not editor.is_dirty
        await pilot.press("ctrl+s")  # saved unchanged: the same bytes
        await _settle(app, pilot)
    assert journal.read_text(encoding="utf-8") == written


async def test_flattened_journal_is_named_instead_of_no_entries(
    tmp_path: Path, flattened_journal: Path
) -> None:
    journal = tmp_path / "JOURNAL-redfix.md"
    journal.write_bytes(flattened_journal.read_bytes())
    app = EditorApp(journal, tmp_path / "state")
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.query_one(JournalEditor)
        await pilot.pause()
        preview = editor.query_one("#je-preview").source
        assert "lost its line breaks" in preview and "No entries yet" not in preview
        assert f"redfix-tui journal unflatten {journal}" in preview
        options = editor.query_one("#je-entries")
        assert options.option_count == 1 and options.get_option_at_index(0).disabled
        await pilot.press(*"Mine")
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert app.saved == []
        assert "unflatten" in str(editor.query_one("#je-status").render())
    assert journal.read_bytes() == flattened_journal.read_bytes()


async def test_empty_journal_still_says_no_entries_yet(tmp_path: Path) -> None:
    journal = tmp_path / "J.md"
    journal.write_bytes(b"")
    app = EditorApp(journal, tmp_path / "state")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "No entries yet" in app.query_one("#je-preview").source
