"""The node's state as the console sees it: what is in flight, our reruns, disk, the sweep timer.

Plain data and the parsers of the node's command output (``pgrep -af``, ``df``, systemd's next
elapse time, the rerun state files); :class:`~redfix_tui.runs.control.RunControl` runs the commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..node_json import load_object
from ..shellcmd import validate_recipe

_PID_LINE = re.compile(r"^\s*(\d+)\s+(.*)$")
STATE_MAX = 1024 * 1024
"""A rerun state file's JSON line longer than this is not read."""
ARCHIVE_STAMP = re.compile(r"[0-9]{8}T[0-9]{6}Z")
"""An archived run's directory name: its UTC start (``date -u +%Y%m%dT%H%M%SZ``)."""


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
    end_epoch: int | None = None
    """The node's clock when it ended (state files written before this field lack it)."""
    archived: str = ""
    """The UTC start stamp (``20260618T000512Z``) of the archive directory the wrapper copied
    the run into, from its ``archive DIR`` line ("" before it ended, or when archiving failed):
    the run's id in the run ledger."""

    @property
    def key(self) -> str:
        """What identifies this run among all reruns: recipe, start time and pid."""
        return f"{self.recipe} {self.started} pid {self.pid}"

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
    stacks_error: str | None = None
    """Why the teardown check (``docker stack ls``) failed, e.g. ``docker not found``."""
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
    archived = ""
    try:
        data, _notes = load_object(lines[0], "rerun state", limit=STATE_MAX)
        numbers = {}
        for line in lines[1:]:
            key, _, value = line.partition(" ")
            if key in ("pid", "exit", "start", "end") and len(value) <= 20:
                numbers[key] = int(value)
            elif key == "archive" and ARCHIVE_STAMP.fullmatch(stamp := value.rpartition("/")[2]):
                archived = stamp
        texts = {
            key: found
            for key in ("recipe", "tag", "log", "started", "command")
            if isinstance(found := data.get(key), str)
        }
        if not all(k in texts for k in ("recipe", "tag", "log", "started")):
            return None
        stacks = data.get("stacks")
        return RerunState(
            recipe=validate_recipe(texts["recipe"]),
            tag=texts["tag"],
            pid=numbers["pid"],
            log=texts["log"],
            started=texts["started"],
            command=texts.get("command", ""),
            exit_status=numbers.get("exit"),
            start_epoch=numbers.get("start"),
            end_epoch=numbers.get("end"),
            archived=archived,
            stacks_before=tuple(x for x in stacks if isinstance(x, str))
            if isinstance(stacks, list)
            else None,
        )
    except (ValueError, KeyError):  # NodeJSONError and UnsafeValue are ValueErrors
        return None
