"""Bookkeeping of isolation reruns: the run in flight, its end, its outcome and its tracker row.

:class:`RerunBook` is Textual-free; the main screen asks it, after every refresh of the node's
state, what changed (:meth:`RerunBook.observe`), and starts the wrap-up of each run that ended
(:meth:`RerunBook.wrap_up`). A wrap-up runs in its own task, so a refresh that is cancelled half
way cannot cancel it; it is keyed by the run (recipe, start time, pid), so asking twice gives the
same result, and the tracker row says which run it holds, so a run is recorded exactly once, even
by two consoles or after a restart. Finished reruns that the node's state files show but the
tracker does not yet hold (a run that ended while no console was open) are wrapped up too.

Once per read of the recipes the screen also asks the book to bring the tracker up to date
with the run ledger (:meth:`RerunBook.record_ledgers`): the row of each recipe's newest
archived isolation run and the evidence grades, so runs whose state file is gone (another run
of the recipe since, a node that cleared ``/tmp``) are recorded too. A row the ledger filled
(``archive STAMP``) does not count as held: the wrap-up still tells the operator and keys the
row ``archive STAMP pid N``, which the ledger then recognises as the same run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ..config import Config
from ..node import NodeError
from ..node_api import Node
from ..recipes import RecipeStatus
from ..tracker import Tracker, TrackerError, ledger_key
from .ledger import Ledger
from .model import BAD, RunSummary
from .progress import RunOutcome
from .state import NodeStatus, RerunState

MISSES_BEFORE_GONE = 2
"""Refreshes in a row that must find the followed run neither running nor finished before it
counts as ended anyway (its session leader died without writing its exit status)."""


class RunSource(Protocol):
    """What the book needs of :class:`~redfix_tui.runs.control.RunControl`."""

    node: Node
    config: Config

    async def outcome(self, state: RerunState) -> RunOutcome:
        """The verdicts of a finished run."""
        ...

    def run_label(self, state: RerunState) -> str:
        """The tracker's name for the run."""
        ...


def row_key(state: RerunState) -> str:
    """The tracker row key of ``state``'s run once a console wrapped it up: ``archive STAMP
    pid N`` when the wrapper archived it (the ledger's key, ``archive STAMP``, names the same
    run), else the run's own key (``RECIPE STARTED pid N``)."""
    return f"{ledger_key(state.archived)} pid {state.pid}" if state.archived else state.key


TEARDOWN_WORDS = {True: "teardown clean", False: "STACK LEFT ⚑", None: "teardown ?"}
"""How the teardown check's answer reads in a notification."""


@dataclass
class WrapUp:
    """How a finished rerun was wrapped up."""

    state: RerunState
    outcome: RunOutcome
    followed: bool
    """True when this console was following the run as it ended (else: found in the state
    files, e.g. it ended while no console was open)."""
    recorded: bool = False
    """True when this wrap-up wrote the tracker row (False: it was there already)."""
    problems: list[str] = field(default_factory=list)
    """What could not be done or read, one line each (the rest of the outcome still holds)."""

    @property
    def teardown(self) -> str:
        """``teardown clean``, ``STACK LEFT ⚑`` or ``teardown ?``."""
        return TEARDOWN_WORDS[self.outcome.teardown_clean]

    @property
    def severity(self) -> Literal["information", "warning", "error"]:
        """error for a terminated run, warning for a failed stage or a problem, else information."""
        if self.state.terminated:
            return "error"
        failed = any(v in BAD for v in self.outcome.stages.values())
        return "warning" if failed or self.problems else "information"

    def message(self) -> str:
        """The notification's text: how it ended, the stage verdicts, teardown, problems."""
        lines = [
            f"{self.state.recipe}: {self.state.how()}"
            + ("" if self.followed else " (ended while no console followed it)"),
            self.outcome.stage_line() or "no stage verdicts",
            self.teardown,
        ]
        lines.extend(self.problems)
        return "\n".join(lines)


