"""The main screen's reruns: start (``r``) and stop (``x``) one, queue several, follow them.

:class:`RerunControl` is a helper object the screen owns (not a base class of it). It runs the
dialog flows of starting a guarded isolation rerun and stopping it, of queueing the marked recipes
(``r`` with marks; ``x`` on a queued recipe takes it out of the queue), and after every node
refresh follows the rerun in flight (re-attaching after a restart) and shows its progress, the
node's queue (each waiting recipe's place on the board) and the archive's free space; a run the
wrapper could not archive is said in one line. The bookkeeping (which run is followed, when it
ended, its outcome and tracker row) is the
:class:`~redfix_tui.runs.book.RerunBook`'s; each wrap-up runs in its own worker, outside the
refresh that noticed it, and this object only shows it (notification, board row, status bar).
It reaches the screen through the screen's public methods only.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from ..node import NodeError
from ..runs.book import RerunBook
from ..runs.ledger import archive_base, shell_dir
from ..runs.queue import QueuedRun, RerunQueue
from ..runs.state import NodeStatus, RerunRefused, RerunState
from ..shellcmd import UnsafeValue, validate_recipe
from ..widgets.recipe_board import Progress
from ..widgets.rerun_dialogs import CancelConfirm, QueueConfirm, RerunConfirm
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
        self.queue: list[QueuedRun] = []
        """The node's rerun queue as last read (the run it started first, if any)."""
        self.not_archived: dict[str, str] = {}
        """Recipe → why its last run was not archived (one line for the detail line)."""
        self._disk_read_at = -float("inf")

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
        await self._read_queue()
        await self._read_archive_disk()
        if self.book.following is not None:
            await self._show_progress(self.book.following)
        else:
            screen.board.set_progress({})
            screen.status_bar.run_progress = ""
        screen.schedule_refresh(status.busy or self.book.busy or bool(self.queue))

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
        await self._check_archive(state)
        if not (wrap.followed or wrap.recorded):
            return  # another console recorded it already
        screen.board.set_teardown(state.recipe, wrap.outcome.teardown_clean)
        await screen.reload_recipes()  # new verdicts before the news
        screen.notify(wrap.message(), title="Rerun ended", severity=wrap.severity, timeout=15)
        stages, stopped = wrap.outcome.stages, state.terminated
        screen.tell_operator(screen.notifier.rerun_ended(state.recipe, stages, terminated=stopped))

    # -- the queue and the archive ----------------------------------------------------------

    def _queue(self) -> RerunQueue:
        session = self.screen.session
        return RerunQueue(session.node, session.config, session.runs)

    def waiting(self, recipe: str) -> bool:
        """True when ``recipe`` waits in the queue (not the run the queue started)."""
        return any(item.recipe == recipe and not item.running for item in self.queue)

    async def _read_queue(self) -> None:
        """Read the node's queue and show each waiting recipe's place on the board."""
        try:
            self.queue = await self._queue().items()
        except NodeError:
            return  # the refresh reports a lost node; the queue is read again with it
        places: dict[str, int] = {}
        for place, item in enumerate((q for q in self.queue if not q.running), 1):
            places.setdefault(item.recipe, place)
        self.screen.board.set_queue(places)

    async def _read_archive_disk(self) -> None:
        """Every ``refresh_seconds``: the free space of the archive's file system, shown beside
        runs_root's when it is another one (df of the archive's nearest existing directory)."""
        session = self.screen.session
        if time.monotonic() - self._disk_read_at < session.config.board.refresh_seconds:
            return
        self._disk_read_at = time.monotonic()
        runs_root = shlex.quote(session.config.paths.runs_root)
        command = (
            f"d={shell_dir(archive_base(session.config))}; "
            'while [ ! -d "$d" ] && [ "$d" != / ]; do d=$(dirname -- "$d"); done; '
            f'df -P -B1 -- "$d" {runs_root}'
        )
        try:
            result = await session.node.run(command)
        except NodeError:
            return
        rows = [line.split() for line in result.stdout.splitlines()[1:]]
        rows = [row for row in rows if len(row) >= 6 and row[3].isdigit()]
        bar = self.screen.status_bar
        if len(rows) == 2 and rows[0][5] != rows[1][5]:  # another mount point
            bar.archive_free = int(rows[0][3])
        else:
            bar.archive_free = None

    async def _check_archive(self, state: RerunState) -> None:
        """Say in one line (once) when the wrapper could not archive ``state``'s run."""
        queue = self._queue()
        try:
            found = await queue.states([state.recipe])
        except NodeError:
            return
        current = found.get(state.recipe)
        if current is None or current[1].key != state.key:
            return  # the state file holds a newer run by now
        problem = queue.archive_problems.get(state.recipe)
        if problem is None:
            self.not_archived.pop(state.recipe, None)
            return
        told = self.not_archived.get(state.recipe) == problem
        self.not_archived[state.recipe] = problem
        if not told:
            self.screen.notify(
                f"{state.recipe}: the run was not archived ({problem}); the ledger will miss it — "
                "check free space and [paths] archive on the node",
                title="Archive",
                severity="error",
                timeout=15,
            )

    def run_detail(self, recipe: str) -> str:
        """Extra words for the detail line: the run in flight, or the teardown flag."""
        board = self.screen.board
        if (progress := board.progress.get(recipe)) is not None:
            return f"▶ {progress.describe()}"
        words = []
        if (place := board.queued.get(recipe)) is not None:
            words.append(f"queued #{place}" + (" — runs next" if place == 1 else ""))
        if (why := self.not_archived.get(recipe)) is not None:
            words.append(f"last run not archived: {why}")
        clean = board.teardown.get(recipe)
        if clean is not None:
            words.append("teardown clean" if clean else "stack left ⚑")
        return " · ".join(words)

    # -- the flows --------------------------------------------------------------------------

    async def _rerun_flow(self) -> None:
        screen = self.screen
        session = screen.session
        if screen.board.marked:
            await self._queue_flow(sorted(screen.board.marked))
            return
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
            if status.active_rerun is not None:  # our own: the queue can take it
                reason += " — space marks it, r then queues it behind"
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

    async def _queue_flow(self, recipes: list[str]) -> None:
        """Queue reruns of the marked ``recipes`` at their latest tags (after a confirmation)."""
        screen = self.screen
        session = screen.session
        items: list[tuple[str, str]] = []
        for recipe in recipes:
            known = screen.status_of(recipe)
            if known is None or not known.latest_tag:
                screen.notify(
                    f"{recipe}: its latest tag is not known — refresh (ctrl+r) or rerun it alone "
                    "with a tag",
                    title="Queue refused",
                    severity="error",
                )
                return
            items.append((recipe, known.latest_tag))
        try:
            await session.node.connect()
            status = await self._fresh_status()
        except NodeError as exc:
            screen.notify(exc.message, title="Queue refused", severity="error")
            return
        active = status.active_rerun
        behind = f"They start after the rerun of {active.recipe} in flight." if active else ""
        if not await screen.app.push_screen_wait(QueueConfirm(items, behind)):
            return
        try:
            queued = await self._queue().enqueue(items, session.clock())
        except (RerunRefused, UnsafeValue) as exc:
            screen.notify(str(exc), title="Queue refused", severity="error", timeout=10)
            return
        except NodeError as exc:
            screen.notify(exc.message, title="Queue failed", severity="error", timeout=10)
            return
        screen.board.clear_marks()
        names = ", ".join(item.recipe for item in queued)
        count = f"{len(queued)} rerun{'s' * (len(queued) != 1)}"
        screen.notify(f"{count} queued: {names}", title="Queue")
        await screen.refresh_now()

    async def _remove_queued(self, recipe: str) -> None:
        """Take ``recipe``'s waiting runs out of the queue (the run in flight goes on)."""
        screen = self.screen
        try:
            removed = await self._queue().remove(recipe)
        except (UnsafeValue, NodeError) as exc:
            screen.notify(str(getattr(exc, "message", exc)), title="Queue", severity="error")
            return
        await self._read_queue()
        screen.notify(
            f"{recipe}: {removed} queued rerun{'s' * (removed != 1)} removed "
            "(a run in flight is not touched)",
            title="Queue",
        )

    async def _cancel_flow(self) -> None:
        screen = self.screen
        selected = screen.board.selected
        if selected is not None and self.waiting(selected.name):
            await self._remove_queued(selected.name)
            return
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
