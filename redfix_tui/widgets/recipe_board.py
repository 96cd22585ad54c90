"""The recipe board: one row per recipe, its canonical, sweep and isolation verdicts per stage."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from ..evidence import RecipeEvidence
from ..recipes import RecipeStatus, age_text
from ..runs.model import BAD, STAGES, RunSummary
from ..safe_text import clean, plain
from ..tracker import SHORT, TrackerEntry

GLYPHS = {
    "passed": ("✔", "green"),
    "failed": ("✘", "bold red"),
    "error": ("!", "bold red"),
    "skipped": ("⊘", "yellow"),
    "running": ("▶", "bold cyan"),
    "unknown": ("·", "dim"),
}
"""Stage verdict glyphs: each reads without colour too."""

COMPACT_COLUMNS = (" Recipe", "Sweep", "Iso", "Class")
"""The compact board's column labels (their keys are the lower-cased words)."""
WIDE_COLUMNS = (" Recipe", "Canonical", "Age", "Sweep", "Iso", "Classification")
"""The wide board's column labels."""
GAP = 1
"""Blank cells after each column (the table's cell padding is 0)."""
CHROME = 3
"""Cells around the columns: the border (2) and the vertical scrollbar (1)."""


MARKED = "●"
"""Shown before a marked recipe's name."""
QUEUED = "⧗"
"""Shown with a queued rerun's place in the queue."""
TEARDOWN_LEFT = "⚑"
"""Shown after the isolation glyphs when a rerun left its recipe's stack behind."""
_MARK_WORDS = {"✔": "passed", "✘": "failed", "!": "error", "⊘": "skipped"}


def stage_glyphs(run: RunSummary | dict[str, str] | None, running_stage: str | None = None) -> Text:
    """Five glyphs, one per stage in harness order (``·`` where the run has no such stage)."""
    stages = run.stages if isinstance(run, RunSummary) else (run or {})
    text = Text()
    for stage in STAGES:
        status = stages.get(stage, "unknown")
        if running_stage == stage:
            status = "running"
        glyph, style = GLYPHS.get(status, GLYPHS["unknown"])
        text.append(glyph, style=style)
    return text


def stages_from_text(text: str) -> dict[str, str]:
    """Read back a tracker stage line such as ``install ✔ upgrade ✘ backup ✔``."""
    words = text.split()
    return {
        stage: _MARK_WORDS[mark]
        for stage, mark in zip(words[::2], words[1::2], strict=False)
        if stage in STAGES and mark in _MARK_WORDS
    }


def clock_text(seconds: int | None) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour on); ``?`` when unknown."""
    if seconds is None:
        return "?"
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class Progress:
    """A rerun in flight for one recipe: the stage it is in and the time spent there."""

    stage: str | None
    elapsed_s: int
    previous_s: int | None = None
    """That stage's duration in the last run, for comparison."""
    done: dict[str, str] = field(default_factory=dict)
    """Verdicts of the stages this run has finished."""

    def short(self) -> str:
        """``▶0:42`` — the time in the current stage."""
        return f"▶{clock_text(self.elapsed_s)}"

    def describe(self) -> str:
        """``upgrade 0:42/1:10`` — the stage, time there, and its duration in the last run."""
        stage = self.stage or "between stages"
        last = f"/{clock_text(self.previous_s)}" if self.previous_s is not None else ""
        return f"{stage} {clock_text(self.elapsed_s)}{last}"


