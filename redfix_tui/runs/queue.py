"""The rerun queue on the node: several reruns, one after another, with no console needed.

The queue is a directory beside the rerun state files (``<dir of rerun_state>/redfix-queue/``)
holding one script per queued run, named ``<20-digit sequence>-<recipe>.sh`` (the detached
wrapper body of :meth:`RunControl.wrapper_body`). A detached runner (``setsid nohup``) holds a
``flock`` on ``.lock`` while it works: it waits while a harness run is in flight or the sweep
timer fires within ``[board] sweep_guard_minutes``, moves the
oldest script to ``running.sh`` and runs it in its own session (``setsid -w``), until none is
left; then it releases the lock and looks once more (an item queued while it held the lock is
not stranded). Removing a queued run deletes its script only; ``running.sh`` is never touched.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
import shlex
import time
from dataclasses import dataclass
from datetime import datetime

from ..config import Config
from ..node_api import Node
from ..shellcmd import render, validate_recipe, validate_tag
from .control import RunControl
from .state import RerunRefused, RerunState, parse_state

ITEM_RE = re.compile(r"^([0-9]{20})-([a-z0-9][a-z0-9._-]{0,62})\.sh$")
"""A queued run's script name: its sequence number and recipe."""


@dataclass(frozen=True)
class QueuedRun:
    """A run waiting in the queue (or running: ``running`` True)."""

    queue_id: str
    recipe: str
    tag: str
    running: bool = False


