"""The main screen's reruns: start (``r``) and stop (``x``) one, and follow the one in flight.

:class:`RerunControl` is a helper object the screen owns (not a base class of it). It runs the
dialog flows of starting a guarded isolation rerun and stopping it, and after every node refresh
follows the rerun in flight (re-attaching after a restart) and shows its progress. The
bookkeeping (which run is followed, when it ended, its outcome and tracker row) is the
:class:`~redfix_tui.rerun_book.RerunBook`'s; each wrap-up runs in its own worker, outside the
refresh that noticed it, and this object only shows it (notification, board row, status bar).
It reaches the screen through the screen's public methods only.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from ..node import NodeError
from ..runs.book import RerunBook
from ..runs.state import NodeStatus, RerunRefused, RerunState
from ..shellcmd import UnsafeValue, validate_recipe
from ..widgets.recipe_board import Progress
from ..widgets.rerun_dialogs import CancelConfirm, RerunConfirm
from ..widgets.status_bar import human_delta

if TYPE_CHECKING:
    from .main import MainScreen


class RerunControl:
    """Rerun and stop flows, and the following of the run in flight, for one main screen."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        session = screen.session
        self.book = RerunBook(lambda: session.runs, lambda: screen.tracker)
        """The reruns this console follows and records."""
        self._wrap_errors: set[str] = set()

    def start(self) -> None:
        """Start a guarded isolation rerun of the highlighted recipe (after a confirmation)."""
        self.screen.run_worker(
            self._rerun_flow(), name="rerun", group="rerun", exclusive=True, exit_on_error=False
        )

    def stop(self) -> None:
        """Stop the rerun in flight (its whole process group), after a confirmation."""
        self.screen.run_worker(
            self._cancel_flow(), name="stop run", group="rerun", exclusive=True, exit_on_error=False
        )

    async def _fresh_status(self) -> NodeStatus:
        status = await self.screen.session.runs.status(self.screen.session.clock())
        self.screen.note_status(status)
        return status

    # -- after each refresh -----------------------------------------------------------------

    async def track(self, status: NodeStatus) -> None:
        """Follow the rerun in flight, show its progress, and start the wrap-up of every run
        that ended (in its own worker: the next refresh tick cannot cancel it)."""
        screen = self.screen
        seen = self.book.observe(status)
        if seen.attach is not None:
            self.follow(seen.attach, fresh_log=False)
        for state in seen.ended:
            screen.run_worker(
                self._wrap_up(state),
                name=f"wrap-up of the rerun of {state.recipe}",
                group="wrap-up",
                exclusive=False,
                exit_on_error=False,
            )
        if self.book.following is not None:
            await self._show_progress(self.book.following)
        else:
            screen.board.set_progress({})
            screen.status_bar.run_progress = ""
        screen.schedule_refresh(status.busy or self.book.busy)

    def follow(self, state: RerunState, *, fresh_log: bool) -> None:
        """Follow ``state``'s run: its log from the first byte, its row on the board."""
        screen = self.screen
        current = screen.status_of(state.recipe)
        self.book.follow(state, (current.isolation or current.sweep) if current else None)
        board = screen.board
        board.set_teardown(state.recipe, None)
        if fresh_log or not screen.session.open_log:
            screen.follow_log(state.log, again=True)
        if not fresh_log:
            if state.recipe in board.rows:
                board.move_cursor(row=board.get_row_index(state.recipe))
            screen.notify(
                f"re-attached to the rerun of {state.recipe} (pid {state.pid})", title="Rerun"
            )

    async def _show_progress(self, state: RerunState) -> None:
        try:
            progress = await self.screen.session.runs.progress(state)
        except NodeError:
            return  # the refresh itself reports a lost node; progress comes back with it
        shown = Progress(
            stage=progress.stage,
            elapsed_s=progress.stage_elapsed_s,
            previous_s=self.book.previous_stage_s(state.recipe, progress.stage),
            done=progress.done,
        )
        self.screen.board.set_progress({state.recipe: shown})
        self.screen.status_bar.run_progress = shown.describe()

    async def _wrap_up(self, state: RerunState) -> None:
        """Wait for the book's wrap-up of ``state``, then show it: the new verdicts on the
        board, the notification, the teardown flag."""
        screen = self.screen
        try:
            wrap = await self.book.wrap_up(state)
        except NodeError as exc:
            if state.key not in self._wrap_errors:  # once, not at every retry
                self._wrap_errors.add(state.key)
                screen.notify(
                    f"{state.recipe}: {exc.message} — its outcome is read at the next refresh",
                    title="Rerun ended",
                    severity="error",
                )
            return
        self._wrap_errors.discard(state.key)
        if not (wrap.followed or wrap.recorded):
            return  # another console recorded it already
        screen.board.set_teardown(state.recipe, wrap.outcome.teardown_clean)
        await screen.reload_recipes()  # new verdicts before the news
        screen.notify(wrap.message(), title="Rerun ended", severity=wrap.severity, timeout=15)

    def run_detail(self, recipe: str) -> str:
        """Extra words for the detail line: the run in flight, or the teardown flag."""
        board = self.screen.board
        if (progress := board.progress.get(recipe)) is not None:
            return f"▶ {progress.describe()}"
        clean = board.teardown.get(recipe)
        return "" if clean is None else ("teardown clean" if clean else "stack left ⚑")

    # -- the flows --------------------------------------------------------------------------

    async def _rerun_flow(self) -> None:
        screen = self.screen
        session = screen.session
        selected = screen.board.selected
        if selected is None:
            screen.notify("no recipe selected", severity="warning")
            return
        recipe, runs = selected.name, session.runs
        try:
            await session.node.connect()
            status = await self._fresh_status()
        except NodeError as exc:
            screen.notify(exc.message, title="Rerun refused", severity="error")
            return
        try:
            validate_recipe(recipe)
            reason = runs.node_refusal(status, session.clock())
        except UnsafeValue as exc:
            reason = str(exc)
        if reason:
            screen.notify(reason, title=f"Rerun of {recipe} refused", severity="error", timeout=10)
            return
        dialog = RerunConfirm(
            recipe,
            selected.latest_tag,
            lambda tag: runs.build_command(recipe, tag),
            runs.log_path(recipe),
        )
        tag = await screen.app.push_screen_wait(dialog)
        if not tag:
            return
        self.book.previous[recipe] = selected.isolation or selected.sweep
        try:
            state = await runs.start(recipe, tag, session.clock())
        except RerunRefused as exc:
            screen.notify(str(exc), title=f"Rerun of {recipe} refused", severity="error")
            return
        except NodeError as exc:
            screen.notify(exc.message, title="Rerun failed to start", severity="error")
            return
        self.follow(state, fresh_log=True)
        screen.notify(f"{recipe} at {tag}: pid {state.pid}, log {state.log}", title="Rerun started")
        await screen.refresh_now()

    async def _cancel_flow(self) -> None:
        screen = self.screen
        try:
            status = await self._fresh_status()
        except NodeError as exc:
            screen.notify(exc.message, title="Stop run", severity="error")
            return
        active = status.active_rerun
        if active is None:
            other = status.in_flight[0] if status.in_flight else None
            screen.notify(
                f"a run this console did not start is in flight (pid {other.pid}); not stopping it"
                if other
                else "no rerun in flight",
                title="Stop run",
                severity="warning",
            )
            return
        elapsed = status.elapsed(screen.session.clock())
        stop = await screen.app.push_screen_wait(
            CancelConfirm(active.recipe, active.pid, human_delta(elapsed or timedelta()))
        )
        if not stop:
            return
        try:
            await screen.session.runs.cancel(active)
        except (RerunRefused, NodeError) as exc:
            screen.notify(str(exc), title="Stop run", severity="error")
            return
        screen.notify(f"SIGTERM sent to process group {active.pid}", title="Stopping rerun")
        await asyncio.sleep(0.5)
        await screen.refresh_now()
