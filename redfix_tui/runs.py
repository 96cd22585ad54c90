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
from .recipes import STAGES, parse_results
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
    start_epoch: int | None = None
    """The node's clock (epoch seconds) when the rerun started."""
    stacks_before: tuple[str, ...] | None = None
    """The docker stacks present when it started (any new one left after it is its own)."""

    @property
    def started_at(self) -> datetime | None:
        """The start time as an aware datetime."""
        try:
            return datetime.fromisoformat(self.started)
        except ValueError:
            return None

    @property
    def finished(self) -> bool:
        """True once the state file holds the exit status."""
        return self.exit_status is not None

    @property
    def terminated(self) -> bool:
        """True when the run was stopped by SIGTERM/SIGKILL (exit 143/137) rather than ending."""
        return self.exit_status in (128 + 15, 128 + 9)

    def how(self) -> str:
        """How the run ended, in words: ``passed (exit 0)``, ``terminated (exit 143)``…"""
        if self.exit_status is None:
            return "running"
        if self.terminated:
            return f"terminated (exit {self.exit_status})"
        return f"{'passed' if self.exit_status == 0 else 'failed'} (exit {self.exit_status})"


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
    alive: set[int] = field(default_factory=set)
    """Session leaders of our unfinished reruns that still exist (before the harness starts,
    the in-flight check cannot see them yet)."""

    @property
    def active_rerun(self) -> RerunState | None:
        """Our rerun that is still running (its session leader is alive or among the
        in-flight process groups)."""
        groups = {p.pgid for p in self.in_flight} | {p.pid for p in self.in_flight} | self.alive
        for state in self.reruns:
            if state.exit_status is None and state.pid in groups:
                return state
        return None

    @property
    def busy(self) -> bool:
        """True while any run is in flight (a harness process or one of our reruns)."""
        return bool(self.in_flight) or self.active_rerun is not None

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
            if key in ("pid", "exit", "start"):
                numbers[key] = int(value)
        return RerunState(
            recipe=validate_recipe(str(data["recipe"])),
            tag=str(data["tag"]),
            pid=numbers["pid"],
            log=str(data["log"]),
            started=str(data["started"]),
            command=str(data.get("command", "")),
            exit_status=numbers.get("exit"),
            start_epoch=numbers.get("start"),
            stacks_before=None
            if not isinstance(data.get("stacks"), list)
            else tuple(str(x) for x in data["stacks"]),
        )
    except (ValueError, KeyError, TypeError, IndexError):
        return None


