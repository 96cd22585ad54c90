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
from datetime import UTC, datetime, timedelta

from ..board_read import Request, board_reader
from ..config import Config
from ..node import CommandResult, NodeError
from ..node_api import Node
from ..shellcmd import fill_path, render, validate_recipe, validate_tag
from .ledger import archive_base, shell_dir
from .model import STAGES
from .progress import STAGE_BANNER, RunOutcome, RunProgress, parse_progress
from .results import read_results
from .state import (
    NodeStatus,
    Process,
    RerunRefused,
    RerunState,
    parse_disk_free,
    parse_in_flight,
    parse_state,
    parse_sweep_next,
)


class RunControl:
    """Reads the node's state and starts, finds and cancels isolation reruns."""

    def __init__(self, node: Node, config: Config) -> None:
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
        reply = await board_reader(self.node).read(
            Request(
                sections={
                    "flight": render(commands.in_flight, **values),
                    "states": (
                        f'for f in {self._state_glob()}; do [ -f "$f" ] && '
                        f"{{ cat \"$f\"; echo; echo '\x1e'; }}; done; true"
                    ),
                    "disk": render(commands.disk_free, **values),
                    "sweep": render(commands.sweep_next, **values),
                    "stacks": render(commands.stacks, **values),
                },
                after={"ps": "ps -e -o pid=,pgid=,etimes="},
                after_if={"ps": ("flight", "states")},
            )
        )
        parts = {key: section.result() for key, section in reply.sections.items()}
        flight, states, disk, sweep, stacks = (
            parts[key] for key in ("flight", "states", "disk", "sweep", "stacks")
        )
        table = _process_table(parts["ps"].stdout)
        status.in_flight = [
            Process(p.pid, p.command, *table.get(p.pid, (0, 0)))
            for p in parse_in_flight(flight.stdout)
        ]
        status.reruns = [
            s
            for s in (parse_state(chunk) for chunk in states.stdout.split("\x1e"))
            if s is not None
        ]
        waiting = {s.pid for s in status.reruns if s.exit_status is None and s.pid > 1}
        if waiting:
            status.alive = waiting & set(table)
        status.disk_free = parse_disk_free(disk.stdout)
        status.sweep_next = parse_sweep_next(sweep.stdout) if sweep.ok else None
        if not sweep.ok:
            status.problems.append(f"sweep timer: {sweep.stderr.strip() or 'unknown'}")
        if stacks.ok:
            status.stacks = _lines(stacks.stdout)
        else:
            status.stacks_error = command_problem(stacks)
            status.problems.append(f"teardown check: {status.stacks_error}")
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
        started = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        stacks = status.stacks if status.stacks_error is None else None
        body = self.wrapper_body(recipe, tag, started, stacks)
        state_file = self.state_path(recipe)
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

    def wrapper_body(
        self,
        recipe: str,
        tag: str,
        started: str | None,
        stacks: list[str] | None,
        queue_id: str = "",
    ) -> str:
        """The detached wrapper's shell body for a rerun of ``recipe`` at ``tag``.

        ``started`` None means: the node's clock when the body starts (a queued run); a
        ``queue_id`` is kept in the state file's record so a follower finds this very run.
        """
        command = self.build_command(recipe, tag)
        log, state_file = self.log_path(recipe), self.state_path(recipe)
        mark = "\x00started\x00"
        fields = {"recipe": recipe, "tag": tag, "log": log, "started": mark, "command": command}
        record = json.dumps(
            {**fields, "stacks": stacks, **({"queue": queue_id} if queue_id else {})}
        )
        before, after = record.split(json.dumps(mark), 1)
        when = (
            shlex.quote(started) if started is not None else "$(date -u +%Y-%m-%dT%H:%M:%S+00:00)"
        )
        # The session leader records itself and the node's clock, runs the command with its
        # output in the log, then appends its exit status. setsid gives it its own session and
        # process group ($$). Its TERM trap lets it outlive a cancel of the group just long enough
        # to record the command's status (143), while the command itself gets the signal.
        # When the command has ended, the wrapper archives the run (see archive_script) before
        # it records the exit status, so the ledger holds the run once the state says it ended.
        return (
            f"trap : TERM; s=$(date +%s); st={when}; "
            f'printf \'%s"%s"%s\\n%s\\n%s\\n\' {shlex.quote(before)} "$st" {shlex.quote(after)} '
            f'"pid $$" "start $s" > {shlex.quote(state_file + ".new")} && '
            f"mv -f {shlex.quote(state_file + '.new')} {shlex.quote(state_file)}; "
            f"( {command} ) > {shlex.quote(log)} 2>&1 < /dev/null; "
            f"rc=$?; e=$(date +%s); {self.archive_script(recipe, tag, '$st')}; "
            f'printf \'exit %s\\nend %s\\n\' "$rc" "$e" >> {shlex.quote(state_file)}'
        )

    def archive_script(self, recipe: str, tag: str, started: str) -> str:
        """Shell lines archiving a finished run (``$s`` start, ``$e`` end, ``$rc`` status;
        ``started``: a shell variable such as ``$st``, the ISO start time).

        Into ``<archive>/<recipe>/<UTC start>/``: the manual run directory's results.json and
        JUnit files written since the start, the log, the canonical.json of the time and
        ``run.json`` (recipe, tag, start, end, exit status, user); then only the newest
        ``[board] keep_runs`` runs of the recipe are kept. Appends ``archive DIR`` to the state
        file, or ``archive-failed STEP DIR`` naming the step that failed.
        """
        validate_recipe(recipe)
        validate_tag(tag)
        paths = self.config.paths
        manual = f"{paths.runs_root}/{paths.manual_run_id}"
        home = f"{shell_dir(archive_base(self.config))}/{shlex.quote(recipe)}"
        canon = f"{paths.warm_root}/{recipe}/canonical.json"
        m, j = shlex.quote(manual), shlex.quote(f"{manual}/{paths.junit_subdir}")
        run_json = (
            '{"recipe": "%s", "tag": "%s", "started": "%s", "start": %s, "end": %s, '
            '"exit_status": %s, "user": "%s", "run_id": "%s"}\\n'
        )
        state = shlex.quote(self.state_path(recipe))
        keep = int(self.config.board.keep_runs)
        return (
            f'a={home}/$(date -u -d "@$s" +%Y%m%dT%H%M%SZ); f=""; '
            'mkdir -p "$a/junit" || f=mkdir; '
            'if [ -z "$f" ]; then '
            f'if [ -f {m}/results.json ] && [ $(stat -c %Y {m}/results.json) -ge "$s" ]; '
            f'then cp {m}/results.json "$a/" || f=results.json; fi; '
            f'for x in {j}/*.xml; do [ -f "$x" ] && [ $(stat -c %Y "$x") -ge "$s" ] && '
            '{ cp "$x" "$a/junit/" || f=junit; }; done; '
            f"[ -f {shlex.quote(self.log_path(recipe))} ] && "
            f'{{ cp {shlex.quote(self.log_path(recipe))} "$a/log" || f=log; }}; '
            f'[ -f {shlex.quote(canon)} ] && {{ cp {shlex.quote(canon)} "$a/canonical.json" '
            "|| f=canonical.json; }; "
            "u=$(printf %s \"${USER:-$(id -un 2>/dev/null)}\" | tr -cd 'A-Za-z0-9._-'); "
            f"printf {shlex.quote(run_json)} {shlex.quote(recipe)} {shlex.quote(tag)} "
            f'"{started}" "$s" "$e" "$rc" "$u" {shlex.quote(paths.manual_run_id)} '
            '> "$a/run.json.new" && mv -f "$a/run.json.new" "$a/run.json" || f=run.json; fi; '
            'if [ -z "$f" ]; then '
            f"( cd {home} && ls -1 | grep -E '^[0-9]{{8}}T[0-9]{{6}}Z$' | sort -r | "
            f'tail -n +{keep + 1} | while read -r d; do rm -rf -- "$d"; done ); '
            f"printf 'archive %s\\n' \"$a\" >> {state}; "
            f'else printf \'archive-failed %s %s\\n\' "$f" "$a" >> {state}; fi'
        )

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
        """The verdicts of ``state``'s finished run: results.json, else its stage JUnit files.

        Each part degrades alone: an unreadable results.json falls back to the JUnit files, a
        failed teardown check leaves ``teardown_clean`` None; ``problems`` says what failed.
        Only a lost connection raises (:class:`NodeError`), so the caller can try again later.
        """
        outcome = RunOutcome(state)
        paths = self.config.paths
        results = f"{paths.runs_root}/{paths.manual_run_id}/results.json"
        read, listing, stacks = await asyncio.gather(
            self.node.run(f"cat -- {shlex.quote(results)}"),
            self.node.run(self._junit_listing()),
            self.node.run(render(self.config.commands.stacks, **self._values())),
        )
        summary = None
        if read.ok:
            summary, problem = read_results(paths.manual_run_id, results, read.stdout, results)
            if summary is not None and summary.recipe != state.recipe:
                summary, problem = None, ""  # another recipe's run: not this one's problem
            if problem:
                outcome.problems.append(problem + ("; verdicts from JUnit" if not summary else ""))
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
            done = parse_progress(listing.stdout, state.start_epoch, state.end_epoch).done
            if done:
                outcome.stages = {s: done[s] for s in STAGES if s in done}
                outcome.stages.update(done)
                outcome.source = "junit"
        if stacks.ok:
            outcome.teardown_clean = stacks_clean(
                state.recipe, _lines(stacks.stdout), state.stacks_before
            )
        else:
            outcome.problems.append(f"teardown check: {command_problem(stacks)}")
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
        """True when no docker stack of ``recipe`` is left (see :func:`stacks_clean`).

        Raises :class:`NodeError` when the teardown check itself fails.
        """
        if status is None:
            result = await self.node.run(
                render(self.config.commands.stacks, **self._values()), check=True
            )
            stacks = _lines(result.stdout)
        else:
            stacks = status.stacks
        return stacks_clean(recipe, stacks, before)


