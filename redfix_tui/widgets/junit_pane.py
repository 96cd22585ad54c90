"""JUnitPane: a recipe's JUnit runs fetched from the node and shown in a :class:`JUnitView`.

The pane owns its fetch worker (group ``junit-fetch``). The isolation rerun is shown when the
recipe has one (the sweep run is kept for the comparison, ``c``), else the sweep run. While a run
is in flight its stage files are re-fetched as they appear or grow (:meth:`JUnitPane.load` with
``only_if_changed``). A case's jump to the log becomes :class:`JUnitPane.LogRequested`, which the
screen routes to the log pane.

The drill-down (and the JUnit parser under it) is imported when the pane is first composed, so a
console that never opens the JUnit pane does not load it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message

from ..node import NodeError
from ..recipes import RecipeStatus
from ..runs.model import RunSummary
from ..runs.results import is_isolation_run

if TYPE_CHECKING:
    from ..junit.remote import RemoteRun
    from ..session import Session
    from .junit_view import JUnitView


def runs_to_show(status: RecipeStatus | None) -> tuple[RunSummary | None, RunSummary | None]:
    """(run to show, run to compare with) for a recipe: its isolation rerun first, then sweep."""
    if status is None:
        return None, None
    if status.isolation is not None:
        return status.isolation, status.sweep
    return status.sweep, None


class JUnitPane(Vertical):
    """The JUnit drill-down of one recipe's runs, kept current while they are in flight."""

    DEFAULT_CSS = """
    JUnitPane { height: 1fr; }
    """

    class LogRequested(Message):
        """Show the recipe's rerun log where ``test_id`` ran (else its ``stage`` banner)."""

        def __init__(self, recipe: str, test_id: str, stage: str) -> None:
            self.recipe = recipe
            self.test_id = test_id
            self.stage = stage
            super().__init__()

    def __init__(self, session: Session, *, id: str | None = None) -> None:
        """An empty pane reading runs through ``session``'s node."""
        super().__init__(id=id)
        self.session = session
        self.remote: RemoteRun | None = None
        """The run last fetched (its files are compared on the next fetch)."""
        self.recipe: str | None = None
        """The recipe whose run is shown (None before the first fetch)."""

    def compose(self) -> ComposeResult:
        """The drill-down."""
        from .junit_view import JUnitView

        yield JUnitView(id="junit-view")

    @property
    def view(self) -> JUnitView:
        """The drill-down widget."""
        from .junit_view import JUnitView

        return self.query_one("#junit-view", JUnitView)

    def forget(self) -> None:
        """Drop what was fetched (another node: its runs are not these)."""
        self.remote = None
        self.recipe = None

    @work(group="junit-fetch", exclusive=True, exit_on_error=False, name="junit fetch")
    async def load(
        self, recipe: str | None, status: RecipeStatus | None, *, only_if_changed: bool = False
    ) -> None:
        """Fetch ``recipe``'s run (and its comparison run) and show it; with
        ``only_if_changed``, show it only when its files changed since the last fetch."""
        from ..junit.load import load_run_from_bytes
        from ..junit.remote import changed_paths, fetch_run

        shown, other = runs_to_show(status)
        paths = self.session.config.paths
        if shown is None:
            if not only_if_changed:
                self.notify(f"no run recorded for {recipe}", severity="warning")
            return
        previous = self.remote if self.recipe == recipe else None
        node = self.session.node
        try:
            remote = await fetch_run(
                node, paths.runs_root, paths.junit_subdir, shown.run_id, previous=previous
            )
        except (NodeError, ValueError) as exc:
            self.notify(str(getattr(exc, "message", exc)), title="JUnit", severity="error")
            return
        if only_if_changed and previous is not None and not changed_paths(previous, remote):
            return
        self.remote, self.recipe = remote, recipe
        self.view.load_bytes(remote.run_id, remote.files, remote.results_json)
        if other is None:
            return
        try:
            extra = await fetch_run(node, paths.runs_root, paths.junit_subdir, other.run_id)
        except (NodeError, ValueError) as exc:
            self.notify(
                f"comparison run {other.run_id} not read: {getattr(exc, 'message', exc)}",
                title="JUnit",
                severity="warning",
            )
            return
        run = await asyncio.to_thread(
            load_run_from_bytes, extra.run_id, extra.files, extra.results_json
        )
        self.view.set_comparison_run(run)

    # Named (not @on) handler: JUnitView is imported only when the pane is composed.
    def on_junit_view_jump_to_log(self, event: JUnitView.JumpToLog) -> None:
        """A case's jump to the log → :class:`LogRequested` for the recipe's rerun log."""
        event.stop()
        paths = self.session.config.paths
        if not is_isolation_run(event.run_id, paths.manual_run_id) or self.recipe is None:
            self.notify(
                f"no log is known for run {event.run_id}; rerun logs are {paths.rerun_log}",
                severity="warning",
            )
            return
        self.post_message(self.LogRequested(self.recipe, event.patterns[0], event.stage))