@dataclass
class Observation:
    """What one refresh showed about reruns."""

    attach: RerunState | None = None
    """A rerun in flight that the console did not follow yet (re-attach to it)."""
    ended: list[RerunState] = field(default_factory=list)
    """Finished reruns whose wrap-up has just been started (see :meth:`RerunBook.wrap_up`)."""


class RerunBook:
    """The reruns a console follows and records (see the module)."""

    def __init__(self, runs: Callable[[], RunSource], tracker: Callable[[], Tracker]) -> None:
        """``runs`` and ``tracker`` give the current run control and tracker (both change when
        the console switches node or reloads the tracker)."""
        self._runs = runs
        self._tracker = tracker
        self.following: RerunState | None = None
        """The rerun in flight that this console follows."""
        self.previous: dict[str, RunSummary | None] = {}
        """Recipe → the run before the one in flight (its stage times are the yardstick)."""
        self._misses = 0
        self._tasks: dict[str, asyncio.Task[WrapUp]] = {}
        self._ledger_seen: dict[str, tuple[object, ...]] = {}
        """Recipe → its newest sweep and isolation run when its ledger was last recorded."""
        self._ledger_problem = ""

    # -- following --------------------------------------------------------------------------

    def follow(self, state: RerunState, previous: RunSummary | None = None) -> None:
        """Follow ``state`` (a run just started, or found running); ``previous``: the run
        before it, unless one is known already."""
        self.following = state
        self._misses = 0
        if self.previous.get(state.recipe) is None:
            self.previous[state.recipe] = previous

    def forget(self) -> None:
        """Stop following any run (the console switched node); wrap-ups under way go on."""
        self.following = None
        self._misses = 0
        self._ledger_seen.clear()

    def previous_stage_s(self, recipe: str, stage: str | None) -> int | None:
        """How long ``stage`` took in the run before ``recipe``'s rerun, in seconds."""
        previous = self.previous.get(recipe)
        ms = previous.stage_ms.get(stage or "") if previous else None
        return None if ms is None else round(ms / 1000)

    def observe(self, status: NodeStatus) -> Observation:
        """Take one refresh: re-attach to a run in flight, notice the followed run's end, and
        start the wrap-up of every finished rerun that is not recorded yet."""
        seen = Observation()
        active = status.active_rerun
        following = self.following
        if following is not None and (active is None or active.key != following.key):
            latest = next((s for s in status.reruns if s.key == following.key), None)
            if latest is not None and latest.finished:
                seen.ended.append(latest)
                self.following = None
            elif active is not None:  # another run of ours started: this one is over
                seen.ended.append(latest or following)
                self.following = None
            else:
                self._misses += 1
                if self._misses >= MISSES_BEFORE_GONE:
                    seen.ended.append(latest or following)
                    self.following = None
        if active is not None and (self.following is None or self.following.key != active.key):
            self.follow(active)
            seen.attach = active
        for state in status.reruns:
            listed = any(s.key == state.key for s in seen.ended)
            if state.finished and not listed and not self._held(state):
                seen.ended.append(state)
        followed = {following.key} if following is not None else set()
        seen.ended = [s for s in seen.ended if s.key not in self._tasks]
        for state in seen.ended:
            self._start(state, followed=state.key in followed)
        return seen

    def _held(self, state: RerunState) -> bool:
        """True when the tracker holds ``state`` already (by key, or, for rows written before
        rows had keys, by the same run label)."""
        entry = self._tracker().get(state.recipe)
        if entry.run_key:
            return entry.run_key in (state.key, row_key(state))
        return bool(entry.isolation_run) and entry.isolation_run == self._runs().run_label(state)

    @property
    def busy(self) -> bool:
        """True while a wrap-up is under way."""
        return any(not task.done() for task in self._tasks.values())

    # -- wrapping up ------------------------------------------------------------------------

    def _start(self, state: RerunState, *, followed: bool) -> asyncio.Task[WrapUp]:
        task = self._tasks.get(state.key)
        if task is None:
            task = asyncio.get_running_loop().create_task(
                self._wrap_up(state, followed), name=f"wrap-up {state.recipe}"
            )
            self._tasks[state.key] = task
            task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[WrapUp]) -> None:
        """Forget a wrap-up that could not reach the node, so the next refresh tries again."""
        if not task.cancelled() and isinstance(task.exception(), NodeError):
            for key, known in list(self._tasks.items()):
                if known is task:
                    del self._tasks[key]

    async def wrap_up(self, state: RerunState, *, followed: bool = True) -> WrapUp:
        """Wrap ``state`` up (or wait for the wrap-up already under way) and return how.

        Safe to call twice and to cancel: the work runs in its own task, which a cancelled
        caller does not cancel. Raises :class:`NodeError` when the node could not be reached;
        the run is then left unrecorded and the next refresh tries again.
        """
        return await asyncio.shield(self._start(state, followed=followed))

    async def _wrap_up(self, state: RerunState, followed: bool) -> WrapUp:
        runs = self._runs()
        outcome = await runs.outcome(state)  # only a lost connection raises
        if self.following is None or self.following.recipe != state.recipe:
            self.previous.pop(state.recipe, None)  # the next run's yardstick is this run
        wrap = WrapUp(state, outcome, followed, problems=list(outcome.problems))
        try:
            wrap.recorded = self._tracker().record_run(
                state.recipe,
                row_key(state),
                isolation_run=runs.run_label(state),
                result=outcome.summary(),
                stages=outcome.stage_line(),
            )
        except TrackerError as exc:
            wrap.problems.append(f"tracker row not written: {exc}")
        return wrap

    # -- the run ledger ---------------------------------------------------------------------

    async def record_ledgers(self, statuses: Sequence[RecipeStatus]) -> LedgerRecord:
        """Bring the tracker up to date with the run ledger, after a read of the recipes.

        Only recipes whose newest sweep or isolation run changed since the last call are read
        (all of them on a console's first read), in one remote command; each gets its row
        filled from its newest archived isolation run (once per run) and its grade refreshed
        (:meth:`Tracker.record_ledger`). A failure is said once (``problem``) and the recipes
        are read again on the next call.
        """
        newest = {
            status.name: _signature(status)
            for status in statuses
            if status.sweep is not None or status.isolation is not None
        }
        changed = [name for name, seen in newest.items() if self._ledger_seen.get(name) != seen]
        record = LedgerRecord(recipes=changed)
        if not changed:
            return record
        runs = self._runs()
        try:
            ledgers = await Ledger(runs.node, runs.config).load(changed)
            tracker = self._tracker()
            for name in changed:
                record.changed |= tracker.record_ledger(ledgers[name])
                self._ledger_seen[name] = newest[name]
        except NodeError as exc:
            problem = f"run ledger not read: {exc.message} — tried again on the next refresh"
        except TrackerError as exc:
            problem = f"tracker rows not filled from the run ledger: {exc} — check the file"
        else:
            self._ledger_problem = ""
            return record
        record.problem = "" if problem == self._ledger_problem else problem
        self._ledger_problem = problem
        return record


@dataclass
class LedgerRecord:
    """What :meth:`RerunBook.record_ledgers` did."""

    recipes: list[str] = field(default_factory=list)
    """The recipes whose ledger it read (their newest runs changed)."""
    changed: bool = False
    """True when a tracker row changed (the board shows the rows again)."""
    problem: str = ""
    """A new failure, in one line ("" when none, or when it was said already)."""


def _signature(status: RecipeStatus) -> tuple[object, ...]:
    """A recipe's newest sweep and isolation run (id and finish time): when it changes, the
    ledger holds a new run."""
    return tuple(
        (run.run_id, run.finished) if run is not None else None
        for run in (status.sweep, status.isolation)
    )