STAGE_BANNER = re.compile(r"==== stage: ([A-Za-z0-9_-]+) ====")
"""The harness's stage banner (the log line that opens a stage), ANSI removed."""
_SUITE_TAG = re.compile(r"<testsuite\s[^>]*>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def junit_stage(file_name: str) -> str:
    """The stage of a cc-ci JUnit file: ``upgrade__cc-ci__test_upgrade.xml`` → ``upgrade``."""
    return file_name.split("__", 1)[0].removesuffix(".xml")


def verdict_from_suites(tags: list[str]) -> str:
    """A stage verdict from its JUnit ``<testsuite …>`` opening tags (failed/error/passed)."""
    failures = errors = tests = skipped = 0
    for tag in tags:
        attrs = dict(_ATTR.findall(tag))
        try:
            failures += int(attrs.get("failures", 0))
            errors += int(attrs.get("errors", 0))
            tests += int(attrs.get("tests", 0))
            skipped += int(attrs.get("skipped", 0))
        except ValueError:
            return "unknown"
    if not tags:
        return "unknown"
    if failures:
        return "failed"
    if errors:
        return "error"
    return "skipped" if tests and skipped >= tests else "passed"


@dataclass
class RunProgress:
    """Where a rerun in flight is: its stage, how long it has been there, finished stages."""

    stage: str | None = None
    """The stage whose banner was printed last (None before the first banner)."""
    stage_elapsed_s: int = 0
    """Seconds since the stage began (since the previous stage's JUnit file, or the start)."""
    run_elapsed_s: int = 0
    done: dict[str, str] = field(default_factory=dict)
    """Stage → verdict, for stages whose JUnit file this run wrote."""


def parse_progress(output: str, start_epoch: int | None) -> RunProgress:
    """Parse the output of :meth:`RunControl.progress`'s command.

    Lines: ``now <epoch>``, ``banner <stage>``, then per JUnit file ``junit <mtime> <name>``
    followed by its ``<testsuite …>`` tags. Files older than the run's start are ignored (they
    belong to the previous run, not yet cleared).
    """
    now = start = start_epoch or 0
    stage: str | None = None
    junit: dict[str, tuple[int, list[str]]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        key, _, rest = line.partition(" ")
        if key == "now" and rest.strip().isdigit():
            now = int(rest)
        elif key == "banner":
            if match := STAGE_BANNER.search(rest):
                stage = match.group(1)
        elif key == "junit":
            mtime, _, name = rest.partition(" ")
            current = None
            if mtime.isdigit() and (start_epoch is None or int(mtime) >= start_epoch):
                current = []
                junit[junit_stage(name)] = (int(mtime), current)
        elif current is not None and line.startswith("<testsuite"):
            current.append(line)
    progress = RunProgress(stage=stage, run_elapsed_s=max(0, now - start) if start else 0)
    progress.done = {name: verdict_from_suites(tags) for name, (_, tags) in junit.items()}
    began = start
    if stage is not None:
        order = list(STAGES)
        before = order[: order.index(stage)] if stage in order else []
        stamps = [junit[s][0] for s in before if s in junit]
        if stamps:
            began = max(stamps)
        if stage in progress.done:
            progress.stage = None  # its JUnit file is written: between stages
    progress.stage_elapsed_s = max(0, now - began) if began else 0
    return progress


@dataclass
class RunOutcome:
    """How a finished rerun ended: exit status, per-stage verdicts, teardown."""

    state: RerunState
    stages: dict[str, str] = field(default_factory=dict)
    """Stage → verdict, in harness order."""
    source: str = ""
    """``results.json``, ``junit`` or ``""`` (nothing readable)."""
    teardown_clean: bool | None = None

    def stage_line(self) -> str:
        """``install ✔ upgrade ✘ backup ✔ restore ✔ custom ✔`` (stages not run are left out)."""
        return " ".join(f"{name} {VERDICT_MARKS.get(v, '?')}" for name, v in self.stages.items())

    def summary(self) -> str:
        """One line for a notification or the tracker's result."""
        parts = [self.stage_line() or "no stage verdicts"]
        if self.state.terminated:
            parts.append("— terminated")
        elif self.state.exit_status not in (0, None):
            parts.append(f"— exit {self.state.exit_status}")
        return " ".join(parts)


VERDICT_MARKS = {"passed": "✔", "failed": "✘", "error": "!", "skipped": "⊘", "unknown": "?"}
"""Stage verdict marks for text (tracker result, notifications)."""


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
        waiting = [s.pid for s in status.reruns if s.exit_status is None and s.pid > 1]
        if waiting:
            ps = await self.node.run(f"ps -o pid= -p {','.join(str(p) for p in waiting)}")
            status.alive = {int(x) for x in ps.stdout.split() if x.isdigit()}
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
        return self.node_refusal(status, now)

    def node_refusal(self, status: NodeStatus, now: datetime | None = None) -> str | None:
        """Why no rerun may start on the node now (a run in flight, the sweep soon), or None."""
        if status.in_flight:
            first = status.in_flight[0]
            return f"a run is in flight (pid {first.pid}: {first.command[:60]})"
        if (active := status.active_rerun) is not None:
            return f"the rerun of {active.recipe} is in flight (pid {active.pid})"
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
            {
                "recipe": recipe,
                "tag": tag,
                "log": log,
                "started": started,
                "command": command,
                "stacks": status.stacks,
            }
        )
        # The session leader records itself and the node's clock, runs the command with its
        # output in the log, then appends its exit status. setsid gives it its own session and
        # process group ($$). Its TERM trap lets it outlive a cancel of the group just long enough
        # to record the command's status (143), while the command itself gets the signal.
        body = (
            f"trap : TERM; printf '%s\\n' {shlex.quote(record)} \"pid $$\" "
            f'"start $(date +%s)" > {shlex.quote(state_file + ".new")} && '
            f"mv -f {shlex.quote(state_file + '.new')} {shlex.quote(state_file)}; "
            f"( {command} ) > {shlex.quote(log)} 2>&1 < /dev/null; "
            f'echo "exit $?" >> {shlex.quote(state_file)}'
        )
        launcher = (
            f"rm -f {shlex.quote(state_file)}; "
            f"setsid nohup sh -c {shlex.quote(body)} > /dev/null 2>&1 < /dev/null & "
            f"for i in $(seq 1 50); do [ -s {shlex.quote(state_file)} ] && break; "
            f"sleep 0.1; done; cat {shlex.quote(state_file)}"
        )
        result = await self.node.run(launcher, check=True)
        state = parse_state(result.stdout)
        if state is None:
            raise NodeError(f"the rerun did not report its start ({result.stdout[:80]!r})")
        return state

    def run_label(self, state: RerunState) -> str:
        """Which run this was, for the tracker: ``manual 2026-06-18T00:05Z``."""
        when = state.started_at
        stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ") if when else state.started
        return f"{self.config.paths.manual_run_id} {stamp}"

    def _junit_dir(self) -> str:
        paths = self.config.paths
        return f"{paths.runs_root}/{paths.manual_run_id}/{paths.junit_subdir}"

    def _junit_listing(self) -> str:
        """Shell lines printing ``junit <mtime> <name>`` and the suite tags of each JUnit file."""
        return (
            f"cd {shlex.quote(self._junit_dir())} 2>/dev/null && for f in *.xml; do "
            '[ -f "$f" ] || continue; echo "junit $(stat -c %Y "$f") $f"; '
            "head -c 65536 \"$f\" | grep -ao '<testsuite [^>]*>' | head -n 20; done; true"
        )

    async def progress(self, state: RerunState) -> RunProgress:
        """Where ``state``'s run is: the last stage banner in its log, and its JUnit files."""
        command = (
            'echo "now $(date +%s)"; '
            f"grep -aoE {shlex.quote(STAGE_BANNER.pattern)} -- {shlex.quote(state.log)} "
            "2>/dev/null | tail -n 1 | sed 's/^/banner /'; " + self._junit_listing()
        )
        result = await self.node.run(command)
        return parse_progress(result.stdout, state.start_epoch)

    async def outcome(self, state: RerunState) -> RunOutcome:
        """The verdicts of ``state``'s finished run: results.json, else its stage JUnit files."""
        outcome = RunOutcome(state)
        paths = self.config.paths
        results = f"{paths.runs_root}/{paths.manual_run_id}/results.json"
        read, listing = await asyncio.gather(
            self.node.run(f"cat -- {shlex.quote(results)} 2>/dev/null; true"),
            self.node.run(self._junit_listing()),
        )
        summary = None
        try:
            data = json.loads(read.stdout)
            if isinstance(data, dict) and data.get("recipe") == state.recipe:
                summary = parse_results(paths.manual_run_id, results, data)
        except ValueError:
            summary = None
        started = state.started_at
        fresh = summary is not None and (
            summary.finished is None
            or started is None
            or summary.finished >= started - timedelta(minutes=5)
        )
        if summary is not None and fresh and summary.stages:
            outcome.stages = {s: summary.stages[s] for s in STAGES if s in summary.stages}
            outcome.stages.update(summary.stages)
            outcome.source = "results.json"
        else:
            done = parse_progress(listing.stdout, state.start_epoch).done
            if done:
                outcome.stages = {s: done[s] for s in STAGES if s in done}
                outcome.stages.update(done)
                outcome.source = "junit"
        outcome.teardown_clean = await self.teardown_clean(state.recipe, before=state.stacks_before)
        return outcome

    async def cancel(self, state: RerunState) -> None:
        """Stop a rerun: SIGTERM to its whole process group.

        Refused unless a fresh in-flight check still finds the run's process group (so a
        finished run's recycled pid is never signalled).
        """
        pid = int(state.pid)
        if pid <= 1:
            raise RerunRefused(f"refusing to signal process group {pid}")
        active = (await self.status()).active_rerun
        if active is None or active.pid != pid:
            raise RerunRefused(f"the rerun of {state.recipe} (pid {pid}) is no longer running")
        await self.node.run(f"kill -TERM -{pid}", check=True)

    async def teardown_clean(
        self,
        recipe: str,
        status: NodeStatus | None = None,
        before: tuple[str, ...] | None = None,
    ) -> bool:
        """True when no docker stack of ``recipe`` is left.

        A stack counts as the recipe's when it is named after it (``<recipe>_…``) or when it
        appeared since the run started (``before``: the stacks then), since the stack is named
        after the app's domain (``pds_ci_coopcloud_tech`` for bluesky-pds).
        """
        if status is None:
            result = await self.node.run(
                render(self.config.commands.stacks, **self._values()), check=True
            )
            stacks = [line.strip() for line in result.stdout.splitlines() if line.strip()]
        else:
            stacks = status.stacks
        prefix = recipe.replace(".", "_")
        named = any(s == recipe or s.startswith((recipe + "_", prefix + "_")) for s in stacks)
        new = before is not None and bool(set(stacks) - set(before))
        return not (named or new)
