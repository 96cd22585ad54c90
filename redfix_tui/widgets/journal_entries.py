"""The journal editor's side panel: the list of entries and a Markdown preview of them.

Highlighting an entry previews it; selecting one posts :class:`JournalEntriesPanel.Selected` and
leaves the rest to the editor (it may have to ask before dropping unsaved text). ``o`` on an
entry that cites log lines (an evidence reference, :mod:`redfix_tui.journal.citations`) posts
:class:`JournalEntriesPanel.OpenEvidence` for the screen to open the log at those lines (the
operator picks one when the entry cites several).
A journal that lost its line breaks is said so, with the command that recovers it, instead of
"No entries yet".
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Markdown, OptionList
from textual.widgets.option_list import Option

from redfix_tui.journal.citations import Citation, parse_citations
from redfix_tui.journal.flattened import flattened_entries, unflattened_path
from redfix_tui.journal.model import Entry, Journal
from redfix_tui.widgets.choice_dialog import ChoiceDialog

PREVIEW_LATEST = 3
"""How many of the latest entries the preview shows when none is highlighted."""


def flattened_notice(count: int, path: Path | None) -> str:
    """Markdown saying the journal lost its line breaks and how to recover it."""
    shown = str(path) if path is not None else "JOURNAL"
    target = unflattened_path(Path(shown))
    return (
        f"**This journal has lost its line breaks** ({count} entries on one line). "
        f"Run `redfix-tui journal unflatten {shown}` in a shell: it writes a recovered copy to "
        f"`{target}` (the journal itself is left alone). Saving here is refused until then."
    )


class JournalEntriesPanel(Vertical):
    """Entry list (``#je-entries``) beside the preview (``#je-preview``), or above it.

    Its size is set by :class:`~redfix_tui.widgets.journal_editor.JournalEditor`, whose width
    decides whether the panel sits below the form (a row) or in a column to the right.
    """

    DEFAULT_CSS = """
    JournalEntriesPanel { layout: horizontal; }
    JournalEntriesPanel.-column { layout: vertical; }
    JournalEntriesPanel #je-entries {
        width: 1fr;
        height: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    JournalEntriesPanel.-column #je-entries { height: 12; }
    JournalEntriesPanel #je-preview-scroll { width: 2fr; height: 1fr; }
    JournalEntriesPanel.-column #je-preview-scroll { width: 1fr; }
    JournalEntriesPanel #je-preview { margin: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "open_evidence", "Open cited lines", id="journal.open_evidence"),
    ]

    column: reactive[bool] = reactive(False, toggle_class="-column")
    """List above the preview (a column beside the form) instead of beside it (a row below)."""

    class Selected(Message):
        """The operator chose an entry of the list (enter or click) to edit it."""

        def __init__(self, panel: JournalEntriesPanel, entry: Entry) -> None:
            super().__init__()
            self.panel = panel
            """The panel the entry was chosen in."""
            self.entry = entry
            """The chosen entry."""

        @property
        def control(self) -> JournalEntriesPanel:
            """The panel the entry was chosen in (for ``@on`` selectors)."""
            return self.panel

    class OpenEvidence(Message):
        """The operator asked to see the log lines an entry cites (``o``)."""

        def __init__(self, panel: JournalEntriesPanel, entry: Entry, citation: Citation) -> None:
            super().__init__()
            self.panel = panel
            """The panel the entry was chosen in."""
            self.entry = entry
            """The entry that cites the lines."""
            self.citation = citation
            """The reference to open."""

        @property
        def control(self) -> JournalEntriesPanel:
            """The panel the entry was chosen in (for ``@on`` selectors)."""
            return self.panel

    def __init__(self, *, id: str | None = None) -> None:
        """An empty list until :meth:`show_journal` is called."""
        super().__init__(id=id)
        self._shown: list[Entry] = []
        self._entries = OptionList(id="je-entries")
        self._preview = Markdown(id="je-preview")

    def compose(self) -> ComposeResult:
        """The list, then the scrollable preview."""
        yield self._entries
        with VerticalScroll(id="je-preview-scroll"):
            yield self._preview

    def on_mount(self) -> None:
        """Title the list."""
        self._entries.border_title = "Entries"

    def show_journal(self, journal: Journal, path: Path | None = None) -> None:
        """List ``journal``'s entries, highlight the last, preview the latest few.

        ``path`` (the journal's file) is named in the notice shown for a flattened journal.
        """
        entries = journal.entries
        flattened = flattened_entries(journal.text) if not entries else 0
        self._shown = entries
        self._entries.set_options(
            Option(f"{e.stamp:%m-%d %H:%M} {e.title}", id=str(e.index)) for e in entries
        )
        if entries:
            self._entries.highlighted = len(entries) - 1
        latest = entries[-PREVIEW_LATEST:]
        text = "\n\n".join(f"{e.heading}\n\n{e.body}" for e in reversed(latest))
        if flattened:
            self._entries.set_options([Option("Lost its line breaks", disabled=True)])
            text = flattened_notice(flattened, path)
        self._preview.update(text or "*No entries yet.*")

    def entry_for(self, option: Option) -> Entry | None:
        """The listed entry behind ``option`` (None when it is not one of ours)."""
        entries = self._shown
        index = int(option.id or -1)
        return entries[index] if 0 <= index < len(entries) else None

    @on(OptionList.OptionSelected, "#je-entries")
    def _entry_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        entry = self.entry_for(event.option)
        if entry is not None:
            self.post_message(self.Selected(self, entry))

    @on(OptionList.OptionHighlighted, "#je-entries")
    def _entry_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        entry = self.entry_for(event.option)
        if entry is not None:
            self._preview.update(f"{entry.heading}\n\n{entry.body}\n")

    @property
    def highlighted_entry(self) -> Entry | None:
        """The entry under the list's cursor, if any."""
        index = self._entries.highlighted
        if index is None:
            return None
        return self.entry_for(self._entries.get_option_at_index(index))

    def action_open_evidence(self) -> None:
        """Open the log lines the highlighted entry cites (ask which, when it cites several)."""
        entry = self.highlighted_entry
        if entry is None:
            self.notify("highlight an entry first", severity="warning")
            return
        cited = [c for c in parse_citations(entry.body) if c.kind == "log"]
        if not cited:
            self.notify(
                f"“{entry.title}” cites no log lines (no evidence reference from e in the log)",
                severity="warning",
                markup=False,
            )
            return
        if len(cited) == 1:
            self.post_message(self.OpenEvidence(self, entry, cited[0]))
            return
        choices = [(str(i), f"{c.where} {c.span}") for i, c in enumerate(cited)]

        def chosen(value: str | None) -> None:
            if value is not None:
                self.post_message(self.OpenEvidence(self, entry, cited[int(value)]))

        self.app.push_screen(ChoiceDialog("Open which cited lines?", choices, "0"), chosen)
