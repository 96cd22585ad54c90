"""The main screen: recipe board on the left, the log (or JUnit) in the middle, the status bar.

:class:`MainScreen` composes the panes and routes between them: it reacts to their messages
(the board's selection and evidence, the log's evidence, the JUnit pane's log requests, the
journal editor's save and close), re-reads the node on a timer and hands what it read to the
board, the detail line and the status bar. The reruns are a :class:`RerunControl` it owns; the
JUnit pane fetches its own runs.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher
from textual.worker import Worker

from ..config import ConfigError
from ..evidence import Evidence
from ..node import DOWN_KINDS, NodeError
from ..notify import Announcement, Notifier
from ..recipes import RecipeStatus
from ..runs.state import NodeStatus, RerunState
from ..session import Session
from ..shellcmd import UnsafeValue
from ..tracker import CLASSIFICATIONS, Tracker, TrackerError
from ..widgets.choice_dialog import ChoiceDialog
from ..widgets.junit_pane import JUnitPane
from ..widgets.key_footer import KeyFooter
from ..widgets.log_pane import LogPane
from ..widgets.log_view import LogView
from ..widgets.recipe_board import RecipeBoard
from ..widgets.recipe_detail import RecipeDetail
from ..widgets.rerun_dialogs import ClassifyDialog
from ..widgets.status_bar import NodeStatusBar
from .rerun_control import RerunControl

if TYPE_CHECKING:  # imported when first opened (start-up stays light)
    from ..runs.book import RerunBook
    from ..widgets.journal_editor import JournalEditor
    from ..widgets.journal_entries import JournalEntriesPanel
    from ..widgets.junit_view import JUnitView
    from .history import LogRequest

NARROW = 120
"""Below this many columns the board stacks above the log (``-stacked``: the log gets the whole
width) and the journal editor takes the whole body when open; from this on the board sits left."""
LOG_ROOM = 110
"""Beside the board, the log keeps at least this many columns: the board shows canonical, age and
classification in full only when they fit in what is left."""
HUGE = 200
"""From this many columns on, the board stays visible beside an open journal."""
BUSY_REFRESH_SECONDS = 2.0
"""How often the node is re-read while a run is in flight."""
SETTLE_S = 0.3
"""A freshly opened log counts as loaded once its line count holds still this long."""

BOARD_BINDINGS = [
    Binding("r", "rerun", "Rerun", id="main.rerun"),
    Binding("x", "cancel_rerun", "Stop run", id="main.cancel_rerun"),
    Binding("c", "classify", "Classify", id="main.classify"),
    Binding("C", "filter_classification", "Class filter", show=False, id="main.class_filter"),
    Binding("T", "export_tracker", "Export M1", id="main.export_tracker"),
    Binding("h", "history", "History", id="main.history"),
]
"""The screen's actions on the board's recipes (also offered by the command palette)."""


@dataclass(frozen=True)
class MarkdownSnippet:
    """Ready-made Markdown (e.g. the M1 tracker table) to put into the draft like evidence."""

    markdown: str

    def to_markdown(self) -> str:
        """The Markdown as given, ending in a newline."""
        return self.markdown if self.markdown.endswith("\n") else self.markdown + "\n"


class MainScreen(Screen):
    """Board, log/JUnit switcher, journal editor beside them, status bar and footer."""

    BINDINGS = [
        Binding("ctrl+r", "refresh", "Refresh", id="main.refresh"),
        Binding("b", "toggle_board", "Board", id="main.toggle_board"),
        Binding("o", "open_log", "Open log", id="main.open_log"),
        Binding("O", "follow_recipe_log", "Recipe log", id="main.follow_recipe_log"),
        Binding("tab", "app.focus_next", "Next pane", show=False, id="main.focus_next"),
        Binding("j", "journal", "Journal", id="main.journal"),
        Binding("u", "toggle_junit", "JUnit", id="main.junit"),
        Binding("N", "switch_node", "Node", id="main.switch_node"),
        *BOARD_BINDINGS,
    ]

    class TrackerExported(Message):
        """The M1 tracker was exported as a Markdown table (the journal takes it)."""

        def __init__(self, markdown: str) -> None:
            self.markdown = markdown
            super().__init__()

    def __init__(self, session: Session, *, tick: bool = True, load: bool = True) -> None:
        super().__init__()
        self.session = session
        self.tick = tick
        self.load = load
        self.statuses: list[RecipeStatus] = []
        self.node_status: NodeStatus | None = None
        self.tracker = Tracker(session.tracker_path)
        self.selected: str | None = None
        self.reruns = RerunControl(self)
        """The rerun flows and the following of the run in flight."""
        self.notifier = Notifier(session.config.notify)
        """When to ring the bell and set the terminal title (``[notify]``)."""
        self._refresh_lock = asyncio.Lock()
        self._refresh_worker: Worker[None] | None = None
        self._refresh_again = False
        self._refresh_timer: Timer | None = None
        self._refresh_every = 0.0
        self._follow_timer: Timer | None = None
        self._following: str | None = None
        self._recipes_read_at = -float("inf")
        self._last_error = ""

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
        yield KeyFooter()

    @property
    def board(self) -> RecipeBoard:
        """The recipe board."""
        return self.query_one(RecipeBoard)

    @property
    def status_bar(self) -> NodeStatusBar:
        """The status bar."""
        return self.query_one(NodeStatusBar)

    @property
    def switcher(self) -> ContentSwitcher:
        """The switcher between the log pane and the JUnit pane."""
        return self.query_one("#switcher", ContentSwitcher)

    def on_mount(self) -> None:
        """Connect, load, and refresh on a timer."""
        self.status_bar.host = self.session.host_label
        if len(self.session.config.node_names()) > 1:
            self.board.node_label = self.session.host_label
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
        """Stack or place side by side, and give the board its room."""
        self._fit(self.size.width)

    def _fit(self, width: int | None = None) -> None:
        """Lay out for ``width`` columns (and for whether the journal is open): below NARROW the
        board stacks above the log and may take the whole width, else it sits left and leaves
        the log LOG_ROOM columns; beside the journal it stays compact."""
        width = self.size.width if width is None else width
        stacked = width < NARROW
        journal = self.has_class("-journal-open")
        self.board.room = 0 if journal else width if stacked else width - LOG_ROOM
        self.set_class(stacked, "-stacked")
        self.set_class(width >= HUGE, "-huge")

    # -- node -------------------------------------------------------------------------------

    def _on_node_state(self, state: str, message: str) -> None:
        if not self.is_attached:
            return
        bar = self.status_bar
        bar.connection = {"lost": "reconnecting", "closed": "down"}.get(state, state)
        bar.message = message
        self.tell_operator(self.notifier.connection(bar.host or "node", bar.connection, message))

    def tell_operator(self, announcement: Announcement | None) -> None:
        """Ring the bell / set the terminal title through the app (see :mod:`..notify`)."""
        announce = getattr(self.app, "announce", None)  # the console's app, not a test's
        if announce is not None:
            announce(announcement)

    @on(LogPane.FailureAppeared)
    def _failure_appeared(self, event: LogPane.FailureAppeared) -> None:
        """A failure line in the followed log (``[notify] failure_lines``)."""
        self.tell_operator(self.notifier.failure_line(event.where, event.line))

    @work(group="node", exclusive=True, exit_on_error=False, name="connecting and first refresh")
    async def start_session(self) -> None:
        """Start the session (the demo node, if any), connect and do a first refresh."""
        bar = self.status_bar
        bar.message = "starting"
        await self.session.start()
        self.session.node.add_listener(self._on_node_state)
        bar.host = self.session.node.host_label
        if self.session.open_log:
            self.follow_log(self.session.open_log)
        await self._refresh(recipes=True)

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

    async def refresh_now(self) -> None:
        """One refresh of the node's state, in the calling worker (after a rerun starts or
        stops)."""
        await self._refresh()

    async def _refresh(self, *, recipes: bool = False) -> None:
        """One refresh. Recipes (every results.json and canonical, the latest tags) are re-read
        every ``refresh_seconds`` or on demand; the 2 s ticks of a run in flight read only the
        node's state, and a run's end re-reads the verdicts by itself. Refreshes never overlap
        (the timer's and a rerun flow's), so an older one cannot undo a newer one's results."""
        async with self._refresh_lock:
            await self._refresh_locked(recipes)

    async def _refresh_locked(self, recipes: bool) -> None:
        bar = self.status_bar
        due = time.monotonic() - self._recipes_read_at >= self.session.config.board.refresh_seconds
        early = self.session.take_board_read() if recipes or due else None
        try:
            if early is not None:  # connect and read, begun by the CLI before the UI loaded
                statuses, status = await early
                self._recipes_read_at = time.monotonic()
            elif recipes or due:
                await self.session.node.connect()
                status_call = self.session.runs.status(self.session.clock())
                statuses, status = await asyncio.gather(self.session.recipes.load(), status_call)
                self._recipes_read_at = time.monotonic()
            else:
                await self.session.node.connect()
                statuses, status = (
                    self.statuses,
                    await self.session.runs.status(self.session.clock()),
                )
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
        self.note_status(status)
        board = self.board
        first = not board.statuses
        board.show(statuses, self.tracker.entries)
        if first and status.active_rerun is None:
            self._select_latest_isolation(board)
        self._show_detail()
        await self.reruns.track(status)
        if recipes or due:  # the tracker's rows of runs archived meanwhile, and the grades
            record = await self.book.record_ledgers(statuses)
            if record.changed:
                board.show(statuses, self.tracker.entries)
            if record.problem:
                self.notify(record.problem, title="Tracker", severity="warning")
        if status.in_flight:
            self._refresh_junit_if_running()

    def note_status(self, status: NodeStatus) -> None:
        """Keep and show the node's state as just read."""
        self.node_status = status
        self.status_bar.node_status = status

    async def reload_recipes(self) -> None:
        """Re-read the recipes now (a rerun ended: its verdicts) and show them."""
        async with self._refresh_lock:  # no refresh overlaps
            try:
                self.statuses = await self.session.recipes.load()
                self._recipes_read_at = time.monotonic()
            except NodeError:
                self._recipes_read_at = -float("inf")  # the next refresh reads them
            self.board.show(self.statuses, self.tracker.entries)
            self._show_detail()

    def status_of(self, recipe: str | None) -> RecipeStatus | None:
        """The last status read of ``recipe``."""
        return next((s for s in self.statuses if s.name == recipe), None)

    def _select_latest_isolation(self, board: RecipeBoard) -> None:
        """Start on the recipe whose isolation rerun finished last (its log is the one to read)."""
        finished = {
            s.name: s.isolation.finished
            for s in self.statuses
            if s.isolation is not None and s.isolation.finished
        }
        if finished:
            latest = max(finished, key=finished.__getitem__)
            if latest in board.rows:
                board.move_cursor(row=board.get_row_index(latest))

    def action_refresh(self) -> None:
        """Refresh now, recipes included (and try again after refused authentications)."""
        self.session.node.reset()
        self.refresh_node(recipes=True)

    # -- node switching ---------------------------------------------------------------------

    def action_switch_node(self) -> None:
        """Offer the configured nodes (a one-node config says so)."""
        config = self.session.config
        names = config.node_names()
        if self.session.demo_dir is not None or len(names) < 2:
            self.notify(
                "only one node is configured (add [nodes.NAME] tables to the config)",
                severity="warning",
            )
            return
        nodes = []
        for name in names:
            node = config.node_config(name)
            where = f"{node.username + '@' if node.username else ''}{node.host}"
            nodes.append((name, f"{name}  ({where}{f':{node.port}' if node.port else ''})"))
        current = self.session.node_name or config.node.host
        self.app.push_screen(ChoiceDialog("Work on node", nodes, current), self._picked_node)

    def _picked_node(self, name: str | None) -> None:
        """The node picker's answer: switch in a worker (closing and connecting take time)."""
        self._switch_to(name)

    @work(group="node-switch", exclusive=True, exit_on_error=False)
    async def _switch_to(self, name: str | None) -> None:
        """Close the node in use, forget what was shown of it, and load ``name``."""
        session = self.session
        if name is None or name == (session.node_name or session.config.node.host):
            return
        try:
            await session.switch_node(name)
        except ConfigError as exc:
            self.notify(str(exc), severity="error")
            return
        self.statuses = []
        self.node_status = None
        self.reruns.book.forget()
        self._following = None
        for pane in self.query(JUnitPane):  # none until the JUnit pane is first opened
            pane.forget()
        self.board.reset(session.host_label)
        bar = self.status_bar
        bar.node_status = None
        bar.connection = "connecting"
        bar.host = session.host_label
        self.notify(f"now on node {name}", title="Node")
        self.start_session()

    # -- reruns and the tracker -------------------------------------------------------------

    @property
    def book(self) -> RerunBook:
        """The reruns this console follows and records."""
        return self.reruns.book

    @property
    def rerun_state(self) -> RerunState | None:
        """The rerun in flight that this console follows."""
        return self.reruns.book.following

    def action_rerun(self) -> None:
        """Start a guarded isolation rerun of the highlighted recipe (after a confirmation)."""
        self.reruns.start()

    def action_cancel_rerun(self) -> None:
        """Stop the rerun in flight (its whole process group), after a confirmation; on a
        queued recipe, take it out of the queue."""
        self.reruns.stop()

    def action_history(self) -> None:
        """Open the highlighted recipe's run ledger (its history screen)."""
        from .history import HistoryScreen

        selected = self.board.selected
        if selected is None:
            self.notify("no recipe selected", severity="warning")
            return
        self.app.push_screen(HistoryScreen(self.session, selected.name), self._history_closed)

    def _history_closed(self, request: LogRequest | None) -> None:
        """Show the log the history screen asked for (at a case, when it names one)."""
        if request is None:
            return
        self.session.open_log = request.path  # the board's selection no longer changes it
        self.follow_log(request.path)
        self.show_log()
        if request.test_id:
            self._jump(request.test_id, request.stage)

    def action_classify(self) -> None:
        """Classify the highlighted recipe and write its root cause."""
        selected = self.board.selected
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
            self.board.show(self.statuses, self.tracker.entries)
            self._show_detail()
            self.notify(f"{selected.name}: {answer[0]}", title="Classified")

        self.app.push_screen(
            ClassifyDialog(selected.name, entry.classification, entry.root_cause), save
        )

    def action_filter_classification(self) -> None:
        """Show only the recipes of one classification (or all)."""
        board = self.board

        def apply(choice: str | None) -> None:
            if choice is not None:
                board.classification_filter = choice

        choices = [("", "all classifications"), *((c, c) for c in CLASSIFICATIONS)]
        dialog = ChoiceDialog("Show recipes classified as", choices, board.classification_filter)
        self.app.push_screen(dialog, apply)

    def action_export_tracker(self) -> None:
        """Copy the M1 table to the clipboard and offer it to the journal."""
        names = [s.name for s in self.statuses] or None
        markdown = self.tracker.to_markdown(names)
        self.app.copy_to_clipboard(markdown)
        self.post_message(self.TrackerExported(markdown))
        rows = markdown.count("\n") - 2
        self.notify(f"M1 table copied ({rows} recipes)", title="Tracker")

    # -- selection and the log --------------------------------------------------------------

    @on(RecipeBoard.RecipeSelected)
    def _recipe_selected(self, event: RecipeBoard.RecipeSelected) -> None:
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

    def follow_log(self, path: str, *, again: bool = False) -> None:
        """Tail ``path`` on the node in the log pane (no-op if it already follows it, unless
        ``again``: then from its first byte)."""
        if path == self._following and not again:
            return
        self._following = path
        recipe = self._rerun_log_recipe(path)
        pane = self.query_one(LogPane)
        early = self.session.take_early_tail(path)  # `log NODE:FILE`: begun before the UI
        pane.follow_remote(self.session.node, path, recipe=recipe, early=early)
        pane.watch_failures = self.session.config.notify.failure_lines
        book = self.reruns.book
        pane.log_view.previous_stage_s = (
            partial(book.previous_stage_s, recipe) if recipe else None
        )  # the ledger's yardstick for stage durations

    def _rerun_log_recipe(self, path: str) -> str:
        """The recipe whose rerun log ``path`` is, by the configured template ("" if none)."""
        template = self.session.config.paths.rerun_log
        before, placeholder, after = template.partition("{recipe}")
        if not placeholder or len(path) <= len(before) + len(after):
            return ""
        if not (path.startswith(before) and path.endswith(after)):
            return ""
        recipe = path[len(before) : len(path) - len(after)]
        try:
            return recipe if self.session.runs.log_path(recipe) == path else ""
        except UnsafeValue:  # not a recipe name: some other file
            return ""

    def show_log(self) -> None:
        """Bring the log pane forward and give it the keyboard."""
        self.switcher.current = "log-pane"
        self.focus_log()

    def focus_log(self) -> None:
        """Give the keyboard to the log view."""
        self.query_one(LogView).focus()

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
            self.show_log()

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
            self.board.focus()

    def _show_detail(self) -> None:
        """Describe the selected recipe in the detail line."""
        status = self.status_of(self.selected)
        detail = self.query_one(RecipeDetail)
        if status is None:
            detail.update("")
            return
        classification = self.tracker.get(status.name).classification
        run = self.reruns.run_detail(status.name)
        detail.show(status, classification, run, self.session.clock())

    # -- the JUnit pane ---------------------------------------------------------------------

    async def ensure_junit_pane(self) -> JUnitPane:
        """Mount the JUnit pane in the switcher on first use; return it."""
        try:
            return self.query_one("#junit", JUnitPane)
        except NoMatches:
            pane = JUnitPane(self.session, id="junit")
            await self.switcher.mount(pane)
            return pane

    async def ensure_junit_view(self) -> JUnitView:
        """The JUnit drill-down (its pane mounted on first use)."""
        return (await self.ensure_junit_pane()).view

    def junit_shown(self) -> bool:
        """True while the JUnit pane is the visible pane."""
        return self.switcher.current == "junit"

    async def action_toggle_junit(self) -> None:
        """Show the JUnit drill-down for the selected recipe, or go back to the log."""
        if self.junit_shown():
            self.show_log()
            return
        pane = await self.ensure_junit_pane()
        self.switcher.current = "junit"
        pane.view.results_tree.focus()
        self.load_junit()

    def load_junit(self) -> None:
        """Fetch and show the selected recipe's runs in the JUnit pane (when it is mounted)."""
        try:
            pane = self.query_one("#junit", JUnitPane)
        except NoMatches:
            return
        pane.load(self.selected, self.status_of(self.selected))

    def _refresh_junit_if_running(self) -> None:
        """Re-fetch changed stage files while the shown run is in flight."""
        if not self.junit_shown():
            return
        pane = self.query_one("#junit", JUnitPane)
        if pane.recipe is not None:
            pane.load(self.selected, self.status_of(self.selected), only_if_changed=True)

    @on(JUnitPane.LogRequested)
    def _junit_log_requested(self, event: JUnitPane.LogRequested) -> None:
        """Show the log of the case's run at the line where the case ran."""
        event.stop()
        self.follow_log(self.session.runs.log_path(event.recipe))
        self.show_log()
        self._jump(event.test_id, event.stage)

    @work(group="log-jump-wait", exclusive=True, exit_on_error=False)
    async def _jump(self, test_id: str, stage: str) -> None:
        """Wait for the log to load, then go to the test's line, else to its stage banner."""
        view = self.query_one(LogView)
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

    # -- the journal ------------------------------------------------------------------------

    @property
    def journal_editor(self) -> JournalEditor | None:
        """The open editor, if any."""
        from ..widgets.journal_editor import JournalEditor

        try:
            return self.query_one("#journal", JournalEditor)
        except NoMatches:
            return None

    def open_journal(self) -> JournalEditor:
        """Mount the editor beside the log (over it on narrow terminals) and focus it."""
        editor = self.journal_editor
        if editor is None:
            from ..widgets.journal_editor import JournalEditor

            session = self.session
            editor = JournalEditor(
                session.journal_path, phase=session.phase, now=session.clock, id="journal"
            )
            self.query_one("#body").mount(editor)
        self.add_class("-journal-open")
        self._fit()
        editor.focus()
        return editor

    def action_journal(self) -> None:
        """Open the journal editor, or focus it when it is open."""
        self.open_journal()

    def cite_run(self, evidence: Evidence) -> Evidence:
        """``evidence`` with its run: a rerun log's or JUnit file's run id, the rerun's start
        and its archived copy (see :func:`redfix_tui.evidence.in_run`)."""
        from ..evidence import in_run

        paths = self.session.config.paths
        return in_run(
            evidence,
            node=self.session.node.host_label,
            reruns=self.node_status.reruns if self.node_status is not None else [],
            run_id=paths.manual_run_id,
            archive=paths.archive,
        )

    def insert_evidence(self, evidence: Evidence | MarkdownSnippet) -> None:
        """Put ``evidence`` at the cursor of the draft (opening the editor if needed); log and
        JUnit evidence first learn their run (:meth:`cite_run`)."""
        if not isinstance(evidence, MarkdownSnippet):
            evidence = self.cite_run(evidence)
        editor = self.open_journal()
        self.call_after_refresh(editor.insert_evidence, evidence)
        self.notify("evidence added to the journal draft", timeout=2)

    @on(LogView.EvidenceRequested)
    @on(RecipeBoard.EvidenceRequested)
    def _evidence_requested(
        self, event: LogView.EvidenceRequested | RecipeBoard.EvidenceRequested
    ) -> None:
        """Log lines or a recipe's identity → the draft (a mark's note before its line)."""
        event.stop()
        note = getattr(event, "note", "")
        if note:
            cited = self.cite_run(event.evidence).to_markdown()
            self.insert_evidence(MarkdownSnippet(f"Mark: {note}\n\n{cited}"))
        else:
            self.insert_evidence(event.evidence)

    @on(TrackerExported)
    def _tracker_exported(self, event: TrackerExported) -> None:
        """The M1 tracker table → the draft (it was also copied to the clipboard)."""
        self.insert_evidence(MarkdownSnippet(event.markdown))

    # Named (not @on) handlers below: JUnitView and JournalEditor are imported on first use.

    def on_junit_view_evidence_requested(self, event: JUnitView.EvidenceRequested) -> None:
        """A failing case → the draft."""
        event.stop()
        self.insert_evidence(event.evidence)

    def on_journal_entries_panel_open_evidence(
        self, event: JournalEntriesPanel.OpenEvidence
    ) -> None:
        """A journal entry's cited log lines → the log pane, at those lines, selected."""
        event.stop()
        from ..widgets.cited_log import open_citation

        self.session.open_log = event.citation.path  # the board's selection leaves it shown
        self._following = None  # `O` follows the recipe's log again
        self.show_log()
        editor = self.journal_editor
        if editor is not None and not self.query_one("#main").display:
            editor.action_cancel()  # it covers the log at this width (asks first if unsaved)
        pane = self.query_one(LogPane)
        self.run_worker(
            open_citation(pane, self.session.node, event.citation),
            name="open cited lines",
            group="evidence-open",
            exclusive=True,
            exit_on_error=False,
        )

    def on_journal_editor_closed(self, event: JournalEditor.Closed) -> None:
        """Remove the editor and give the keyboard back to the log."""
        self.remove_class("-journal-open")
        self._fit()
        editor = self.journal_editor
        if editor is not None:
            editor.remove()
        self.focus_log()

    def on_journal_editor_saved(self, event: JournalEditor.Saved) -> None:
        """Confirm the save."""
        merged = " (after changes made meanwhile by someone else, kept)" if event.merged else ""
        self.notify(f"saved “{event.entry.title}”{merged}", title="Journal", timeout=4)

    # -- the command palette ----------------------------------------------------------------

    def palette_commands(self) -> Iterator[tuple[str, str, Callable]]:
        """Actions reachable by name from the command palette even when their pane is unfocused:
        the board's actions, and the log's and JUnit's, each from its bindings."""
        yield ("Refresh node state", "ctrl+r", self.action_refresh)
        for board_binding in BOARD_BINDINGS:
            if board_binding.description:
                yield (
                    f"Board: {board_binding.description}",
                    f"key {board_binding.key}",
                    partial(self.run_action, board_binding.action),
                )
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
            junit = await self.ensure_junit_pane()
            owner = junit.view
            focus = owner.results_tree
            if junit.recipe != self.selected:
                self.load_junit()
            self.switcher.current = pane
            focus.focus()
            await self.app.run_action(action, owner)
            return
        view = self.query_one(LogView)
        self.switcher.current = pane
        view.focus()
        await self.app.run_action(action, view)
