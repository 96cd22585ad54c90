"""The main screen's JUnit side: fetch the selected recipe's runs, show them, jump to the log.

A mixin for :class:`~redfix_tui.screens.main.MainScreen`. The isolation rerun is shown when the
recipe has one (the sweep run is kept for the comparison, ``c``), else the sweep run. While a run
is in flight its stage files are re-fetched as they appear or grow.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding
from textual.widgets import ContentSwitcher

from ..node import NodeError
from ..recipes import RecipeStatus, RunSummary
from ..widgets.log_view import LogView

if TYPE_CHECKING:  # the JUnit side is imported and mounted on first use (start-up stays light)
    from ..junit.remote import RemoteRun
    from ..widgets.junit_view import JUnitView

SETTLE_S = 0.3
"""A freshly opened log counts as loaded once its line count holds still this long."""


class JUnitPaneMixin:
    """Toggle the JUnit drill-down over the log, keep it current, jump from a case to the log."""

    JUNIT_BINDINGS = [
        Binding("u", "toggle_junit", "JUnit", id="main.junit"),
    ]

    _junit_remote: RemoteRun | None = None
    _junit_recipe: str | None = None

    @property
    def junit_view(self) -> JUnitView:
        """The drill-down widget (see :meth:`ensure_junit_view`)."""
        return self.query_one("#junit")  # type: ignore[attr-defined]

    async def ensure_junit_view(self) -> JUnitView:
        """Mount the drill-down in the switcher on first use; return it."""
        from textual.css.query import NoMatches

        from ..widgets.junit_view import JUnitView

        try:
            return self.query_one("#junit", JUnitView)  # type: ignore[attr-defined]
        except NoMatches:
            view = JUnitView(id="junit")
            await self.query_one("#switcher", ContentSwitcher).mount(view)  # type: ignore[attr-defined]
            return view

    def _runs_of(self, recipe: str | None) -> tuple[RunSummary | None, RunSummary | None]:
        """(run to show, run to compare with) for ``recipe``: isolation first, then sweep."""
        status: RecipeStatus | None = next(
            (s for s in self.statuses if s.name == recipe),  # type: ignore[attr-defined]
            None,
        )
        if status is None:
            return None, None
        if status.isolation is not None:
            return status.isolation, status.sweep
        return status.sweep, None

    async def action_toggle_junit(self) -> None:
        """Show the JUnit drill-down for the selected recipe, or go back to the log."""
        switcher = self.query_one("#switcher", ContentSwitcher)  # type: ignore[attr-defined]
        if switcher.current == "junit":
            switcher.current = "log-pane"
            self.focus_log()  # type: ignore[attr-defined]
            return
        view = await self.ensure_junit_view()
        switcher.current = "junit"
        view.results_tree.focus()
        self.load_junit()

    def junit_shown(self) -> bool:
        """True while the drill-down is the visible pane."""
        return self.query_one("#switcher", ContentSwitcher).current == "junit"  # type: ignore[attr-defined]

    @work(group="junit-fetch", exclusive=True, exit_on_error=False)
    async def load_junit(self, *, only_if_changed: bool = False) -> None:
        """Fetch the selected recipe's run (and its comparison run) and show it."""
        from ..junit.load import load_run_from_bytes
        from ..junit.remote import changed_paths, fetch_run

        recipe = self.selected  # type: ignore[attr-defined]
        shown, other = self._runs_of(recipe)
        session = self.session  # type: ignore[attr-defined]
        paths = session.config.paths
        if shown is None:
            if not only_if_changed:
                self.notify(f"no run recorded for {recipe}", severity="warning")  # type: ignore[attr-defined]
            return
        previous = self._junit_remote if self._junit_recipe == recipe else None
        try:
            remote = await fetch_run(
                session.node, paths.runs_root, paths.junit_subdir, shown.run_id, previous=previous
            )
        except (NodeError, ValueError) as exc:
            self.notify(str(getattr(exc, "message", exc)), title="JUnit", severity="error")  # type: ignore[attr-defined]
            return
        if only_if_changed and previous is not None and not changed_paths(previous, remote):
            return
        self._junit_remote, self._junit_recipe = remote, recipe
        self.junit_view.load_bytes(remote.run_id, remote.files, remote.results_json)
        if other is not None:
            try:
                extra = await fetch_run(
                    session.node, paths.runs_root, paths.junit_subdir, other.run_id
                )
            except (NodeError, ValueError):
                return
            run = await asyncio.to_thread(
                load_run_from_bytes, extra.run_id, extra.files, extra.results_json
            )
            self.junit_view.set_comparison_run(run)

    def refresh_junit_if_running(self) -> None:
        """Re-fetch changed stage files while the shown run is in flight."""
        if self.junit_shown() and self._junit_recipe is not None:
            self.load_junit(only_if_changed=True)

    def on_junit_view_evidence_requested(self, event) -> None:
        """A failing case → the journal draft."""
        event.stop()
        self.insert_evidence(event.evidence)  # type: ignore[attr-defined]

    def on_junit_view_jump_to_log(self, event) -> None:
        """Show the log of the case's run at the line where the case ran."""
        event.stop()
        recipe = self._junit_recipe or self.selected  # type: ignore[attr-defined]
        session = self.session  # type: ignore[attr-defined]
        if not event.run_id.startswith(session.config.paths.manual_run_id):
            self.notify(  # type: ignore[attr-defined]
                f"no log is known for run {event.run_id}; rerun logs are "
                f"{session.config.paths.rerun_log}",
                severity="warning",
            )
            return
        self.follow_log(session.runs.log_path(recipe))  # type: ignore[attr-defined]
        self.query_one("#switcher", ContentSwitcher).current = "log-pane"  # type: ignore[attr-defined]
        self.focus_log()  # type: ignore[attr-defined]
        self._jump(event.patterns[0], event.stage)

    @work(group="log-jump-wait", exclusive=True, exit_on_error=False)
    async def _jump(self, test_id: str, stage: str) -> None:
        """Wait for the log to load, then go to the test's line, else to its stage banner."""
        view = self.query_one(LogView)  # type: ignore[attr-defined]
        last = -1
        for _ in range(50):
            count = view.spool.line_count if view.spool is not None else 0
            if count and count == last:
                break
            last = count
            await asyncio.sleep(SETTLE_S)
        for pattern in (re.escape(test_id), rf"stage:\s*{re.escape(stage)}\b"):
            worker = view.jump_to(pattern)
            await worker.wait()
            if worker.result is not None:
                return