class RecipeBoard(DataTable):
    """Every recipe under investigation at a glance; selecting a row drives the other panes."""

    DEFAULT_CSS = """
    RecipeBoard {
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text;
        scrollbar-size-vertical: 1;
    }
    RecipeBoard:focus { border: round $primary; }
    """

    BINDINGS = [
        Binding("s", "cycle_sort", "Sort", id="board.sort"),
        Binding("exclamation_mark", "toggle_red", "Red only", id="board.red_only"),
        Binding("e", "evidence", "Evidence", id="board.evidence"),
        Binding("space", "toggle_mark", "Mark", id="board.mark"),
    ]

    compact: reactive[bool] = reactive(True)
    """Narrow layout: recipe, sweep, isolation and a short classification only (chosen from
    :attr:`room`)."""
    room: reactive[int] = reactive(0)
    """Cells the board may take across: it shows its wide columns when they fit, else the
    compact ones (0: always compact)."""
    red_only: reactive[bool] = reactive(False)
    """Show only recipes whose last sweep or isolation run failed."""
    sort_key: reactive[str] = reactive("name")
    """``name``, ``verdict`` or ``age`` (canonical age)."""
    classification_filter: reactive[str] = reactive("")
    """Show only recipes with this classification ("" shows all)."""

    class RecipeSelected(Message):
        """The highlighted recipe changed."""

        def __init__(self, status: RecipeStatus) -> None:
            self.status = status
            super().__init__()

    class EvidenceRequested(Message):
        """The operator asked to put the highlighted recipe into the journal draft."""

        def __init__(self, evidence: RecipeEvidence) -> None:
            self.evidence = evidence
            super().__init__()

    def __init__(self, *, clock: Callable[[], datetime] | None = None, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._clock = clock or (lambda: datetime.now(UTC))
        self.statuses: dict[str, RecipeStatus] = {}
        self.tracker: dict[str, TrackerEntry] = {}
        self.progress: dict[str, Progress] = {}
        self.teardown: dict[str, bool] = {}
        """Recipe → whether its last rerun's teardown was clean (as seen by this console)."""
        self.marked: set[str] = set()
        """Recipes marked with space (``r`` queues them)."""
        self.queued: dict[str, int] = {}
        """Recipe → its place in the node's rerun queue (1 runs next)."""
        self.border_title = "Recipes"
        self._announced: str | None = None
        self.node_label = ""
        """The node the rows come from, shown in the title when several are configured."""
        self._widths: list[int] = []
        """The widths of the columns shown (rebuilt when the content needs others)."""
        # No cell padding: each column is as wide as its widest cell plus GAP (the latest tag is
        # in the detail line over the log).
        self.cell_padding = 0

    def on_mount(self) -> None:
        """Lay out the columns for the room given."""
        self._relayout()

    def column_widths(self, compact: bool) -> list[int]:
        """Each column's width for the recipes held: its widest cell or label, plus GAP."""
        labels = COMPACT_COLUMNS if compact else WIDE_COLUMNS
        widths = [cell_len(label) for label in labels]
        for status in self.statuses.values():
            for index, cell in enumerate(self._cells(status, compact)):
                widths[index] = max(widths[index], cell.cell_len)
        return [width + GAP for width in widths]

    def needed_width(self, compact: bool) -> int:
        """Cells across the board needs to show every column in full."""
        return sum(self.column_widths(compact)) + CHROME

    def _relayout(self) -> None:
        """Show the wide columns when they fit in :attr:`room`, else the compact ones."""
        compact = self.room <= 0 or self.needed_width(compact=False) > self.room
        if compact == self.compact:
            self._fill()
        else:
            self.compact = compact  # watch_compact fills the board

    def watch_room(self) -> None:
        """Choose the columns for the new room."""
        self._relayout()

    def watch_compact(self) -> None:
        """Rebuild the columns when the layout changes."""
        self._fill()

    def watch_red_only(self) -> None:
        """Refilter."""
        self._fill()

    def watch_classification_filter(self) -> None:
        """Refilter."""
        self._fill()

    def _subtitle(self) -> str:
        parts = [f"{len(self.marked)} marked: r queues"] if self.marked else []
        if self.red_only:
            parts.append("red only")
        if self.classification_filter:
            parts.append(SHORT.get(self.classification_filter, self.classification_filter))
        if self.sort_key != "name":
            parts.append(f"by {self.sort_key}")
        return " · ".join(parts)

    def watch_sort_key(self) -> None:
        """Resort."""
        self._fill()

    @property
    def selected(self) -> RecipeStatus | None:
        """The status of the highlighted recipe."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self.statuses.get(key or "")

    def show(self, statuses: list[RecipeStatus], tracker: dict[str, TrackerEntry]) -> None:
        """Replace the rows with fresh statuses, keeping the cursor on the same recipe."""
        self.statuses = {s.name: s for s in statuses}
        self.tracker = tracker
        self._relayout()

    def reset(self, node_label: str) -> None:
        """Empty the board for another node (the next highlighted recipe is announced anew)."""
        self._announced = None
        self.node_label = node_label
        self.progress = {}
        self.show([], {})

    def set_progress(self, progress: dict[str, Progress]) -> None:
        """Show reruns in flight (recipe → stage and time)."""
        if progress == self.progress:
            return
        self.progress = progress
        self._relayout()

    def set_teardown(self, recipe: str, clean: bool | None) -> None:
        """Flag (or clear) a stack left behind by ``recipe``'s last rerun."""
        if clean is None:
            self.teardown.pop(recipe, None)
        else:
            self.teardown[recipe] = clean
        self._relayout()

    def set_queue(self, places: dict[str, int]) -> None:
        """Show the node's rerun queue (recipe → place, 1 runs next)."""
        if places != self.queued:
            self.queued = places
            self._relayout()

    def _queue_text(self, recipe: str) -> Text | None:
        """``⧗ queued #2`` (``#1 (next)``) for a queued recipe, else None."""
        place = self.queued.get(recipe)
        if not place:
            return None
        return Text(f"{QUEUED} queued #{place}{' (next)' if place == 1 else ''}", style="cyan")

    def action_toggle_mark(self) -> None:
        """Mark or unmark the highlighted recipe (``r`` queues the marked ones)."""
        status = self.selected
        if status is None:
            return
        self.marked ^= {status.name}
        self._fill()

    def clear_marks(self) -> None:
        """Unmark every recipe."""
        if self.marked:
            self.marked = set()
            self._fill()

    def isolation_stages(self, status: RecipeStatus) -> dict[str, str]:
        """The last isolation verdicts: the node's results.json, else the tracker's record."""
        if status.isolation is not None:
            return dict(status.isolation.stages)
        entry = self.tracker.get(status.name)
        return stages_from_text(entry.stages) if entry else {}

    def _visible(self) -> list[RecipeStatus]:
        rows = list(self.statuses.values())
        if self.red_only:
            rows = [s for s in rows if self._red(s)]
        if self.classification_filter:
            rows = [
                s
                for s in rows
                if (self.tracker[s.name].classification if s.name in self.tracker else "unknown")
                == self.classification_filter
            ]
        if self.sort_key == "verdict":
            rows.sort(key=lambda s: (s.sweep is None or s.sweep.verdict != "failed", s.name))
        elif self.sort_key == "age":
            epoch = datetime.min.replace(tzinfo=UTC)
            rows.sort(
                key=lambda s: s.canonical.ts if s.canonical and s.canonical.ts else epoch,
                reverse=True,
            )
        else:
            rows.sort(key=lambda s: s.name)
        return rows

    def _red(self, status: RecipeStatus) -> bool:
        """True when the last sweep or the last isolation rerun had a failed stage."""
        verdicts = set(status.sweep.stages.values()) if status.sweep else set()
        verdicts |= set(self.isolation_stages(status).values())
        return bool(verdicts & BAD)

    def _cells(self, status: RecipeStatus, compact: bool) -> list[Text]:
        entry = self.tracker.get(status.name)
        classification = entry.classification if entry else "unknown"
        progress = self.progress.get(status.name)
        if progress is not None:
            iso = stage_glyphs(progress.done, progress.stage)
        else:
            iso = stage_glyphs(self.isolation_stages(status))
            if self.teardown.get(status.name) is False:
                iso.append(TEARDOWN_LEFT, style="bold yellow")
        name = Text(f"{MARKED if status.name in self.marked else ' '}{clean(status.name)}")
        name.stylize("bold" if progress else "")
        if status.problems:
            name.append(" ⚠", style="yellow")
        if compact:
            place = self.queued.get(status.name)
            waiting = Text(f"{QUEUED}#{place}", style="cyan") if place else None
            last = Text(progress.short(), style="bold cyan") if progress else waiting
            short = plain(SHORT.get(classification, "?"))
            return [name, stage_glyphs(status.sweep), iso, last or short]
        canonical = status.canonical
        return [
            name,
            plain(canonical.version) if canonical else Text("none", style="dim"),
            Text(age_text(canonical.ts if canonical else None, self._clock())),
            stage_glyphs(status.sweep),
            iso,
            plain(f"▶ {progress.describe()}", "bold cyan")
            if progress
            else self._queue_text(status.name) or plain(classification),
        ]

    def _fill(self, keep: str | None = None) -> None:
        if not self.is_mounted:
            return
        current = keep or (self.selected.name if self.selected else None)
        widths = self.column_widths(self.compact)
        if widths != self._widths:  # another layout, or content that needs other widths
            self.clear(columns=True)
            labels = COMPACT_COLUMNS if self.compact else WIDE_COLUMNS
            for label, width in zip(labels, widths, strict=True):
                self.add_column(label, width=width, key=label.strip().lower())
            self._widths = widths
        else:
            self.clear()
        for status in self._visible():
            self.add_row(*self._cells(status, self.compact), key=status.name)
        if current is not None:
            with contextlib.suppress(RowDoesNotExist):  # the row was filtered out
                self.move_cursor(row=self.get_row_index(current))
        on = f" on {self.node_label}" if self.node_label else ""
        self.border_title = plain(f"Recipes{on} ({self.row_count})")
        self.border_subtitle = plain(self._subtitle())

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Announce the newly highlighted recipe (not the passing rows of a rebuild)."""
        name = event.row_key.value or ""
        selected = self.selected
        if selected is None or selected.name != name or name == self._announced:
            return  # stale (the cursor moved on while the table was refilled) or no change
        self._announced = name
        self.post_message(self.RecipeSelected(selected))

    def action_cycle_sort(self) -> None:
        """Sort by name → verdict → canonical age."""
        order = ["name", "verdict", "age"]
        self.sort_key = order[(order.index(self.sort_key) + 1) % len(order)]
        self.notify(f"sorted by {self.sort_key}", timeout=2)

    def action_toggle_red(self) -> None:
        """Show only red recipes, or all."""
        self.red_only = not self.red_only

    def action_evidence(self) -> None:
        """Put the highlighted recipe's identity into the journal draft."""
        status = self.selected
        if status is None:
            return
        canonical = status.canonical
        self.post_message(
            self.EvidenceRequested(
                RecipeEvidence(
                    recipe=status.name,
                    tag=status.latest_tag,
                    canonical_version=canonical.version if canonical else "",
                    canonical_ts=canonical.ts.strftime("%Y%m%dT%H%M%SZ")
                    if canonical and canonical.ts
                    else "",
                )
            )
        )