class RerunQueue:
    """Queues reruns on the node, lists and removes queued ones, finds their states."""

    def __init__(self, node: Node, config: Config, runs: RunControl | None = None):
        self.node = node
        self.config = config
        self.runs = runs or RunControl(node, config)
        self.archive_problems: dict[str, str] = {}
        """Recipe → why its last run was not archived (see :meth:`states`)."""

    @property
    def directory(self) -> str:
        """The queue directory on the node."""
        state_dir = posixpath.dirname(self.config.paths.rerun_state) or "."
        return f"{state_dir}/redfix-queue"

    def _runner(self) -> str:
        """The detached runner's shell body (see the module doc)."""
        q = shlex.quote(self.directory)
        values = {
            "harness": self.config.paths.harness,
            "runs_root": self.config.paths.runs_root,
            "warm_root": self.config.paths.warm_root,
        }
        busy = render(self.config.commands.in_flight, **values)
        sweep = render(self.config.commands.sweep_next, **values)
        window = int(self.config.board.sweep_guard_minutes * 60)
        # The board's guards again before each run: nothing in flight, the sweep timer not
        # within its window (an unreadable timer does not hold the queue, as on the board).
        soon = (
            f"{{ x=$( {sweep} 2>/dev/null ); case $x in '' ) w='' ;; @*) w=${{x#@}} ;; "
            '*) w=$(date -d "$x" +%s 2>/dev/null) ;; esac; t=$(date +%s); '
            'case $w in ""|*[!0-9]*) false ;; '
            f'*) [ "$w" -ge "$t" ] && [ "$w" -le $((t + {window})) ] ;; esac; }}'
        )
        pattern = shlex.quote("^[0-9]{20}-[a-z0-9][a-z0-9._-]*\\.sh$")
        first = f"ls -1 {q} 2>/dev/null | grep -E {pattern} | sort | head -n 1"
        return (
            f"cd {q} || exit 1; while :; do exec 9>>.lock; flock -n 9 || exit 0; "
            f'while n=$({first}); [ -n "$n" ]; do '
            f"while {busy} > /dev/null 2>&1 || {soon}; do sleep 1; done; "
            'mv -f -- "$n" running.sh 2>/dev/null || continue; '
            "setsid -w sh running.sh > /dev/null 2>&1 < /dev/null; rm -f running.sh; done; "
            f'flock -u 9; exec 9>&-; [ -n "$({first})" ] || exit 0; done'
        )

    async def enqueue(
        self, items: list[tuple[str, str]], now: datetime | None = None
    ) -> list[QueuedRun]:
        """Queue ``(recipe, tag)`` runs in order and make sure a runner works on them.

        The board's guards, once for the batch: every recipe and tag valid, the sweep timer
        outside its window, and no harness run in flight other than one of our reruns (those
        are waited for). Raises :class:`RerunRefused` saying why.
        """
        for recipe, tag in items:
            validate_recipe(recipe)
            validate_tag(tag)
        status = await self.runs.status(now)
        if status.active_rerun is not None:
            # Behind one of our own reruns the queue waits; the sweep window still applies.
            status = dataclasses.replace(status, in_flight=[], reruns=[])
        if reason := self.runs.node_refusal(status, now):
            raise RerunRefused(reason)
        q = shlex.quote(self.directory)
        queued: list[QueuedRun] = []
        lines = [
            "for t in flock setsid nohup; do command -v $t > /dev/null || "
            '{ echo "$t not found on the node (the rerun queue needs flock, setsid, nohup)" >&2; '
            "exit 127; }; done",
            f"mkdir -p {q} && cd {q}",
        ]
        base = time.time_ns()
        for number, (recipe, tag) in enumerate(items):
            queue_id = f"{base + number:020d}"
            body = self.runs.wrapper_body(recipe, tag, None, None, queue_id)
            script = f"# redfix-queue {recipe} {tag} {queue_id}\n{body}\n"
            name = f"{queue_id}-{recipe}.sh"
            lines.append(
                f"printf '%s' {shlex.quote(script)} > .{name}.new && mv -f .{name}.new {name}"
            )
            queued.append(QueuedRun(queue_id, recipe, tag))
        lines.append(
            f"setsid nohup sh -c {shlex.quote(self._runner())} > /dev/null 2>&1 < /dev/null &"
        )
        await self.node.run(f"{{ {' && '.join(lines[:-1])}; }} || exit $?; {lines[-1]}", check=True)
        return queued

    async def kick(self) -> None:
        """Start a runner if none works on the queue (one that finds the lock held exits)."""
        await self.node.run(
            f"[ -d {shlex.quote(self.directory)} ] || exit 0; "
            f"setsid nohup sh -c {shlex.quote(self._runner())} > /dev/null 2>&1 < /dev/null &",
            check=True,
        )

    async def items(self) -> list[QueuedRun]:
        """The queue: the running script (if any) first, then the waiting ones in order."""
        q = shlex.quote(self.directory)
        result = await self.node.run(
            f"cd {q} 2>/dev/null || exit 0; for f in running.sh [0-9]*.sh; do "
            '[ -f "$f" ] && printf \'%s %s\\n\' "$f" "$(head -n 1 "$f")"; done; true'
        )
        found: list[QueuedRun] = []
        for line in result.stdout.splitlines():
            name, _, head = line.partition(" ")
            words = head.split()
            if len(words) != 5 or words[:2] != ["#", "redfix-queue"]:
                continue
            if name == "running.sh":
                found.insert(0, QueuedRun(words[4], words[2], words[3], running=True))
            elif (match := ITEM_RE.fullmatch(name)) and match.group(1) == words[4]:
                found.append(QueuedRun(words[4], words[2], words[3]))
        return found

    async def remove(self, recipe: str) -> int:
        """Remove ``recipe``'s queued runs (never the one running); return how many."""
        validate_recipe(recipe)
        q = shlex.quote(self.directory)
        digits = "[0-9]" * 20
        result = await self.node.run(
            f"cd {q} 2>/dev/null || exit 0; for f in {digits}-{shlex.quote(recipe)}.sh; do "
            '[ -f "$f" ] && rm -f -- "$f" && echo removed; done; true',
            check=True,
        )
        return result.stdout.split().count("removed")

    async def states(self, recipes: list[str]) -> dict[str, tuple[str, RerunState]]:
        """Each recipe's rerun state and the queue id it was started from ("" if none).

        :attr:`archive_problems` then holds, by recipe, the wrapper's ``archive-failed`` line
        (the step that failed and the directory), if any."""
        files = " ".join(shlex.quote(self.runs.state_path(r)) for r in recipes)
        result = await self.node.run(
            f"for f in {files}; do cat \"$f\" 2>/dev/null; printf '\\036\\n'; done; true"
        )
        found: dict[str, tuple[str, RerunState]] = {}
        for recipe, chunk in zip(recipes, result.stdout.split("\x1e\n"), strict=False):
            state = parse_state(chunk)
            if state is None or state.recipe != recipe:
                continue
            failed = [line for line in chunk.splitlines() if line.startswith("archive-failed ")]
            if failed:
                step, _, where = failed[-1].removeprefix("archive-failed ").partition(" ")
                self.archive_problems[recipe] = f"archiving failed at {step} ({where})"
            else:
                self.archive_problems.pop(recipe, None)
            try:
                queue_id = json.loads(chunk.strip().splitlines()[0]).get("queue", "")
            except (ValueError, AttributeError, IndexError):
                queue_id = ""
            found[recipe] = (queue_id if isinstance(queue_id, str) else "", state)
        return found
