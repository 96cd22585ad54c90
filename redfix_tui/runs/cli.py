"""``redfix-tui runs`` and ``redfix-tui rerun``: the run ledger and queued reruns from the shell.

``runs RECIPE [--json]`` prints a recipe's ledger (0; 2 on a usage or node error).
``rerun RECIPE... [--tag T] [--wait]`` queues reruns on the node (see :mod:`.queue`);
with ``--wait`` it follows them to the end, printing stage progress: 0 when every run passed,
1 when any failed (or was removed from the queue), 2 on a usage or node error.
``rerun --cancel RECIPE...`` removes queued runs, never the one in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from ..config import Config
from ..node import NodeError
from ..recipes import RecipeSource
from ..shellcmd import UnsafeValue, validate_recipe
from .ledger import Ledger, RecipeLedger
from .model import GOOD, STAGES, RunSummary
from .progress import VERDICT_MARKS
from .queue import QueuedRun, RerunQueue
from .state import RerunRefused, RerunState


class CliError(Exception):
    """A usage or node problem, printed as one line; exit status 2."""


def open_node(config: Config, host: str | None, local: bool, node_name: str | None) -> Any:
    """The node to talk to: SSH (``[node]``, ``--node``, ``--host``) or this machine."""
    settings = config.node_config(node_name) if node_name else config.node
    from ..local_node import LocalNode, is_local

    if local or is_local(host or settings.host):
        return LocalNode(settings, label=node_name)
    from ..node import NodeConnection

    return NodeConnection(settings, host_override=host, label=node_name)


def _when(run_finished: Any) -> str:
    return run_finished.strftime("%Y-%m-%d %H:%MZ") if run_finished is not None else "?"


def ledger_text(ledger: RecipeLedger) -> str:
    """The ledger as the operator reads it: runs newest first, then the graded verdicts."""
    stages = [s for s in STAGES if any(s in r.stages for r in ledger.runs)]
    stages += sorted({s for r in ledger.runs for s in r.stages} - set(stages))
    lines = [f"{ledger.recipe}: {len(ledger.runs)} runs, newest first"]
    header = " ".join(s[:1] for s in stages)
    lines.append(f"{'WHEN':17}  {'KIND':9}  {'RUN':40}  {'TAG':22}  {header:{len(header)}}  EXIT")
    for run in ledger.runs:
        marks = " ".join(VERDICT_MARKS.get(run.stages.get(s, ""), "·") for s in stages)
        exit_text = "—" if run.exit_status is None else str(run.exit_status)
        lines.append(
            f"{_when(run.finished):17}  {run.kind:9}  {run.run_id[:40]:40}  "
            f"{(run.tag or '?')[:22]:22}  {marks}  {exit_text}"
        )
    verdicts = ledger.verdicts
    if verdicts:
        lines.append("verdicts:")
        for stage, grade in verdicts.items():
            attempts = ", ".join(
                f"{run.kind} {_when(run.finished)} {VERDICT_MARKS.get(v, '?')}"
                for run, v in grade.attempts
            )
            lines.append(f"  {stage:8} {grade.text}: {attempts}")
    since = ledger.failing_since
    lines.append(since.text if since is not None else "not failing (the newest run is green)")
    lines += [f"problem: {p}" for p in ledger.problems]
    return "\n".join(lines)


async def _runs(config: Config, node: Any, recipe: str, as_json: bool) -> str:
    try:
        ledger = await Ledger(node, config).recipe(recipe)
    finally:
        await node.close()
    if as_json:
        for problem in ledger.problems:
            print(f"redfix-tui runs: problem: {problem}", file=sys.stderr)
        return json.dumps(ledger.to_json(), indent=1)
    return ledger_text(ledger)


def runs_main(
    argv: list[str],
    config: Config,
    *,
    host: str | None = None,
    local: bool = False,
    node_name: str | None = None,
) -> int:
    """``runs RECIPE [--json]``: print the ledger; 0, or 2 on a usage or node error."""
    parser = argparse.ArgumentParser(prog="redfix-tui runs", description="a recipe's run ledger")
    parser.add_argument("recipe")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    try:
        validate_recipe(args.recipe)
        node = open_node(config, host, local, node_name)
        print(asyncio.run(_runs(config, node, args.recipe, args.json)))
        return 0
    except (UnsafeValue, NodeError, CliError) as exc:
        print(f"redfix-tui runs: {exc}", file=sys.stderr)
        return 2


POLL_SECONDS = 1.0
"""How often ``rerun --wait`` looks at the node."""


def _passed(run: RunSummary | None, state: RerunState) -> bool:
    verdicts = set(run.stages.values()) if run is not None else set()
    return state.exit_status == 0 and bool(verdicts) and verdicts <= GOOD


async def _follow(config: Config, node: Any, queued: list[QueuedRun], poll: float) -> int:
    """Follow ``queued`` runs to their end, printing progress; 0 all passed, 1 any not."""
    queue = RerunQueue(node, config)
    runs = queue.runs
    recipes = sorted({item.recipe for item in queued})
    pending = list(queued)
    shown: set[tuple[str, str, str]] = set()
    failed = False
    polls = 0
    while pending:
        item = pending[0]
        found = (await queue.states(recipes)).get(item.recipe)
        if found is None or found[0] != item.queue_id:
            polls += 1
            if polls % 10 == 0:
                await queue.kick()  # a runner that died (node reboot, OOM) is replaced
            waiting = await queue.items()
            if not any(q.queue_id == item.queue_id for q in waiting):
                again = (await queue.states(recipes)).get(item.recipe)
                if again is None or again[0] != item.queue_id:
                    print(f"{item.recipe}: removed from the queue before it started")
                    failed = True
                    pending.pop(0)
                    continue
            await asyncio.sleep(poll)
            continue
        state = found[1]
        progress = await runs.progress(state)
        if progress.stage and (item.queue_id, progress.stage, "") not in shown:
            shown.add((item.queue_id, progress.stage, ""))
            print(f"{item.recipe}: {progress.stage} …", flush=True)
        order = {stage: n for n, stage in enumerate(STAGES)}
        for stage, verdict in sorted(progress.done.items(), key=lambda i: order.get(i[0], 99)):
            if (item.queue_id, stage, verdict) not in shown:
                shown.add((item.queue_id, stage, verdict))
                print(f"{item.recipe}: {stage} {VERDICT_MARKS.get(verdict, '?')}", flush=True)
        if not state.finished:
            await asyncio.sleep(poll)
            continue
        ledger = await Ledger(node, config).recipe(item.recipe)
        run = next(
            (
                r
                for r in ledger.runs
                if r.kind == "isolation"
                and r.finished is not None
                and state.end_epoch is not None
                and int(r.finished.timestamp()) == state.end_epoch
            ),
            None,
        )
        ok = _passed(run, state)
        failed = failed or not ok
        stages = " ".join(
            f"{s} {VERDICT_MARKS.get(v, '?')}" for s, v in (run.stages if run else {}).items()
        )
        where = f"; archived as {run.run_id}" if run is not None else "; not in the archive"
        if problem := queue.archive_problems.get(item.recipe):
            where = f"; {problem}: check the disk and [paths] archive"
            failed = True
        print(
            f"{item.recipe} {item.tag}: {'passed' if ok else 'FAILED'} (exit {state.exit_status}) "
            f"{stages or 'no stage verdicts'}{where}",
            flush=True,
        )
        pending.pop(0)
    return 1 if failed else 0


async def _rerun(config: Config, node: Any, args: argparse.Namespace, poll: float) -> int:
    try:
        queue = RerunQueue(node, config)
        if args.cancel:
            for recipe in args.recipes:
                removed = await queue.remove(recipe)
                print(
                    f"{recipe}: removed {removed} queued run{'s' if removed != 1 else ''}"
                    if removed
                    else f"{recipe}: nothing queued (a run in flight is never removed here)"
                )
            return 0
        source = RecipeSource(node, config)
        items = []
        for recipe in args.recipes:
            tag = args.tag or await source.latest_tag(recipe)
            if not tag:
                raise CliError(f"no latest tag known for {recipe}; give --tag")
            items.append((recipe, tag))
        queued = await queue.enqueue(items)
        waiting = await queue.items()
        for item in queued:
            place = next((n for n, q in enumerate(waiting, 1) if q.queue_id == item.queue_id), None)
            where = f"position {place} of {len(waiting)}" if place else "started"
            print(f"queued {item.recipe} {item.tag} ({where})", flush=True)
        if not args.wait:
            return 0
        return await _follow(config, node, queued, poll)
    finally:
        await node.close()


def rerun_main(
    argv: list[str],
    config: Config,
    *,
    host: str | None = None,
    local: bool = False,
    node_name: str | None = None,
    poll: float = POLL_SECONDS,
) -> int:
    """``rerun RECIPE... [--tag T] [--wait]`` / ``rerun --cancel RECIPE...``."""
    parser = argparse.ArgumentParser(
        prog="redfix-tui rerun", description="queue isolation reruns on the node"
    )
    parser.add_argument("recipes", nargs="+", metavar="RECIPE")
    parser.add_argument("--tag", help="the tag to check out (default: each recipe's latest)")
    parser.add_argument("--wait", action="store_true", help="follow the runs to their end")
    parser.add_argument(
        "--cancel", action="store_true", help="remove queued runs (never the one in flight)"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    started = time.monotonic()
    try:
        if args.cancel and (args.tag or args.wait):
            raise CliError("--cancel takes only recipe names")
        for recipe in args.recipes:
            validate_recipe(recipe)
        node = open_node(config, host, local, node_name)
        return asyncio.run(_rerun(config, node, args, poll))
    except (UnsafeValue, NodeError, CliError, RerunRefused) as exc:
        word = "refused" if isinstance(exc, RerunRefused) else "error"
        print(
            f"redfix-tui rerun: {word}: {exc} (after {time.monotonic() - started:.0f} s)",
            file=sys.stderr,
        )
        return 2
