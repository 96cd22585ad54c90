"""RunHistory: one recipe's run ledger — the answers on top, every run below, newest first.

The answers are the ledger's: per stage the grade over the runs on the newest tag
(deterministic, flaky k of n, not enough evidence, passing) with the attempts it was computed
from, and "failing since" (the run, its tag, what changed). The table lists every run: when it
finished, its kind (sweep or isolation), its tag, its stage verdicts as the board draws them,
and its exit status. ``enter`` asks for a run's JUnit, ``l`` for its log, ``space`` marks a row,
and with two marked runs ``c`` (or ``enter``) asks for their JUnit comparison: each request is a
message (:class:`RunHistory.RunOpened`, :class:`RunHistory.LogOpened`,
:class:`RunHistory.CompareOpened`) the screen acts on. Everything read on the node is shown as
plain text.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from ..safe_text import clean, plain
from .recipe_board import GLYPHS, stage_glyphs

if TYPE_CHECKING:
    from ..runs.grades import Grade
    from ..runs.ledger import RecipeLedger
    from ..runs.model import RunSummary

MARK = "●"
"""Shown in the first column of a marked run."""
GRADE_STYLES = {
    "deterministic": "bold red",
    "flaky": "bold yellow",
    "not enough evidence": "yellow",
    "passing": "green",
}
"""How each grade is drawn (its words read without colour)."""
KIND_WORDS = {"sweep": "sweep", "isolation": "isolation"}


def when_text(when: datetime | None) -> str:
    """``2026-06-17 23:44`` (UTC), or ``?`` when the run's end is not known."""
    return when.strftime("%Y-%m-%d %H:%M") if when is not None else "?"


def short_when(when: datetime | None) -> str:
    """``06-17 23:44`` for an attempt in a grade's line."""
    return when.strftime("%m-%d %H:%M") if when is not None else "?"


def exit_text(run: RunSummary) -> Text:
    """The run's exit status (``0``, ``1``…), ``·`` when unknown (sweep runs do not keep one)."""
    if run.exit_status is None:
        return Text("·", style="dim")
    return Text(str(run.exit_status), style="bold red" if run.exit_status else "green")


def run_key(run: RunSummary) -> str:
    """The run's row key: kind and run id (a sweep id and an archive stamp never collide)."""
    return f"{run.kind}:{run.run_id}"


def grade_line(grade: Grade, width: int = 8, grade_width: int = 0) -> Text:
    """``restore deterministic  3 of 3 failed  ✘ isolation 06-18 00:03 · ✘ sweep 06-17 03:19``
    (the stage padded to ``width``, the grade to ``grade_width``)."""
    text = Text()
    text.append(f" {clean(grade.stage):<{width}} ")
    text.append(f"{grade.grade:<{grade_width}}", style=GRADE_STYLES.get(grade.grade, ""))
    count = len(grade.attempts)
    failed = grade.failed
    counted = f"{failed} of {count} failed" if failed else f"{count} of {count} passed"
    text.append(f"  {counted}")
    if grade.note:
        text.append(f" ({clean(grade.note)})", style="italic")
    text.append("  ")
    for index, (run, verdict) in enumerate(grade.attempts):
        if index:
            text.append(" · ", style="dim")
        glyph, style = GLYPHS.get(verdict, GLYPHS["unknown"])
        text.append(glyph, style=style)
        text.append(f" {KIND_WORDS.get(run.kind, clean(run.kind))} {short_when(run.finished)}")
    return text


