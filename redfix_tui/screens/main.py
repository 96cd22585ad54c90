"""The main screen: recipe board on the left, the log (or JUnit) in the middle, the status bar."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from functools import partial

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Footer, Static
from textual.worker import Worker

from ..node import DOWN_KINDS, NodeError
from ..recipes import RecipeStatus, age_text
from ..runs import NodeStatus
from ..safe_text import clean
from ..session import Session
from ..tracker import Tracker, TrackerError
from ..widgets.log_pane import LogPane
from ..widgets.log_view import LogView
from ..widgets.recipe_board import RecipeBoard
from ..widgets.status_bar import NodeStatusBar
from .board_actions import BOARD_BINDINGS, BoardActions
from .journal_pane import JournalPaneMixin
from .junit_pane import JUnitPaneMixin
from .node_switch import NodeSwitchMixin

NARROW = 120
"""Below this many columns the journal editor takes the whole body when open."""
WIDE_BOARD = 160
"""From this many columns on, the board shows canonical, age and classification in full."""
HUGE = 200
"""From this many columns on, the board stays visible beside an open journal."""


class RecipeDetail(Static):
    """One line over the log: the selected recipe's tag, canonical and classification."""

    DEFAULT_CSS = """
    RecipeDetail { height: 1; padding: 0 1; background: $boost; }
    """


