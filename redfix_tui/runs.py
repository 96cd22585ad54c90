"""Isolation reruns and the node's state: what is in flight, disk, the sweep timer.

A rerun starts detached on the node (its own session via ``setsid``, output to the rerun log,
exit status to a file), so closing the console or losing SSH does not stop it. A small state
file beside the log remembers recipe, tag, pid and log, so a new console re-attaches.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .config import Config
from .node import NodeConnection, NodeError
from .shellcmd import fill_path, render, validate_recipe, validate_tag

_PID_LINE = re.compile(r"^\s*(\d+)\s+(.*)$")


class RerunRefused(Exception):
    """A rerun that must not start; the message says why."""


@dataclass(frozen=True)
class Process:
    """A harness process found by the in-flight check."""

    pid: int
    command: str
    pgid: int = 0
    elapsed_s: int = 0


@dataclass(frozen=True)
class RerunState:
    """What the console remembers, on the node, about a rerun it started."""

    recipe: str
    tag: str
    pid: int
    """The detached session's leader: its pid is also its process group id."""
    log: str
    started: str
    command: str
    exit_status: int | None = None

    @property
    def started_at(self) -> datetime | None:
        """The start time as an aware datetime."""
        try:
            return datetime.fromisoformat(self.started)
        except ValueError:
            return None


@dataclass
class NodeStatus:
    """One refresh of the node's state."""

    in_flight: list[Process] = field(default_factory=list)
    reruns: list[RerunState] = field(default_factory=list)
    disk_free: int | None = None
    """Bytes free on the runs filesystem."""
    sweep_next: datetime | None = None
    stacks: list[str] = field(default_factory=list)
    refreshed: datetime | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def active_rerun(self) -> RerunState | None:
        """Our rerun that is still running (its session leader is among the in-flight groups)."""
        groups = {p.pgid for p in self.in_flight} | {p.pid for p in self.in_flight}
        for state in self.reruns:
            if state.exit_status is None and state.pid in groups:
                return state
        return None

    def elapsed(self, now: datetime) -> timedelta | None:
        """How long the run in flight has been going."""
        if not self.in_flight:
            return None
        seconds = max(p.elapsed_s for p in self.in_flight)
        if self.refreshed is not None:
            seconds += int((now - self.refreshed).total_seconds())
        return timedelta(seconds=seconds)


def parse_in_flight(output: str) -> list[Process]:
    """Parse ``pgrep -af`` output (``pid command...`` lines)."""
    processes = []
    for line in output.splitlines():
        if match := _PID_LINE.match(line):
            processes.append(Process(int(match.group(1)), match.group(2).strip()))
    return processes


def parse_disk_free(output: str) -> int | None:
    """Parse ``df -P -B1 PATH``: the Available column of the last line."""
    lines = [line.split() for line in output.strip().splitlines() if line.strip()]
    if len(lines) < 2 or len(lines[-1]) < 4:
        return None
    try:
        return int(lines[-1][3])
    except ValueError:
        return None