class RunHistory(Vertical):
    """A recipe's ledger: the graded answers above the table of its runs (see the module)."""

    DEFAULT_CSS = """
    RunHistory {
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text;
        &:focus-within { border: round $primary; }
        & > #history-answers { height: auto; max-height: 45%; text-wrap: nowrap;
                               text-overflow: ellipsis; }
        & > #history-since { height: auto; }
        & > #history-state { height: auto; color: $text-muted; }
        & > #history-state.-error { color: $error; text-style: bold; }
        & > #history-runs { height: 1fr; scrollbar-size-horizontal: 1; }
    }
    """

    BINDINGS = [
        Binding("enter", "open", "JUnit", id="history.open", priority=True),
        Binding("space", "mark", "Mark", id="history.mark"),
        Binding("c", "compare", "Compare", id="history.compare"),
        Binding("l", "log", "Log", id="history.log"),
    ]

    class RunOpened(Message):
        """Show this run's JUnit results."""

        def __init__(self, run: RunSummary) -> None:
            self.run = run
            super().__init__()

    class LogOpened(Message):
        """Show this run's log."""

        def __init__(self, run: RunSummary) -> None:
            self.run = run
            super().__init__()

    class CompareOpened(Message):
        """Show the JUnit comparison of two runs (``first`` the older)."""

        def __init__(self, first: RunSummary, second: RunSummary) -> None:
            self.first = first
            self.second = second
            super().__init__()

    def __init__(self, recipe: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.recipe = recipe
        self.ledger: RecipeLedger | None = None
        self.runs: dict[str, RunSummary] = {}
        """The shown runs by row key."""
        self.marked: list[str] = []
        """Row keys of the marked runs, in the order they were marked (at most two)."""
        self.answers = Text()
        """The answers shown above the table."""
        self.state = ""
        """The one-line state shown (loading, empty, error, a problem), "" for none."""
        self.border_title = plain(f"History of {recipe}")

    def compose(self) -> ComposeResult:
        """The answers, the one-line state (loading, empty, error) and the table."""
        yield Static("", id="history-answers")
        yield Static("", id="history-since")
        yield Static("", id="history-state")
        table: DataTable[Text] = DataTable(id="history-runs", cursor_type="row")
        yield table

    def on_mount(self) -> None:
        """The table's columns."""
        table = self.table
        for label, key, width in (
            (" ", "mark", 1),
            ("Finished (UTC)", "when", 16),
            ("Kind", "kind", 9),
            ("Tag", "tag", None),
            ("Stages", "stages", 6),
            ("Exit", "exit", 4),
            ("Run", "run", None),
        ):
            table.add_column(label, key=key, width=width)

    @property
    def table(self) -> DataTable[Text]:
        """The table of runs."""
        return self.query_one("#history-runs", DataTable)

    # -- states -------------------------------------------------------------------------------

    def _state(self, text: str, *, error: bool = False) -> None:
        """Put one line (or nothing) into the state line."""
        self.state = text
        line = self.query_one("#history-state", Static)
        line.update(plain(text))
        line.display = bool(text)
        line.set_class(error, "-error")

    def show_loading(self) -> None:
        """Say the ledger is being read."""
        self._state(f"reading the run ledger of {self.recipe} on the node…")

    def show_error(self, message: str) -> None:
        """Say why the ledger could not be read (what failed, what to do)."""
        self._state(f"ledger not read: {message} — ctrl+r tries again", error=True)

    def show_ledger(self, ledger: RecipeLedger, problems: list[str] | None = None) -> None:
        """Show ``ledger``: its answers and its runs (the cursor and marks kept where they can)."""
        self.ledger = ledger
        table = self.table
        cursor = self._key_at_cursor()
        self.runs = {run_key(run): run for run in ledger.runs}
        self.marked = [key for key in self.marked if key in self.runs]
        table.clear()
        for key, run in self.runs.items():
            table.add_row(*self._cells(key, run), key=key)
        if cursor in self.runs:
            table.move_cursor(row=table.get_row_index(cursor))
        grades, since = self._answers(ledger)
        self.answers = Text("\n").join(part for part in (grades, since) if part)
        self.query_one("#history-answers", Static).update(grades)
        self.query_one("#history-answers", Static).display = bool(grades)
        self.query_one("#history-since", Static).update(since)
        self.query_one("#history-since", Static).display = bool(since)
        notes = [*(problems or []), *ledger.problems]
        if not ledger.runs:
            self._state(
                f"no runs of {self.recipe} in the ledger (no sweep results.json names it, "
                "no isolation run is archived)"
            )
        elif notes:
            more = f" (+{len(notes) - 1} more)" if len(notes) > 1 else ""
            self._state(f"⚠ {notes[0]}{more}")
        else:
            self._state("")
        count = len(ledger.runs)
        self.border_title = plain(f"History of {self.recipe} ({count} run{'s' * (count != 1)})")
        self._subtitle()

    def _answers(self, ledger: RecipeLedger) -> tuple[Text, Text]:
        """The grades with their attempts (one line per stage, cut at the edge rather than
        wrapped), and "failing since" (wrapped: what changed is at its end)."""
        grades = Text()
        verdicts = ledger.verdicts
        if verdicts:
            tag = next(iter(verdicts.values())).tag
            grades.append(f" Grades on {clean(tag) or 'an unknown tag'}", style="bold")
            grades.append(" (attempts newest first)", style="dim")
            width = max(len(stage) for stage in verdicts)
            grade_width = max(len(grade.grade) for grade in verdicts.values())
            for grade in verdicts.values():
                grades.append("\n")
                grades.append_text(grade_line(grade, width, grade_width))
        since = ledger.failing_since
        if since is not None:
            answer = Text(" ")
            answer.append_text(plain(since.text[0].upper() + since.text[1:], "bold"))
        elif ledger.runs:
            answer = Text(" Green now: the newest run with verdicts passed", style="green")
        else:
            answer = Text()
        return grades, answer

    def _cells(self, key: str, run: RunSummary) -> list[Text]:
        """One row: mark, when, kind, tag, stage glyphs, exit, run id."""
        mark = Text(MARK if key in self.marked else " ", style="bold")
        return [
            mark,
            Text(when_text(run.finished)),
            Text(KIND_WORDS.get(run.kind, clean(run.kind))),
            plain(run.tag or "?"),
            stage_glyphs(run.stages),
            exit_text(run),
            plain(run.run_id, "dim"),
        ]

    def _subtitle(self) -> None:
        """What the keys do now (marks counted)."""
        count = len(self.marked)
        if count == 2:
            self.border_subtitle = "2 marked: c compares"
        elif count == 1:
            self.border_subtitle = "1 marked: mark another to compare"
        else:
            self.border_subtitle = "enter JUnit · l log · space mark"

    # -- the cursor and the keys --------------------------------------------------------------

    def _key_at_cursor(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @property
    def selected(self) -> RunSummary | None:
        """The run under the cursor."""
        key = self._key_at_cursor()
        return self.runs.get(key) if key is not None else None

    def marked_runs(self) -> list[RunSummary]:
        """The marked runs, oldest first."""
        runs = [self.runs[key] for key in self.marked if key in self.runs]
        order = list(self.runs)  # newest first
        return sorted(runs, key=lambda run: order.index(run_key(run)), reverse=True)

    def action_mark(self) -> None:
        """Mark or unmark the run under the cursor (a third mark drops the oldest one)."""
        key = self._key_at_cursor()
        if key is None:
            return
        if key in self.marked:
            self.marked.remove(key)
        else:
            self.marked.append(key)
            if len(self.marked) > 2:
                dropped = self.marked.pop(0)
                self._redraw_mark(dropped)
        self._redraw_mark(key)
        self._subtitle()

    def _redraw_mark(self, key: str) -> None:
        table = self.table
        shown = Text(MARK if key in self.marked else " ", style="bold")
        table.update_cell(key, "mark", shown)

    def action_open(self) -> None:
        """JUnit of the run under the cursor; with two marked runs, their comparison."""
        if len(self.marked) == 2:
            self.action_compare()
            return
        run = self.selected
        if run is not None:
            self.post_message(self.RunOpened(run))

    def action_compare(self) -> None:
        """The JUnit comparison of the two marked runs."""
        runs = self.marked_runs()
        if len(runs) != 2:
            self.notify("mark two runs with space to compare them", severity="warning")
            return
        self.post_message(self.CompareOpened(runs[0], runs[1]))

    def action_log(self) -> None:
        """The log of the run under the cursor."""
        run = self.selected
        if run is not None:
            self.post_message(self.LogOpened(run))
