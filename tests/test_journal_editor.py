"""JournalEditor driven by Pilot in a tiny App: type, insert evidence, save, cancel, drafts."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input

from redfix_tui.evidence import JUnitEvidence, LogEvidence
from redfix_tui.journal.drafts import Draft, DraftAutosave, DraftStore, FormState
from redfix_tui.journal.model import parse
from redfix_tui.widgets.choice_dialog import ChoiceDialog
from redfix_tui.widgets.journal_dialogs import ConfirmScreen
from redfix_tui.widgets.journal_editor import JournalEditor
from redfix_tui.widgets.journal_entries import JournalEntriesPanel
from redfix_tui.widgets.journal_form import EntryForm

from .journal_app import FIXED_NOW, EditorApp

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


def test_draft_autosave_holds_back_until_the_offer_is_answered(
    tmp_path: Path, reference_journal: Path
) -> None:
    store = DraftStore(tmp_path / "J.md", state_dir=tmp_path / "state")
    store.save(Draft(title="Left by a crash", body="x"))
    autosave = DraftAutosave(store, now=lambda: FIXED_NOW)
    assert autosave.pending().title == "Left by a crash"
    assert not autosave.save(FormState("Typed meanwhile", "y"))  # would clobber the offer
    assert store.load().title == "Left by a crash"
    journal = parse(reference_journal.read_text(encoding="utf-8"))
    assert autosave.answer(store.load(), False, journal) is None
    assert store.load() is None  # declined: deleted, and autosave runs from now on
    autosave.note_change()
    assert autosave.save(FormState("Typed meanwhile", "y")) and not autosave.due
    assert store.load().saved_at == "2026-06-18T01:02:30+00:00"
    assert not autosave.save(FormState("Typed meanwhile", "y"))  # unchanged: not rewritten
    store.delete()
    assert not autosave.save(FormState("Typed meanwhile", "y")) and store.load() is None


def test_draft_autosave_restores_the_edited_entry_or_says_it_is_lost(
    tmp_path: Path, reference_journal: Path
) -> None:
    journal = parse(reference_journal.read_text(encoding="utf-8"))
    entry = journal.entries[1]
    store = DraftStore(tmp_path / "J.md", state_dir=tmp_path / "state")
    autosave = DraftAutosave(store, now=lambda: FIXED_NOW)
    autosave.ready = True
    untouched = FormState(entry.title, entry.body, None, entry, (entry.title, entry.body))
    autosave.save(FormState("New title", entry.body, None, entry, untouched.baseline))
    draft = store.load()
    assert draft.editing_key == entry.key and draft.title == "New title"
    restored = autosave.answer(draft, True, journal)
    assert restored.editing == entry and not restored.lost_entry
    assert restored.state.baseline == (entry.title, entry.body)
    assert restored.state.dirty and restored.state.title == "New title"
    gone = parse(journal.text.replace(entry.body, "rewritten by someone\n"))
    lost = autosave.answer(draft, True, gone)
    assert lost.lost_entry and lost.editing is None and lost.state.baseline == ("", "")
    assert untouched.to_draft().is_empty  # nothing typed: only which entry, not worth a file


def test_draft_autosave_write_failure_raises_and_is_retried(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "drafts").write_text("a file where the directory should be")
    store = DraftStore(tmp_path / "J.md", state_dir=tmp_path / "state")
    autosave = DraftAutosave(store, now=lambda: FIXED_NOW)
    autosave.ready = True
    autosave.note_change()
    with pytest.raises(OSError):
        autosave.save(FormState("Kept", "body"))
    assert autosave.due  # still due: the next tick tries again
    (tmp_path / "state" / "drafts").unlink()
    assert autosave.save(FormState("Kept", "body")) and store.load().title == "Kept"


async def test_draft_write_failure_is_one_status_line(journal: Path, tmp_path: Path) -> None:
    app = EditorApp(journal, tmp_path / "state")
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.query_one(JournalEditor)
        await pilot.pause()
        (tmp_path / "state").mkdir()
        (tmp_path / "state" / "drafts").write_text("not a directory")
        await pilot.press(*"Unlucky")
        editor.save_draft()
        await pilot.pause()
        status = str(editor.query_one("#je-status").render())
        assert status.startswith("Could not save the draft to ") and "\n" not in status
        assert editor.has_class("-error")
        assert any("Could not save the draft" in n.message for n in app._notifications)


class FormApp(App[None]):
    """An EntryForm on its own, recording what it reports."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[bool] = []

    def compose(self) -> ComposeResult:
        yield EntryForm(now=lambda: FIXED_NOW)

    def on_entry_form_changed(self, message: EntryForm.Changed) -> None:
        self.changes.append(message.dirty)


async def test_entry_form_stands_alone_and_reports_changes() -> None:
    app = FormApp()
    async with app.run_test(size=(80, 12)) as pilot:
        form = app.query_one(EntryForm)
        await pilot.pause()
        assert app.changes == []  # the clock filling the stamp is not a change
        form.focus_title()
        await pilot.press(*"Hi")
        await pilot.pause()
        assert app.changes == [True, True]
        assert str(form.query_one("#je-heading").render()) == "## 2026-06-18T01:02Z — Hi"
        form.query_one("#je-stamp").value = "2026-06-17T22:00"  # no Z: not a stamp
        await pilot.pause()
        assert form.has_class("-fixed-stamp") and form.fixed_stamp == "2026-06-17T22:00"
        assert str(form.query_one("#je-heading").render()).startswith("## 2026-06-17T22:00? —")
        assert form.state() == FormState("Hi", "", "2026-06-17T22:00", None, ("", ""))
        form.clear()
        await pilot.pause()
        assert not form.is_dirty and app.changes[-1] is False
        assert not form.has_class("-fixed-stamp")