def parse_sweep_next(output: str) -> datetime | None:
    """Parse systemd's ``NextElapseUSecRealtime`` (``@epoch`` or a date); None when unset."""
    text = output.strip()
    if text.startswith("@"):
        try:
            return datetime.fromtimestamp(int(text[1:]), UTC)
        except ValueError:
            return None
    for fmt in ("%a %Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S %Z"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    return None


def parse_state(text: str) -> RerunState | None:
    """Parse a rerun state file: a JSON line, then ``pid N`` and, once finished, ``exit N``."""
    lines = text.strip().splitlines()
    if not lines:
        return None
    try:
        data = json.loads(lines[0])
        numbers = {}
        for line in lines[1:]:
            key, _, value = line.partition(" ")
            if key in ("pid", "exit"):
                numbers[key] = int(value)
        return RerunState(
            recipe=validate_recipe(str(data["recipe"])),
            tag=str(data["tag"]),
            pid=numbers["pid"],
            log=str(data["log"]),
            started=str(data["started"]),
            command=str(data.get("command", "")),
            exit_status=numbers.get("exit"),
        )
    except (ValueError, KeyError, TypeError, IndexError):
        return None


class RunControl:
    """Reads the node's state and starts, finds and cancels isolation reruns."""

    def __init__(self, node: NodeConnection, config: Config) -> None:
        self.node = node
        self.config = config

    def _values(self, **extra: str) -> dict[str, str]:
        paths = self.config.paths
        return {
            "harness": paths.harness,
            "runs_root": paths.runs_root,
            "warm_root": paths.warm_root,
            **extra,
        }

    def log_path(self, recipe: str) -> str:
        """The rerun log path for ``recipe``."""
        return fill_path(self.config.paths.rerun_log, recipe=recipe)

    def state_path(self, recipe: str) -> str:
        """The rerun state file for ``recipe``."""
        return fill_path(self.config.paths.rerun_state, recipe=recipe)

    def _state_glob(self) -> str:
        template = self.config.paths.rerun_state
        if "{recipe}" not in template:
            return shlex.quote(template)
        before, after = template.split("{recipe}", 1)
        return f"{shlex.quote(before)}*{shlex.quote(after)}"

    async def status(self, now: datetime | None = None) -> NodeStatus:
        """One refresh: in-flight check, our rerun states, disk, sweep timer, stacks."""
        commands = self.config.commands
        values = self._values()
        status = NodeStatus(refreshed=now or datetime.now(UTC))
        flight, states, disk, sweep, stacks = await asyncio.gather(
            self.node.run(render(commands.in_flight, **values)),
            self.node.run(
                f'for f in {self._state_glob()}; do [ -f "$f" ] && '
                f"{{ cat \"$f\"; echo; echo '\x1e'; }}; done; true"
            ),
            self.node.run(render(commands.disk_free, **values)),
            self.node.run(render(commands.sweep_next, **values)),
            self.node.run(render(commands.stacks, **values)),
        )
        status.in_flight = parse_in_flight(flight.stdout)
        if status.in_flight:
            pids = ",".join(str(p.pid) for p in status.in_flight)
            ps = await self.node.run(f"ps -o pid=,pgid=,etimes= -p {pids}")
            details = {
                int(f[0]): (int(f[1]), int(f[2]))
                for f in (line.split() for line in ps.stdout.splitlines())
                if len(f) == 3 and all(part.isdigit() for part in f)
            }
            status.in_flight = [
                Process(p.pid, p.command, *details.get(p.pid, (0, 0))) for p in status.in_flight
            ]
        status.reruns = [
            s
            for s in (parse_state(chunk) for chunk in states.stdout.split("\x1e"))
            if s is not None
        ]
        status.disk_free = parse_disk_free(disk.stdout)
        status.sweep_next = parse_sweep_next(sweep.stdout) if sweep.ok else None
        if not sweep.ok:
            status.problems.append(f"sweep timer: {sweep.stderr.strip() or 'unknown'}")
        status.stacks = [line.strip() for line in stacks.stdout.splitlines() if line.strip()]
        return status

    def build_command(self, recipe: str, tag: str) -> str:
        """The exact command a rerun runs: the checkout of ``tag``, then the harness."""
        validate_recipe(recipe)
        validate_tag(tag)
        commands = self.config.commands
        values = self._values(recipe=recipe, tag=tag, log=self.log_path(recipe))
        parts = [render(t, **values) for t in (commands.checkout, commands.rerun) if t.strip()]
        return " && ".join(
            f"{{ {part}; }}" if "&&" in part or "|" in part else part for part in parts
        )

    def refusal(
        self, status: NodeStatus, recipe: str, tag: str, now: datetime | None = None
    ) -> str | None:
        """Why a rerun of ``recipe`` at ``tag`` must not start now, or None."""
        try:
            validate_recipe(recipe)
            validate_tag(tag)
        except ValueError as exc:
            return str(exc)
        if status.in_flight:
            first = status.in_flight[0]
            return f"a run is in flight (pid {first.pid}: {first.command[:60]})"
        now = now or datetime.now(UTC)
        window = timedelta(minutes=self.config.board.sweep_guard_minutes)
        if status.sweep_next is not None and now <= status.sweep_next <= now + window:
            minutes = int((status.sweep_next - now).total_seconds() // 60)
            return (
                f"the sweep timer fires in {minutes} min (guard window "
                f"{self.config.board.sweep_guard_minutes:g} min)"
            )
        return None

    async def start(self, recipe: str, tag: str, now: datetime | None = None) -> RerunState:
        """Start a guarded rerun detached on the node; raise :class:`RerunRefused`."""
        status = await self.status(now)
        if reason := self.refusal(status, recipe, tag, now):
            raise RerunRefused(reason)
        command = self.build_command(recipe, tag)
        log, state_file = self.log_path(recipe), self.state_path(recipe)
        started = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        record = json.dumps(
            {"recipe": recipe, "tag": tag, "log": log, "started": started, "command": command}
        )
        # The session leader records itself, runs the command with its output in the log, then
        # appends its exit status. setsid gives it its own session and process group ($$).
        body = (
            f"printf '%s\\n' {shlex.quote(record)} \"pid $$\" > {shlex.quote(state_file)}; "
            f"( {command} ) > {shlex.quote(log)} 2>&1 < /dev/null; "
            f'echo "exit $?" >> {shlex.quote(state_file)}'
        )
        launcher = (
            f"rm -f {shlex.quote(state_file)}; "
            f"setsid nohup sh -c {shlex.quote(body)} > /dev/null 2>&1 < /dev/null & "
            f"for i in 1 2 3 4 5 6 7 8 9 10; do [ -s {shlex.quote(state_file)} ] && break; "
            f"sleep 0.1; done; cat {shlex.quote(state_file)}"
        )
        result = await self.node.run(launcher, check=True)
        state = parse_state(result.stdout)
        if state is None:
            raise NodeError(f"the rerun did not report its start ({result.stdout[:80]!r})")
        return state

    async def cancel(self, state: RerunState) -> None:
        """Stop a rerun: SIGTERM to its whole process group."""
        pid = int(state.pid)
        if pid <= 1:
            raise RerunRefused(f"refusing to signal process group {pid}")
        await self.node.run(f"kill -TERM -- -{pid}", check=True)

    async def teardown_clean(self, recipe: str, status: NodeStatus | None = None) -> bool:
        """True when no docker stack of ``recipe`` is left."""
        if status is None:
            result = await self.node.run(render(self.config.commands.stacks, **self._values()))
            stacks = [line.strip() for line in result.stdout.splitlines()]
        else:
            stacks = status.stacks
        prefix = recipe.replace(".", "_")
        return not any(s == recipe or s.startswith((recipe + "_", prefix + "_")) for s in stacks)