class MainScreen(JournalPaneMixin, JUnitPaneMixin, NodeSwitchMixin, BoardActions, Screen):
    """Board, log/JUnit switcher, journal editor beside them, status bar and footer.

    Reruns, their tracking and the M1 tracker actions come from :class:`BoardActions`.
    """

    BINDINGS = [
        Binding("ctrl+r", "refresh", "Refresh", id="main.refresh"),
        Binding("b", "toggle_board", "Board", id="main.toggle_board"),
        Binding("o", "open_log", "Open log", id="main.open_log"),
        Binding("O", "follow_recipe_log", "Recipe log", id="main.follow_recipe_log"),
        Binding("tab", "app.focus_next", "Next pane", show=False, id="main.focus_next"),
        *JournalPaneMixin.JOURNAL_BINDINGS,
        *JUnitPaneMixin.JUNIT_BINDINGS,
        *NodeSwitchMixin.NODE_BINDINGS,
        *BOARD_BINDINGS,
    ]

    def __init__(self, session: Session, *, tick: bool = True, load: bool = True) -> None:
        super().__init__()
        self.session = session
        self.tick = tick
        self.load = load
        self.statuses: list[RecipeStatus] = []
        self.node_status: NodeStatus | None = None
        self.tracker = Tracker(session.tracker_path)
        self.selected: str | None = None
        self._refresh_lock = asyncio.Lock()
        self._refresh_worker: Worker[None] | None = None
        self._refresh_again = False
        self._follow_timer: Timer | None = None
        self._following: str | None = None
        self._recipes_read_at = -float("inf")
        self._last_error = ""
        self._init_board_actions()

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Board | (detail line, log/JUnit) | journal; status bar; footer."""
        clock = self.session.clock
        with Horizontal(id="body"):
            yield RecipeBoard(id="board", clock=clock)
            with Vertical(id="main"):
                yield RecipeDetail(id="detail")
                with ContentSwitcher(initial="log-pane", id="switcher"):
                    yield LogPane(id="log-pane")
        yield NodeStatusBar(id="status", clock=clock, tick=self.tick)
        yield Footer()

    def on_mount(self) -> None:
        """Connect, load, and refresh on a timer."""
        self.query_one(NodeStatusBar).host = self.session.host_label
        if len(self.session.config.node_names()) > 1:
            self.query_one(RecipeBoard).node_label = self.session.host_label
        self._fit(self.size.width)
        if self.session.open_log:
            self.focus_log()  # `redfix-tui log NODE:FILE`: the first keys are for the log
        try:
            self.tracker = Tracker.load(self.session.tracker_path)
        except TrackerError as exc:
            self.notify(str(exc), severity="error", timeout=10)
        if self.load:
            self.start_session()
            self.schedule_refresh(busy=False)

    def on_resize(self) -> None:
        """Switch the board between compact and wide layouts."""
        self._fit(self.size.width)

    def _fit(self, width: int | None = None) -> None:
        """Lay out for ``width`` columns (and for whether the journal is open)."""
        width = self.size.width if width is None else width
        journal = self.has_class("-journal-open")
        self.query_one(RecipeBoard).compact = width < WIDE_BOARD or journal
        self.set_class(width < NARROW, "-narrow")
        self.set_class(width >= HUGE, "-huge")

    # -- node -------------------------------------------------------------------------------

    def _on_node_state(self, state: str, message: str) -> None:
        if not self.is_attached:
            return
        bar = self.query_one(NodeStatusBar)
        bar.connection = {"lost": "reconnecting", "closed": "down"}.get(state, state)
        bar.message = message

    @work(group="node", exclusive=True, exit_on_error=False, name="connecting and first refresh")
    async def start_session(self) -> None:
        """Start the session (the demo node, if any), connect and do a first refresh."""
        bar = self.query_one(NodeStatusBar)
        bar.message = "starting"
        await self.session.start()
        self.session.node.add_listener(self._on_node_state)
        bar.host = self.session.node.host_label
        if self.session.open_log:
            self.follow_log(self.session.open_log)
        await self._refresh(recipes=True)

    def refresh_node(self, recipes: bool = False) -> Worker[None]:
        """Re-read the node's state, and the recipes when due (or when ``recipes``).

        A refresh under way is never cancelled by the next tick (on a slow or busy node a
        refresh can take longer than the 2 s between ticks, and cancelling it each time would
        mean no refresh ever completes); a tick is dropped instead, and a request for the
        recipes (ctrl+r) runs once more, recipes included, after the refresh under way.
        """
        running = self._refresh_worker
        if running is not None and not running.is_finished:
            if recipes:
                self._recipes_read_at = -float("inf")
                self._refresh_again = True
            return running
        self._refresh_worker = self.run_worker(
            self._refresh_job(recipes),
            name="node refresh",
            group="refresh",
            exit_on_error=False,
        )
        return self._refresh_worker

    async def _refresh_job(self, recipes: bool) -> None:
        await self._refresh(recipes=recipes)
        while self._refresh_again:  # asked for while this one ran
            self._refresh_again = False
            await self._refresh()

    async def _refresh(self, *, recipes: bool = False) -> None:
        """One refresh. Recipes (every results.json and canonical, the latest tags) are re-read
        every ``refresh_seconds`` or on demand; the 2 s ticks of a run in flight read only the
        node's state, and a run's end re-reads the verdicts by itself. Refreshes never overlap
        (the timer's and a rerun flow's), so an older one cannot undo a newer one's results."""
        async with self._refresh_lock:
            await self._refresh_locked(recipes)

    async def _refresh_locked(self, recipes: bool) -> None:
        bar = self.query_one(NodeStatusBar)
        due = time.monotonic() - self._recipes_read_at >= self.session.config.board.refresh_seconds
        try:
            await self.session.node.connect()
            status_call = self.session.runs.status(self.session.clock())
            if recipes or due:
                statuses, status = await asyncio.gather(self.session.recipes.load(), status_call)
                self._recipes_read_at = time.monotonic()
            else:
                statuses, status = self.statuses, await status_call
        except NodeError as exc:
            if exc.kind == "command":  # the node is there; one of its commands failed
                bar.problem = exc.message
            else:
                bar.connection = "down" if exc.kind in DOWN_KINDS else "reconnecting"
                bar.message = exc.message
            if exc.message != self._last_error:  # once per failure, not once per tick
                self._last_error = exc.message
                self.notify(exc.message, title="Node", severity="error", timeout=8)
            return
        self._last_error = ""
        bar.problem = self.session.recipes.problem  # node files or names that fit no recipe
        self.statuses = statuses
        self.node_status = status
        bar.node_status = status
        board = self.query_one(RecipeBoard)
        first = not board.statuses
        board.show(statuses, self.tracker.entries)
        if first and status.active_rerun is None:
            self._select_latest_isolation(board)
        self._show_detail()
        await self.track_runs(status)
        if status.in_flight:
            self.refresh_junit_if_running()

    def _select_latest_isolation(self, board: RecipeBoard) -> None:
        """Start on the recipe whose isolation rerun finished last (its log is the one to read)."""
        runs = [s for s in self.statuses if s.isolation is not None and s.isolation.finished]
        if runs:
            latest = max(runs, key=lambda s: s.isolation.finished)  # type: ignore[union-attr]
            if latest.name in board.rows:
                board.move_cursor(row=board.get_row_index(latest.name))

    def action_open_log(self) -> None:
        """Open another log by path: on the node, or ``local:PATH`` on this machine."""
        from ..widgets.open_log import OpenLogDialog

        def opened(target: tuple[str, str] | None) -> None:
            if target is None:
                return
            kind, path = target
            self.session.open_log = path  # the board's selection no longer changes the log
            if kind == "local":
                self._following = None
                self.query_one(LogPane).open_local(path)
            else:
                self.follow_log(path)
            self.query_one("#switcher", ContentSwitcher).current = "log-pane"
            self.focus_log()

        self.app.push_screen(OpenLogDialog(self._following or ""), opened)

    def action_follow_recipe_log(self) -> None:
        """Go back to following the selected recipe's rerun log."""
        self.session.open_log = None
        self._follow_selected()

    def action_toggle_board(self) -> None:
        """Hide the board to give the log the whole width (again to bring it back)."""
        self.toggle_class("-board-hidden")
        if self.has_class("-board-hidden"):
            self.focus_log()
        else:
            self.query_one(RecipeBoard).focus()

    def action_refresh(self) -> None:
        """Refresh now, recipes included (and try again after refused authentications)."""
        self.session.node.reset()
        self.refresh_node(recipes=True)

    # -- selection --------------------------------------------------------------------------

    def on_recipe_board_recipe_selected(self, event: RecipeBoard.RecipeSelected) -> None:
        """Drive the detail line (and the log and JUnit panes) from the board."""
        changed = self.selected != event.status.name
        self.selected = event.status.name
        self._show_detail()
        if changed and self.junit_shown():
            self.load_junit()
        if self._follow_timer is not None:
            self._follow_timer.stop()
        self._follow_timer = self.set_timer(0.3, self._follow_selected)

    def _follow_selected(self) -> None:
        """Tail the selected recipe's rerun log (unless a log was opened by path)."""
        if self.selected is None or self.session.open_log or not self.load:
            return
        self.follow_log(self.session.runs.log_path(self.selected))

    def follow_log(self, path: str) -> None:
        """Tail ``path`` on the node in the log pane (no-op if it already follows it)."""
        if path == self._following:
            return
        self._following = path
        self.query_one(LogPane).follow_remote(self.session.node, path)

    def _show_detail(self) -> None:
        status = next((s for s in self.statuses if s.name == self.selected), None)
        detail = self.query_one(RecipeDetail)
        if status is None:
            detail.update("")
            return
        canonical = status.canonical
        text = Text()
        text.append(clean(status.name), style="bold")
        if status.problem:  # a node file of this recipe could not be (fully) used
            text.append(f"  ⚠ {clean(status.problem)}", style="bold yellow")
        text.append(f"  tag {clean(status.latest_tag) or '?'}")
        if canonical:
            age = age_text(canonical.ts, self.session.clock())
            text.append(f"  canonical {clean(canonical.version)} ({age} ago)")
        else:
            text.append("  no canonical", style="dim")
        entry = self.tracker.get(status.name)
        text.append(f"  │ {clean(entry.classification)}", style="italic")
        if run := self.run_detail(status.name):
            text.append(f"  │ {clean(run)}", style="bold")
        detail.update(text)

    def focus_log(self) -> None:
        """Give the keyboard to the log view."""
        self.query_one(LogView).focus()

    def palette_commands(self) -> Iterator[tuple[str, str, Callable]]:
        """Actions reachable by name from the command palette even when their pane is unfocused."""
        yield ("Refresh node state", "ctrl+r", self.action_refresh)
        yield from self.palette_board_commands()
        from ..widgets.junit_view import JUnitView

        for prefix, pane, bindings in (
            ("Log", "log-pane", LogView.BINDINGS),
            ("JUnit", "junit", JUnitView.BINDINGS),
        ):
            for binding in bindings:
                if isinstance(binding, Binding) and binding.description:
                    yield (
                        f"{prefix}: {binding.description}",
                        f"key {binding.key.split(',')[0]} in the {prefix} pane",
                        partial(self._pane_action, pane, binding.action),
                    )

    async def _pane_action(self, pane: str, action: str) -> None:
        """Show ``pane``, focus it and run one of its actions (from the command palette)."""
        if pane == "junit":
            owner = await self.ensure_junit_view()
            focus = owner.results_tree
            if self._junit_recipe != self.selected:
                self.load_junit()
        else:
            owner = focus = self.query_one(LogView)
        self.query_one("#switcher", ContentSwitcher).current = pane
        focus.focus()
        await self.app.run_action(action, owner)