class PanelApp(App[None]):
    """A JournalEntriesPanel on its own, recording the entries chosen."""

    def __init__(self, journal_text: str) -> None:
        super().__init__()
        self.journal_text = journal_text
        self.chosen: list[str] = []

    def compose(self) -> ComposeResult:
        yield JournalEntriesPanel(id="je-side")

    def on_mount(self) -> None:
        self.query_one(JournalEntriesPanel).show_journal(parse(self.journal_text))

    def on_journal_entries_panel_selected(self, message: JournalEntriesPanel.Selected) -> None:
        self.chosen.append(message.entry.title)


async def test_entries_panel_reports_the_chosen_entry(reference_journal: Path) -> None:
    app = PanelApp(reference_journal.read_text(encoding="utf-8"))
    async with app.run_test(size=(100, 12)) as pilot:
        entries = app.query_one("#je-entries")
        entries.focus()
        entries.highlighted = 0
        await pilot.press("enter")
        await pilot.pause()
        assert app.chosen == ["Bootstrap"]


async def test_unreadable_draft_is_one_status_line_and_autosave_stays_off(
    journal: Path, tmp_path: Path
) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "drafts").write_text("not a directory")
    app = EditorApp(journal, tmp_path / "state")
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.query_one(JournalEditor)
        await pilot.pause()
        status = str(editor.query_one("#je-status").render())
        assert status.startswith("Could not read the draft at ") and "autosave is off" in status
        await pilot.press(*"Still works", "ctrl+s")
        await _settle(app, pilot)
        assert [m.entry.title for m in app.saved] == ["Still works"]
    assert (tmp_path / "state" / "drafts").read_text() == "not a directory"


async def test_body_gets_half_of_an_80x24_terminal(journal: Path, tmp_path: Path) -> None:
    app = EditorApp(journal, tmp_path / "state")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        editor = app.query_one(JournalEditor)
        body = editor.query_one("#je-body")
        stamp, title = editor.query_one("#je-stamp"), editor.query_one("#je-title")
        assert body.outer_size.height >= 12  # was 7 (5 text rows) under two 3-row inputs
        assert editor.form.compact and stamp.region.y == title.region.y
        assert stamp.outer_size.height == title.outer_size.height == 1
        await pilot.press(*"Compact", "tab", *"still types")
        assert (title.value, body.text) == ("Compact", "still types")
        stamp.value = "2026-06-17T22:00Z"
        await pilot.pause()
        assert editor.form.has_class("-fixed-stamp")
        await pilot.resize_terminal(80, 40)  # tall enough: the bordered 3-row inputs come back
        await pilot.pause()
        assert not editor.form.compact and title.outer_size.height == 3
        assert body.outer_size.height >= 12


def _cited(path: str, first: int) -> LogEvidence:
    return LogEvidence(
        "cc-ci", path, first, first + 1, ("a", "b"), byte_range=(10, 13), sha256="0" * 64
    )


async def test_o_on_an_entry_opens_its_cited_lines_or_asks_which(
    journal: Path, tmp_path: Path
) -> None:
    """``o`` in the entry list: no reference → one warning line; one → posted at once;
    several → the operator picks one."""
    opened: list[tuple[str, str]] = []

    class Host(EditorApp):
        def on_journal_entries_panel_open_evidence(
            self, event: JournalEntriesPanel.OpenEvidence
        ) -> None:
            opened.append((event.entry.title, f"{event.citation.path} {event.citation.span}"))

    app = Host(journal, tmp_path / "state")
    async with app.run_test(size=(120, 40)) as pilot:
        editor = app.query_one(JournalEditor)
        entries = editor.query_one("#je-entries")
        await pilot.pause()
        entries.focus()
        await pilot.press("o")  # the reference journal's last entry cites nothing citable
        await pilot.pause()
        assert opened == []
        assert any("cites no log lines" in n.message for n in app._notifications)
        for count, title in ((1, "one excerpt"), (2, "two excerpts")):
            await pilot.press("ctrl+n")
            editor.query_one("#je-title", Input).value = title
            for n in range(count):
                editor.insert_evidence(_cited(f"/tmp/redfix-{n}.log", 10 * n + 1))
            await pilot.press("ctrl+s")
            await _settle(app, pilot)
        entries.focus()
        await pilot.pause()
        # The preview (Markdown) shows the evidence, never the reference comment.
        shown = app.export_screenshot()
        assert "Evidence" in shown
        assert "redfix-evidence" not in shown
        entries.highlighted = entries.option_count - 2
        await pilot.press("o")
        await pilot.pause()
        assert opened == [("one excerpt", "/tmp/redfix-0.log lines 1–2")]
        entries.highlighted = entries.option_count - 1
        await pilot.press("o")
        await until_screen(pilot, ChoiceDialog)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert opened[-1] == ("two excerpts", "/tmp/redfix-1.log lines 11–12")


async def until_screen(pilot, kind: type) -> None:
    """Let the app run until a screen of ``kind`` is on top."""
    for _ in range(200):
        if isinstance(pilot.app.screen, kind):
            return
        await pilot.pause(0.02)
    raise AssertionError(f"no {kind.__name__} shown")
