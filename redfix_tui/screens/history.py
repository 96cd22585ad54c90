"""The history screen: a recipe's run ledger, and the JUnit of any run or pair of runs in it.

:class:`HistoryScreen` reads the ledger in one remote command (a worker in group ``history``),
shows it in a :class:`~redfix_tui.widgets.run_history.RunHistory`, and acts on its requests: a
run's JUnit (fetched from the run's own directory — a sweep run's under ``runs_root``, an
isolation run's in the archive — and shown in a :class:`~redfix_tui.widgets.junit_view.JUnitView`
in place of the table), the JUnit comparison of two marked runs, and a run's log, which the main
screen shows: the screen closes with a :class:`LogRequest` (so does a case's jump to the log).
``escape`` goes from the JUnit back to the table, and from the table back to the main screen.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer

from ..junit.load import load_run_from_bytes
from ..junit.model import Run
from ..junit.remote import fetch_run
from ..node import NodeError
from ..runs.ledger import Ledger
from ..runs.model import RunSummary
from ..safe_text import plain
from ..session import Session
from ..widgets.junit_view import JUnitView
from ..widgets.run_history import KIND_WORDS, RunHistory, short_when, when_text

ARCHIVED_JUNIT = "junit"
"""The JUnit directory inside an archived run (the wrapper's layout, whatever runs_root uses)."""
ARCHIVED_LOG = "log"
"""The log inside an archived run."""


@dataclass(frozen=True)
class LogRequest:
    """What the history screen closes with to have the main screen show a run's log."""

    path: str
    """The log on the node."""
    test_id: str = ""
    """A case to jump to (its line, else its ``stage`` banner), or "" for the top."""
    stage: str = ""


def compare_label(run: RunSummary, other: RunSummary) -> str:
    """How a run reads in a comparison's hints: ``in sweep``/``alone``, with its time when both
    runs are of the same kind."""
    label = "in sweep" if run.kind == "sweep" else "alone"
    return f"{label} {short_when(run.finished)}" if run.kind == other.kind else label


class HistoryScreen(Screen[LogRequest | None]):
    """A recipe's run ledger over the whole screen (see the module)."""

    DEFAULT_CSS = """
    HistoryScreen {
        & > #history-switcher { height: 1fr; }
        & #history-junit-box {
            height: 1fr;
            border: round $primary 50%;
            border-title-color: $text;
            &:focus-within { border: round $primary; }
        }
    }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="history.back"),
        Binding("ctrl+r", "reload", "Reload", id="history.reload"),
    ]

    def __init__(self, session: Session, recipe: str) -> None:
        super().__init__()
        self.session = session
        self.recipe = recipe
        self.shown: RunSummary | None = None
        """The run whose JUnit is shown (None for none, or a comparison)."""
        self._home: str | None = None

    def compose(self) -> ComposeResult:
        """The ledger, or a run's JUnit in its place; the footer."""
        with ContentSwitcher(initial="history", id="history-switcher"):
            yield RunHistory(self.recipe, id="history")
            with Vertical(id="history-junit-box"):
                yield JUnitView(id="history-junit")
        yield Footer()

    @property
    def history(self) -> RunHistory:
        """The ledger widget."""
        return self.query_one(RunHistory)

    @property
    def junit(self) -> JUnitView:
        """The JUnit drill-down."""
        return self.query_one("#history-junit", JUnitView)

    @property
    def switcher(self) -> ContentSwitcher:
        """Switches between the ledger and the JUnit drill-down."""
        return self.query_one("#history-switcher", ContentSwitcher)

    def on_mount(self) -> None:
        """Read the ledger."""
        self.history.table.focus()
        self.action_reload()

    # -- the ledger ---------------------------------------------------------------------------

    def action_reload(self) -> None:
        """Read the recipe's ledger again."""
        self.history.show_loading()
        self.run_worker(
            self._load(),
            name=f"run ledger of {self.recipe}",
            group="history",
            exclusive=True,
            exit_on_error=False,
        )

    async def _load(self) -> None:
        """One remote command: the sweep runs and the archive, graded."""
        node = self.session.node
        reader = Ledger(node, self.session.config)
        try:
            await node.connect()
            ledger = await reader.recipe(self.recipe)
        except NodeError as exc:
            self.history.show_error(exc.message)
            return
        self.history.show_ledger(ledger, reader.problems)

    def action_back(self) -> None:
        """From a run's JUnit back to the ledger; from the ledger back to the main screen."""
        if self.switcher.current != "history":
            self.switcher.current = "history"
            self.history.table.focus()
            return
        self.dismiss(None)

    # -- a run's files ------------------------------------------------------------------------

    async def _directory(self, run: RunSummary) -> str:
        """The run's directory on the node, a leading ``~/`` made the node user's home."""
        path = run.path
        if not path.startswith("~/"):
            return path
        if self._home is None:
            result = await self.session.node.run('printf %s "$HOME"', check=True)
            self._home = result.stdout.strip().rstrip("/")
        return f"{self._home}/{path[2:]}"

    async def _fetch(self, run: RunSummary) -> Run:
        """The run's JUnit files and results.json, parsed (off the UI thread)."""
        directory = await self._directory(run)
        parent, _, name = directory.rpartition("/")
        paths = self.session.config.paths
        subdir = ARCHIVED_JUNIT if run.kind == "isolation" else paths.junit_subdir
        remote = await fetch_run(self.session.node, parent, subdir, name)
        if not remote.files and remote.results_json is None:
            raise ValueError(f"no JUnit files and no results.json in {directory}")
        label = f"{KIND_WORDS.get(run.kind, run.kind)} {run.run_id}"
        return await asyncio.to_thread(
            load_run_from_bytes, label, remote.files, remote.results_json
        )

    def _show_junit(self, title: str) -> None:
        box = self.query_one("#history-junit-box")
        box.border_title = plain(title)
        self.switcher.current = "history-junit-box"
        self.junit.results_tree.focus()

    def on_run_history_run_opened(self, event: RunHistory.RunOpened) -> None:
        """Fetch and show the run's JUnit."""
        event.stop()
        run = event.run
        self.run_worker(
            self._open(run),
            name=f"JUnit of {run.run_id}",
            group="history-junit",
            exclusive=True,
            exit_on_error=False,
        )

    async def _open(self, run: RunSummary) -> None:
        try:
            found = await self._fetch(run)
        except (NodeError, ValueError) as exc:
            self.notify(
                f"JUnit of {run.run_id} not read: {getattr(exc, 'message', exc)}",
                title="History",
                severity="error",
            )
            return
        self.shown = run
        self.junit.other = None  # c compares only what was marked together
        self.junit.show_run(found)
        self._show_junit(
            f"JUnit of the {run.kind} run of {when_text(run.finished)} · {run.tag or '?'}"
            " · l: log · escape: back"
        )

    def on_run_history_compare_opened(self, event: RunHistory.CompareOpened) -> None:
        """Fetch both runs and show their comparison."""
        event.stop()
        self.run_worker(
            self._compare(event.first, event.second),
            name="JUnit comparison",
            group="history-junit",
            exclusive=True,
            exit_on_error=False,
        )

    async def _compare(self, first: RunSummary, second: RunSummary) -> None:
        try:
            older, newer = await asyncio.gather(self._fetch(first), self._fetch(second))
        except (NodeError, ValueError) as exc:
            self.notify(
                f"comparison not read: {getattr(exc, 'message', exc)}",
                title="History",
                severity="error",
            )
            return
        self.shown = second
        view = self.junit
        view.show_run(newer)
        view.set_comparison_run(older)
        first_label, second_label = compare_label(first, second), compare_label(second, first)
        view.show_comparison(older, newer, first_label=first_label, second_label=second_label)
        self._show_junit(
            f"{first.kind} {when_text(first.finished)} ({first_label}) ↔ "
            f"{second.kind} {when_text(second.finished)} ({second_label})"
        )

    # -- logs ---------------------------------------------------------------------------------

    def on_run_history_log_opened(self, event: RunHistory.LogOpened) -> None:
        """Close with the run's log for the main screen to show."""
        event.stop()
        self._request_log(event.run)

    def on_junit_view_jump_to_log(self, event: JUnitView.JumpToLog) -> None:
        """A case's jump to the log: close with the shown run's log at that case."""
        event.stop()
        if self.shown is not None:
            self._request_log(self.shown, event.patterns[0], event.stage)

    def _request_log(self, run: RunSummary, test_id: str = "", stage: str = "") -> None:
        if run.kind != "isolation":
            self.notify(
                "the node keeps no log of sweep runs (each isolation run is archived with its log)",
                title="History",
                severity="warning",
            )
            return
        self.run_worker(
            self._log_of(run, test_id, stage),
            name=f"log of {run.run_id}",
            group="history-log",
            exclusive=True,
            exit_on_error=False,
        )

    async def _log_of(self, run: RunSummary, test_id: str, stage: str) -> None:
        try:
            directory = await self._directory(run)
        except NodeError as exc:
            self.notify(f"log not opened: {exc.message}", title="History", severity="error")
            return
        self.dismiss(LogRequest(f"{directory}/{ARCHIVED_LOG}", test_id, stage))
