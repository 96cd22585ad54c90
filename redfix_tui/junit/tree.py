"""The drill-down as a plain tree (run → stage → suite → case), ready for any view to render.

Building it is cheap and Textual-free, so the widget's thread worker does it off the UI thread
and the benchmark can time it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from .model import BAD, STATUS_RANK, Case, Counts, JUnitFile, Run, Status, Suite

GLYPHS = {
    Status.PASSED: "✔",
    Status.FAILED: "✘",
    Status.ERROR: "!",
    Status.SKIPPED: "⊘",
    Status.FLAKY: "~",
    Status.XFAIL: "x",
}
"""One-character status marks that read without colour."""
UNREADABLE_GLYPH = "?"
"""Mark for a file that could not be read."""


class Kind(StrEnum):
    """What a tree item stands for."""

    RUN = "run"
    STAGE = "stage"
    FILE = "file"
    SUITE = "suite"
    CASE = "case"
    BAD_FILE = "bad-file"
    NOTE = "note"


def worst(counts: Counts) -> Status:
    """The status an aggregate node shows: the worst of its cases."""
    if counts.failed:
        return Status.FAILED
    if counts.errors:
        return Status.ERROR
    if counts.flaky:
        return Status.FLAKY
    if counts.passed or not counts.total:
        return Status.PASSED
    return Status.SKIPPED if counts.skipped else Status.XFAIL


def badge(counts: Counts) -> str:
    """Counts as glyphs, e.g. ``12 ✔9 ✘2 !1``; zero counts are left out."""
    parts = [str(counts.total)]
    for status, number in (
        (Status.PASSED, counts.passed),
        (Status.FAILED, counts.failed),
        (Status.ERROR, counts.errors),
        (Status.FLAKY, counts.flaky),
        (Status.SKIPPED, counts.skipped),
        (Status.XFAIL, counts.xfail),
    ):
        if number:
            parts.append(f"{GLYPHS[status]}{number}")
    return " ".join(parts)


@dataclass(slots=True)
class TreeItem:
    """One node of the drill-down."""

    kind: Kind
    label: str
    status: Status | None = None
    """A case's status, or the worst status below an aggregate; None for unreadable files."""
    counts: Counts | None = None
    stage: str = ""
    case: Case | None = None
    file: JUnitFile | None = None
    children: list[TreeItem] = field(default_factory=list)
    """Child nodes; a suite's cases are not here but made on demand by :func:`suite_children`."""
    suite: Suite | None = None

    @property
    def glyph(self) -> str:
        """The status mark for this node."""
        return GLYPHS[self.status] if self.status is not None else UNREADABLE_GLYPH

    @property
    def has_problems(self) -> bool:
        """Whether failures, errors or an unreadable file lie at or below this node."""
        if self.kind is Kind.BAD_FILE:
            return True
        if self.case is not None:
            return self.case.status in BAD
        return bool(self.counts and self.counts.bad) or any(
            c.kind is Kind.BAD_FILE for c in self.children
        )

    def walk(self) -> Iterator[TreeItem]:
        """This item and every item below it (cases included), depth first, in display order."""
        yield self
        for child in suite_children(self) if self.suite is not None else self.children:
            yield from child.walk()


def short_case_label(case: Case, file_prefix: str = "") -> str:
    """A case's id without the test file it shares with its suite."""
    label = case.test_id or case.name
    if file_prefix and label.startswith(file_prefix + "::"):
        label = label[len(file_prefix) + 2 :]
    return label


def _case_item(case: Case, stage: str, jf: JUnitFile) -> TreeItem:
    """A leaf for ``case``."""
    prefix = case.test_id.split("::", 1)[0] if "::" in case.test_id else ""
    return TreeItem(Kind.CASE, short_case_label(case, prefix), case.status, None, stage, case, jf)


