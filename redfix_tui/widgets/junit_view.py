"""JUnitView: a run's JUnit results as a drill-down tree with a detail pane.

Run → stage → suite → case, failures and errors first, counts on every node, glyphs that read
without colour. The detail pane shows the selected case's message, type, traceback (Python
highlighted), captured output (capped, so huge output never freezes the UI), file:line and
duration. Loading runs in a thread worker (group ``junit``); passing cases' suites are filled in
when expanded, so a 10,000-case file costs a handful of tree nodes up front.

Labels live in :mod:`.junit_labels`, the detail renderers in :mod:`.junit_detail`, and filling
and walking the tree in :mod:`.junit_nodes`; this module is the widget itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import RenderableType
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static, Tree
from textual.worker import get_current_worker

from redfix_tui.evidence import JUnitEvidence
from redfix_tui.junit.compare import CaseChange, Comparison, compare_runs
from redfix_tui.junit.load import load_case_output, load_run, load_run_from_bytes
from redfix_tui.junit.model import Case, Run
from redfix_tui.junit.tree import TreeItem, build_tree
from redfix_tui.safe_text import plain

from .junit_detail import case_detail, change_detail, item_detail, with_output
from .junit_labels import item_label
from .junit_nodes import (
    Data,
    failure_nodes,
    fill_comparison,
    fill_node,
    first_change,
    next_failure,
    reveal,
)


class JUnitView(Widget, can_focus=False):
    """A run's JUnit drill-down: tree on one side, the selected node's detail on the other."""

    DEFAULT_CSS = """
    JUnitView {
        layout: horizontal;
        height: 1fr;
        & > #junit-tree { width: 45%; height: 1fr; border-right: solid $panel-lighten-2; }
        & > #junit-detail { width: 1fr; height: 1fr; padding: 0 1; }
        &.-narrow { layout: vertical; }
        &.-narrow > #junit-tree { width: 100%; height: 50%; border-right: none;
                                  border-bottom: solid $panel-lighten-2; }
        &.-narrow > #junit-detail { width: 100%; }
    }
    """

    NARROW = 100
    """Below this width the tree sits above the detail pane."""

    BINDINGS = [
        Binding("right_square_bracket", "next_failure", "Next failure", id="junit.next_failure"),
        Binding("left_square_bracket", "previous_failure", "Prev failure", id="junit.prev_failure"),
        Binding("l", "jump_to_log", "To log", id="junit.jump_to_log"),
        Binding("e", "evidence", "Evidence", id="junit.evidence"),
        Binding("c", "toggle_comparison", "Compare", id="junit.compare"),
    ]

    class JumpToLog(Message):
        """Ask the log pane to show where ``case`` ran (its id, FAILED line, stage banner)."""

        def __init__(self, case: Case, stage: str, run_id: str) -> None:
            super().__init__()
            self.case = case
            self.stage = stage
            self.run_id = run_id
            self.patterns = (
                case.test_id,
                f"FAILED {case.test_id}",
                f"ERROR {case.test_id}",
                stage,
            )
            """What to search for in the log, most specific first."""

    class EvidenceRequested(Message):
        """Capture the selected case into the journal."""

        def __init__(self, evidence: JUnitEvidence) -> None:
            super().__init__()
            self.evidence = evidence

    class RunShown(Message):
        """A run (or comparison) was put into the tree."""

        def __init__(self, run: Run) -> None:
            super().__init__()
            self.run = run

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        """An empty view; give it a run with :meth:`show_run` or a loader method."""
        super().__init__(name=name, id=id, classes=classes)
        self.run: Run | None = None
        self.other: Run | None = None
        self.comparison: Comparison | None = None
        self.root_item: TreeItem | None = None
        self.detail: RenderableType = ""
        """What the detail pane shows now (a Rich renderable)."""

    def compose(self) -> ComposeResult:
        """The tree and the scrolling detail pane."""
        tree: Tree[Data] = Tree("JUnit: no run loaded", id="junit-tree")
        tree.show_root = True
        yield tree
        with VerticalScroll(id="junit-detail"):
            yield Static("", id="junit-detail-body")

    @property
    def results_tree(self) -> Tree[Data]:
        """The drill-down tree."""
        return self.query_one("#junit-tree", Tree)

    def on_resize(self) -> None:
        """Stack tree and detail when narrow."""
        self.set_class(self.size.width < self.NARROW, "-narrow")

    # -- loading -------------------------------------------------------------------------------

    def show_run(self, run: Run) -> None:
        """Show ``run`` in the tree, failures expanded, cursor on the first failure."""
        self.run, self.comparison = run, None
        self.root_item = build_tree(run)
        tree = self.results_tree
        tree.reset(item_label(self.root_item), self.root_item)
        fill_node(tree.root, self.root_item)
        tree.root.expand()
        failing = failure_nodes(tree)
        target = failing[0] if failing else tree.root
        reveal(tree, target)
        self._show_detail(target.data)
        self.post_message(self.RunShown(run))

    @on(Tree.NodeExpanded, "#junit-tree")
    def _expand_lazily(self, event: Tree.NodeExpanded[Data]) -> None:
        """Fill a passing suite's cases the first time it is opened."""
        node, item = event.node, event.node.data
        if isinstance(item, TreeItem) and not node.children and item is not self.root_item:
            fill_node(node, item)

    def load_paths(self, paths: list[str]) -> None:
        """Load a local run directory (first path) in a thread worker, then show it."""
        self._set_loading()
        self._load_local(paths[0])

    def load_bytes(
        self, run_id: str, files: Mapping[str, bytes], results_json: bytes | None = None
    ) -> None:
        """Parse fetched JUnit contents ``{path: bytes}`` in a thread worker, then show them."""
        self._set_loading()
        self._load_remote(run_id, dict(files), results_json)

    def _set_loading(self) -> None:
        """Say that a run is being read."""
        self.results_tree.reset(Text("loading JUnit results…", style="italic"), None)

    @work(thread=True, group="junit", exclusive=True, name="junit-load-local")
    def _load_local(self, path: str) -> None:
        """Read a local run directory off the UI thread."""
        run = load_run(path)
        build_tree(run)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_run, run)

    @work(thread=True, group="junit", exclusive=True, name="junit-load-bytes")
    def _load_remote(self, run_id: str, files: dict[str, bytes], results: bytes | None) -> None:
        """Parse fetched files off the UI thread."""
        run = load_run_from_bytes(run_id, files, results)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_run, run)

    # -- comparison ----------------------------------------------------------------------------

    def set_comparison_run(self, other: Run) -> None:
        """Remember a second run of the recipe; ``c`` then toggles the comparison."""
        self.other = other

    def show_comparison(
        self,
        first: Run,
        second: Run,
        *,
        first_label: str = "in sweep",
        second_label: str = "alone",
    ) -> None:
        """Show ``first`` and ``second`` side by side: per stage, what changed, with hints."""
        self.comparison = comparison = compare_runs(
            first, second, first_label=first_label, second_label=second_label
        )
        tree = self.results_tree
        tree.reset(plain(f"{first.run_id} {first_label} ↔ {second.run_id} {second_label}"), None)
        fill_comparison(tree.root, comparison)
        tree.root.expand()
        change = first_change(tree)
        reveal(tree, change or tree.root)
        self._show_detail(change.data if change else None)

    def action_toggle_comparison(self) -> None:
        """Switch between the run and its comparison with the second run."""
        if self.comparison is not None and self.run is not None:
            self.show_run(self.run)
        elif self.run is not None and self.other is not None:
            self.show_comparison(self.other, self.run)
        else:
            self.notify("No second run to compare with.", severity="warning")

    # -- navigation and actions ----------------------------------------------------------------

    def _step(self, forward: bool) -> None:
        """Move to the next/previous failure, wrapping around."""
        node = next_failure(self.results_tree, forward)
        if node is None:
            self.notify("No other failure in this view.")
            return
        reveal(self.results_tree, node)
        self._show_detail(node.data)

    def action_next_failure(self) -> None:
        """Jump to the next failing case (or unreadable file)."""
        self._step(True)

    def action_previous_failure(self) -> None:
        """Jump to the previous failing case (or unreadable file)."""
        self._step(False)

    def _selected_case(self) -> TreeItem | None:
        """The tree item of the case under the cursor, if any."""
        node = self.results_tree.cursor_node
        data = node.data if node is not None else None
        return data if isinstance(data, TreeItem) and data.case is not None else None

    def action_jump_to_log(self) -> None:
        """Ask for the log at the selected case."""
        item = self._selected_case()
        if item is None or item.case is None:
            self.notify("Select a test case first.", severity="warning")
            return
        self.post_message(
            self.JumpToLog(item.case, item.stage, self.run.run_id if self.run else "")
        )

    def action_evidence(self) -> None:
        """Capture the selected case as journal evidence."""
        item = self._selected_case()
        if item is None or item.case is None or item.file is None:
            self.notify("Select a test case first.", severity="warning")
            return
        case = item.case
        evidence = JUnitEvidence(
            test_id=case.test_id or case.name,
            stage=item.stage,
            status=case.status.value,
            message=case.message,
            junit_path=item.file.path,
            run=self.run.run_id if self.run is not None else "",
            recipe=self.run.recipe if self.run is not None else "",
        )
        self.post_message(self.EvidenceRequested(evidence))

    # -- detail pane ---------------------------------------------------------------------------

    @on(Tree.NodeHighlighted, "#junit-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[Data]) -> None:
        """Show the highlighted node's detail."""
        self._show_detail(event.node.data)

    def _set_detail(self, renderable: RenderableType) -> None:
        """Put ``renderable`` into the detail pane."""
        self.detail = renderable
        self.query_one("#junit-detail-body", Static).update(renderable)

    def _show_detail(self, data: Data) -> None:
        """Render ``data`` into the detail pane."""
        if isinstance(data, CaseChange) and self.comparison is not None:
            self._set_detail(change_detail(data, self.comparison))
        elif isinstance(data, TreeItem) and data.case is not None and data.file is not None:
            pending = data.case.output_pending
            self._set_detail(case_detail(data.case, data.stage, data.file.path, pending))
            if pending:
                self._load_output(data)
        elif isinstance(data, TreeItem):
            self._set_detail(item_detail(data))
        else:
            self._set_detail("")
        self.query_one("#junit-detail", VerticalScroll).scroll_home(animate=False)

    @work(thread=True, group="junit-output", exclusive=True, name="junit-case-output")
    def _load_output(self, item: TreeItem) -> None:
        """Read a passing case's captured output off the UI thread, then show it."""
        assert item.case is not None and item.file is not None
        stdout, stderr = load_case_output(item.file, item.case)
        if get_current_worker().is_cancelled:
            return
        self.app.call_from_thread(self._output_loaded, item, stdout, stderr)

    def _output_loaded(self, item: TreeItem, stdout: str, stderr: str) -> None:
        """Show loaded output if the case is still the one selected."""
        case = item.case
        if case is None or item.file is None:
            return
        shown = with_output(case, stdout, stderr)
        node = self.results_tree.cursor_node
        if node is not None and node.data is item:
            self._set_detail(case_detail(shown, item.stage, item.file.path, False))