_NOT_FOUND = re.compile(r"([^\s:'\"]+)'?: (?:command )?not found|'([^']+)': No such file")


def _process_table(text: str) -> dict[int, tuple[int, int]]:
    """``ps -o pid=,pgid=,etimes=`` lines as ``{pid: (pgid, seconds running)}``."""
    return {
        int(f[0]): (int(f[1]), int(f[2]))
        for f in (line.split() for line in text.splitlines())
        if len(f) == 3 and all(part.isdigit() for part in f)
    }


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def stacks_clean(recipe: str, stacks: list[str], before: tuple[str, ...] | None) -> bool:
    """True when none of ``stacks`` is ``recipe``'s.

    A stack counts as the recipe's when it is named after it (``<recipe>_…``) or when it
    appeared since the run started (``before``: the stacks then), since the stack is named
    after the app's domain (``pds_ci_coopcloud_tech`` for bluesky-pds).
    """
    prefix = recipe.replace(".", "_")
    named = any(s == recipe or s.startswith((recipe + "_", prefix + "_")) for s in stacks)
    new = before is not None and bool(set(stacks) - set(before))
    return not (named or new)


def command_problem(result: CommandResult) -> str:
    """One short line for a failed node command: ``docker not found``, or its first stderr line."""
    if result.exit_status == 127:
        match = _NOT_FOUND.search(result.stderr)
        words = result.command.split()
        tool = (match.group(1) or match.group(2)) if match else (words[0] if words else "command")
        return f"{tool.strip(chr(39) + chr(34)).rsplit('/', 1)[-1]} not found"
    first = (result.stderr.strip().splitlines() or [f"exit status {result.exit_status}"])[0]
    return first[:120]