def _suite_item(suite: Suite, stage: str, jf: JUnitFile, label: str) -> TreeItem:
    """A node for ``suite`` and its nested suites (its cases are made on demand)."""
    item = TreeItem(Kind.SUITE, label, worst(suite.counts), suite.counts, stage, None, jf)
    item.suite = suite
    item.children = [_suite_item(s, stage, jf, s.name or "(suite)") for s in suite.suites]
    return item


def suite_children(item: TreeItem) -> list[TreeItem]:
    """A suite node's children in display order: failing suites, failing cases, then the rest."""
    suite = item.suite
    if suite is None or item.file is None:
        return item.children
    cases = [_case_item(case, item.stage, item.file) for case in suite.cases]
    bad_suites = [child for child in item.children if child.has_problems]
    good_suites = [child for child in item.children if not child.has_problems]
    bad_cases = [child for child in cases if child.case is not None and child.case.bad]
    other_cases = cases[len(bad_cases) :]
    return bad_suites + bad_cases + good_suites + other_cases


def _child_rank(item: TreeItem) -> int:
    """Failures first among siblings (suites with failures count as failures)."""
    return STATUS_RANK[item.status] if item.status is not None else -1


def _file_items(jf: JUnitFile, stage: str) -> list[TreeItem]:
    """Nodes for one file: its suites (merged with the file when it has only one)."""
    title = f"{jf.test_file or jf.name}" + (f" ({jf.source})" if jf.source else "")
    if jf.error is not None:
        return [TreeItem(Kind.BAD_FILE, f"{jf.name} — {jf.error}", None, None, stage, None, jf)]
    if len(jf.suites) == 1:
        suite = jf.suites[0]
        generic = suite.name in ("", "pytest", "(top level)", "(empty)")
        label = title if generic else f"{title} › {suite.name}"
        return [_suite_item(suite, stage, jf, label)]
    item = TreeItem(Kind.FILE, title, worst(jf.counts), jf.counts, stage, None, jf)
    item.children = [_suite_item(s, stage, jf, s.name or "(suite)") for s in jf.suites]
    item.children.sort(key=_child_rank)
    return [item]


def build_tree(run: Run) -> TreeItem:
    """The drill-down for ``run``: stages in canonical order, failures first below them."""
    root = TreeItem(Kind.RUN, run.run_id + (f" · {run.recipe}" if run.recipe else ""))
    root.counts = run.counts
    root.status = worst(root.counts)
    for stage in run.stages:
        counts = run.stage_counts(stage)
        verdict = run.stage_status(stage)
        label = stage + (f" [{verdict}]" if verdict else "")
        item = TreeItem(Kind.STAGE, label, worst(counts), counts, stage)
        for jf in run.files_in(stage):
            item.children.extend(_file_items(jf, stage))
        if not item.children:
            item.children.append(TreeItem(Kind.NOTE, "no JUnit file", None, None, stage))
        if not counts.bad and any(child.kind is Kind.BAD_FILE for child in item.children):
            item.status = None  # shows "?": something could not be read
        root.children.append(item)
    if not root.counts.bad and any(child.status is None for child in root.children):
        root.status = None
    if run.results_error:
        root.children.append(TreeItem(Kind.NOTE, run.results_error, None, None, ""))
    return root


def failures(root: TreeItem) -> list[TreeItem]:
    """Failed and errored cases and unreadable files, in display order (passes are not made)."""
    found: list[TreeItem] = []

    def visit(item: TreeItem) -> None:
        if item.kind is Kind.BAD_FILE:
            found.append(item)
        elif item.case is not None:
            if item.case.bad:
                found.append(item)
        elif item.suite is not None and item.file is not None:
            for child in item.children:
                if child.has_problems:
                    visit(child)
            for case in item.suite.notable:
                if not case.bad:
                    break  # kept failures first
                found.append(_case_item(case, item.stage, item.file))
        elif item.has_problems:
            for child in item.children:
                visit(child)

    visit(root)
    return found
