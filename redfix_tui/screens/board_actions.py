"""The main screen's rerun and tracker actions, kept apart from the screen's layout code.

:class:`BoardActions` is mixed into :class:`~redfix_tui.screens.main.MainScreen`: start a guarded
isolation rerun (``r``), cancel it (``x``), classify a recipe (``c``), filter by classification
(``C``) and export the M1 tracker table (``T``); and, after every node refresh, follow the rerun
in flight (re-attaching after a restart) and show its progress. The bookkeeping (which run is
followed, when it ended, its outcome and tracker row) is the
:class:`~redfix_tui.rerun_book.RerunBook`'s; each wrap-up runs in its own worker, outside the
refresh that noticed it, and this mixin only reacts to it (notification, board row, status bar).
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer

from ..node import NodeError
from ..recipes import RecipeStatus
from ..rerun_book import RerunBook
from ..runs import NodeStatus, RerunRefused, RerunState
from ..shellcmd import UnsafeValue, validate_recipe
from ..tracker import CLASSIFICATIONS, TrackerError
from ..widgets.choice_dialog import ChoiceDialog
from ..widgets.log_pane import LogPane
from ..widgets.recipe_board import Progress, RecipeBoard
from ..widgets.rerun_dialogs import CancelConfirm, ClassifyDialog, RerunConfirm
from ..widgets.status_bar import NodeStatusBar, human_delta

if TYPE_CHECKING:
    from textual.screen import Screen

    from ..session import Session
    from ..tracker import Tracker

    _Base = Screen
else:
    _Base = object

BUSY_REFRESH_SECONDS = 2.0
"""How often the node is re-read while a run is in flight."""

BOARD_BINDINGS = [
    Binding("r", "rerun", "Rerun", id="main.rerun"),
    Binding("x", "cancel_rerun", "Stop run", id="main.cancel_rerun"),
    Binding("c", "classify", "Classify", id="main.classify"),
    Binding("C", "filter_classification", "Class filter", show=False, id="main.class_filter"),
    Binding("T", "export_tracker", "Export M1", id="main.export_tracker"),
]
"""The bindings of these actions (MainScreen lists them in its BINDINGS)."""


class BoardActions(_Base):
    """Rerun/tracker actions and run tracking for the main screen (a mixin; see the module)."""

    session: Session
    statuses: list[RecipeStatus]
    node_status: NodeStatus | None
    tracker: Tracker
    tick: bool
    load: bool
    _following: str | None
    _refresh_lock: asyncio.Lock
    _recipes_read_at: float

    if TYPE_CHECKING:

        async def _refresh(self) -> None: ...

        def _show_detail(self) -> None: ...

        def refresh_node(self, recipes: bool = False) -> object: ...

    class TrackerExported(Message, namespace="main_screen"):
        """The M1 tracker was exported as a Markdown table (the journal pane may take it)."""

        def __init__(self, markdown: str) -> None:
            self.markdown = markdown
            super().__init__()

    def _init_board_actions(self) -> None:
        """Set up the state of the actions (called from ``__init__``)."""
        self.book = RerunBook(lambda: self.session.runs, lambda: self.tracker)
        """The reruns this console follows and records."""
        self._refresh_timer: Timer | None = None
        self._refresh_every = 0.0
        self._wrap_errors: set[str] = set()

    @property
    def rerun_state(self) -> RerunState | None:
        """The rerun in flight that this console follows."""
        return self.book.following

    @rerun_state.setter
    def rerun_state(self, state: RerunState | None) -> None:
        if state is None:
            self.book.forget()
        else:
            self.book.follow(state)

    # -- helpers ----------------------------------------------------------------------------

    @property
    def _board(self) -> RecipeBoard:
        return self.query_one(RecipeBoard)

    @property
    def _bar(self) -> NodeStatusBar:
        return self.query_one(NodeStatusBar)

    def _status_of(self, recipe: str) -> RecipeStatus | None:
        return next((s for s in self.statuses if s.name == recipe), None)

    def schedule_refresh(self, busy: bool) -> None:
        """Refresh every 2 s while a run is in flight, else every ``refresh_seconds``."""
        if not (self.tick and self.load):
            return
        every = BUSY_REFRESH_SECONDS if busy else self.session.config.board.refresh_seconds
        if every == self._refresh_every and self._refresh_timer is not None:
            return
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
        self._refresh_every = every
        self._refresh_timer = self.set_interval(every, self.refresh_node, name="node-refresh")

    async def _fresh_status(self) -> NodeStatus:
        status = await self.session.runs.status(self.session.clock())
        self.node_status = status
        self._bar.node_status = status
        return status

    # -- after each refresh -----------------------------------------------------------------

    async def track_runs(self, status: NodeStatus) -> None:
        """Follow the rerun in flight, show its progress, and start the wrap-up of every run
        that ended (in its own worker: the next refresh tick cannot cancel it)."""
        seen = self.book.observe(status)
        if seen.attach is not None:
            self._follow_run(seen.attach, fresh_log=False)
        for state in seen.ended:
            self.run_worker(
                self._wrap_up(state),
                name=f"wrap-up of the rerun of {state.recipe}",
                group="wrap-up",
                exclusive=False,
                exit_on_error=False,
            )
        if self.book.following is not None:
            await self._show_progress(self.book.following)
        else:
            self._board.set_progress({})
            self._bar.run_progress = ""
        self.schedule_refresh(status.busy or self.book.busy)

    def _follow_run(self, state: RerunState, *, fresh_log: bool) -> None:
        """Follow ``state``'s run: its log from the first byte, its row on the board."""
        current = self._status_of(state.recipe)
        self.book.follow(state, (current.isolation or current.sweep) if current else None)
        self._board.set_teardown(state.recipe, None)
        if fresh_log or not self.session.open_log:
            self._following = state.log
            self.query_one(LogPane).follow_remote(self.session.node, state.log)
        if not fresh_log:
            board = self._board
            if state.recipe in board.rows:
                board.move_cursor(row=board.get_row_index(state.recipe))
            self.notify(
                f"re-attached to the rerun of {state.recipe} (pid {state.pid})", title="Rerun"
            )

    async def _show_progress(self, state: RerunState) -> None:
        try:
            progress = await self.session.runs.progress(state)
        except NodeError:
            return  # the refresh itself reports a lost node; progress comes back with it
        shown = Progress(
            stage=progress.stage,
            elapsed_s=progress.stage_elapsed_s,
            previous_s=self.book.previous_stage_s(state.recipe, progress.stage),
            done=progress.done,
        )
        self._board.set_progress({state.recipe: shown})
        self._bar.run_progress = shown.describe()

    async def _wrap_up(self, state: RerunState) -> None:
        """Wait for the book's wrap-up of ``state``, then show it: the new verdicts on the
        board, the notification, the teardown flag."""
        try:
            wrap = await self.book.wrap_up(state)
        except NodeError as exc:
            if state.key not in self._wrap_errors:  # once, not at every retry
                self._wrap_errors.add(state.key)
                self.notify(
                    f"{state.recipe}: {exc.message} — its outcome is read at the next refresh",
                    title="Rerun ended",
                    severity="error",
                )
            return
        self._wrap_errors.discard(state.key)
        if not (wrap.followed or wrap.recorded):
            return  # another console recorded it already
        self._board.set_teardown(state.recipe, wrap.outcome.teardown_clean)
        async with self._refresh_lock:  # new verdicts before the news; no refresh overlaps
            try:
                self.statuses = await self.session.recipes.load()
                self._recipes_read_at = time.monotonic()
            except NodeError:
                self._recipes_read_at = -float("inf")  # the next refresh reads them
            self._board.show(self.statuses, self.tracker.entries)
            self._show_detail()
        self.notify(wrap.message(), title="Rerun ended", severity=wrap.severity, timeout=15)

    def run_detail(self, recipe: str) -> str:
        """Extra words for the detail line: the run in flight, or the teardown flag."""
        board = self._board
        if (progress := board.progress.get(recipe)) is not None:
            return f"▶ {progress.describe()}"
        return {True: "teardown clean", False: "stack left ⚑"}.get(board.teardown.get(recipe), "")

    # -- actions ----------------------------------------------------------------------------

    def action_rerun(self) -> None:
        """Start a guarded isolation rerun of the highlighted recipe (after a confirmation)."""
        self.run_worker(
            self._rerun_flow(), name="rerun", group="rerun", exclusive=True, exit_on_error=False
        )

    async def _rerun_flow(self) -> None:
        selected = self._board.selected
        if selected is None:
            self.notify("no recipe selected", severity="warning")
            return
        recipe, runs = selected.name, self.session.runs
        try:
            await self.session.node.connect()
            status = await self._fresh_status()
        except NodeError as exc:
            self.notify(exc.message, title="Rerun refused", severity="error")
            return
        try:
            validate_recipe(recipe)
            reason = runs.node_refusal(status, self.session.clock())
        except UnsafeValue as exc:
            reason = str(exc)
        if reason:
            self.notify(reason, title=f"Rerun of {recipe} refused", severity="error", timeout=10)
            return
        dialog = RerunConfirm(
            recipe,
            selected.latest_tag,
            lambda tag: runs.build_command(recipe, tag),
            runs.log_path(recipe),
        )
        tag = await self.app.push_screen_wait(dialog)
        if not tag:
            return
        self.book.previous[recipe] = selected.isolation or selected.sweep
        try:
            state = await runs.start(recipe, tag, self.session.clock())
        except RerunRefused as exc:
            self.notify(str(exc), title=f"Rerun of {recipe} refused", severity="error")
            return
        except NodeError as exc:
            self.notify(exc.message, title="Rerun failed to start", severity="error")
            return
        self._follow_run(state, fresh_log=True)
        self.notify(f"{recipe} at {tag}: pid {state.pid}, log {state.log}", title="Rerun started")
        await self._refresh()

    def action_cancel_rerun(self) -> None:
        """Stop the rerun in flight (its whole process group), after a confirmation."""
        self.run_worker(
            self._cancel_flow(), name="stop run", group="rerun", exclusive=True, exit_on_error=False
        )

    async def _cancel_flow(self) -> None:
        try:
            status = await self._fresh_status()
        except NodeError as exc:
            self.notify(exc.message, title="Stop run", severity="error")
            return
        active = status.active_rerun
        if active is None:
            other = status.in_flight[0] if status.in_flight else None
            self.notify(
                f"a run this console did not start is in flight (pid {other.pid}); not stopping it"
                if other
                else "no rerun in flight",
                title="Stop run",
                severity="warning",
            )
            return
        elapsed = status.elapsed(self.session.clock())
        stop = await self.app.push_screen_wait(
            CancelConfirm(active.recipe, active.pid, human_delta(elapsed or timedelta()))
        )
        if not stop:
            return
        try:
            await self.session.runs.cancel(active)
        except (RerunRefused, NodeError) as exc:
            self.notify(str(exc), title="Stop run", severity="error")
            return
        self.notify(f"SIGTERM sent to process group {active.pid}", title="Stopping rerun")
        await asyncio.sleep(0.5)
        await self._refresh()

    def action_classify(self) -> None:
        """Classify the highlighted recipe and write its root cause."""
        selected = self._board.selected
        if selected is None:
            return
        entry = self.tracker.get(selected.name)

        def save(answer: tuple[str, str] | None) -> None:
            if answer is None:
                return
            try:
                self.tracker.update(selected.name, classification=answer[0], root_cause=answer[1])
            except TrackerError as exc:
                self.notify(str(exc), title="Tracker", severity="error")
                return
            self._board.show(self.statuses, self.tracker.entries)
            self._show_detail()
            self.notify(f"{selected.name}: {answer[0]}", title="Classified")

        self.app.push_screen(
            ClassifyDialog(selected.name, entry.classification, entry.root_cause), save
        )

    def action_filter_classification(self) -> None:
        """Show only the recipes of one classification (or all)."""

        def apply(choice: str | None) -> None:
            if choice is not None:
                self._board.classification_filter = choice

        choices = [("", "all classifications"), *((c, c) for c in CLASSIFICATIONS)]
        dialog = ChoiceDialog(
            "Show recipes classified as", choices, self._board.classification_filter
        )
        self.app.push_screen(dialog, apply)

    def action_export_tracker(self) -> None:
        """Copy the M1 table to the clipboard and offer it to the journal."""
        names = [s.name for s in self.statuses] or None
        markdown = self.tracker.to_markdown(names)
        self.app.copy_to_clipboard(markdown)
        self.post_message(self.TrackerExported(markdown))
        rows = markdown.count("\n") - 2
        self.notify(f"M1 table copied ({rows} recipes)", title="Tracker")

    def palette_board_commands(self) -> list[tuple[str, str, Any]]:
        """Palette entries for these actions."""
        return [
            ("Rerun the selected recipe", "r", self.action_rerun),
            ("Stop the rerun in flight", "x", self.action_cancel_rerun),
            ("Classify the selected recipe", "c", self.action_classify),
            ("Filter the board by classification", "C", self.action_filter_classification),
            ("Export the M1 tracker table", "T", self.action_export_tracker),
        ]
