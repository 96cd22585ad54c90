"""Tree labels for :class:`~redfix_tui.widgets.junit_view.JUnitView`: glyphs, colours, counts.

Every label is plain Rich ``Text`` (no markup, so test names are never interpreted; escapes and
controls made visible by :func:`redfix_tui.safe_text.clean`) and reads without colour: the
glyphs of :mod:`redfix_tui.junit.tree` carry the status, the styles only repeat it.
"""

from __future__ import annotations

from rich.text import Text

from redfix_tui.junit.compare import CaseChange, StageComparison, Verdict
from redfix_tui.junit.model import Status
from redfix_tui.junit.tree import GLYPHS, UNREADABLE_GLYPH, Kind, TreeItem, badge
from redfix_tui.safe_text import clean

STATUS_STYLE = {
    Status.PASSED: "green",
    Status.FAILED: "bold red",
    Status.ERROR: "bold magenta",
    Status.SKIPPED: "yellow",
    Status.FLAKY: "bold yellow",
    Status.XFAIL: "cyan",
}
"""The colour of each status's glyph."""

VERDICT_STYLE = {
    Verdict.NEW_FAILURE: "bold red",
    Verdict.STILL_FAILING: "red",
    Verdict.FIXED: "green",
    Verdict.FLAKY: "yellow",
}
"""The colour of each comparison verdict (others are dim)."""

STAGE_VERDICTS = (Verdict.NEW_FAILURE, Verdict.STILL_FAILING, Verdict.FIXED, Verdict.FLAKY)
"""Verdicts counted on a comparison's stage row, in this order."""


def status_glyph(status: Status | None) -> Text:
    """A status glyph in its colour (``None``: the unreadable-file glyph)."""
    if status is None:
        return Text(UNREADABLE_GLYPH, style="bold red")
    return Text(GLYPHS[status], style=STATUS_STYLE[status])


def item_label(item: TreeItem) -> Text:
    """The tree label of ``item``: glyph, name, then counts (all plain Text, no markup)."""
    label = Text.assemble(status_glyph(item.status), " ", clean(item.label))
    if item.counts is not None and item.kind is not Kind.CASE:
        label.append(f"  {badge(item.counts)}", style="dim")
    return label


def change_label(change: CaseChange) -> Text:
    """A comparison row: both statuses, the id and the verdict."""
    first = status_glyph(change.first.status) if change.first else Text("·")
    second = status_glyph(change.second.status) if change.second else Text("·")
    label = Text.assemble(first, "→", second, " ", clean(change.test_id), "  ")
    label.append(change.verdict.value, style=VERDICT_STYLE.get(change.verdict, "dim"))
    return label


def stage_label(stage: StageComparison, unchanged: int) -> Text:
    """A comparison's stage row: its name, how many cases got each verdict, then the rest."""
    label = Text(clean(stage.stage), style="bold")
    for verdict in STAGE_VERDICTS:
        if number := stage.count(verdict):
            label.append(f"  {number} {verdict.value}", style=VERDICT_STYLE[verdict])
    label.append(f"  {unchanged} unchanged", style="dim")
    return label
