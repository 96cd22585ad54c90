"""The run ledger: every run of every recipe, read from the node in one command.

Two sources: the sweep runs in ``runs_root`` (``<runs_root>/<run_id>/results.json``, the manual
run directory left out) and the isolation runs the detached rerun wrapper archived under
``[paths] archive`` (``<archive>/<recipe>/<start>/{run.json,results.json,canonical.json}``).
Both are sent in ONE remote command as :mod:`.node_read` listings: the first written to a
temporary file on the node and sent after its length (``<bytes>\\0``), the second after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from ..config import ARCHIVE_TAIL, Config
from ..node import NodeError
from ..node_api import Node
from ..node_json import MAX_BYTES, NodeJSONError, load_object, printable
from ..node_read import BUDGET, NodeFile, listing_command, listing_files, parse_listing
from ..shellcmd import RECIPE_RE, TAG_RE
from .grades import FailingSince, Grade, failing_since, grades
from .model import RunSummary
from .results import is_isolation_run, parse_canonical, parse_ts, read_results, recipe_of

LEDGER_FILES = 20000
"""The most files of each source one ledger read lists (newest first)."""
STAMP = "%Y%m%dT%H%M%SZ"
"""An archived run's directory name: its UTC start."""


def archive_base(config: Config) -> str:
    """``[paths] archive`` without its ``/{recipe}/{start}`` tail (may start with ``~/``)."""
    return config.paths.archive.rstrip("/")[: -len(ARCHIVE_TAIL)]


def shell_dir(path: str) -> str:
    """``path`` as a shell word: quoted, with a leading ``~/`` as ``"$HOME"/``."""
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    return shlex.quote(path)


def _listing_in(path: str, name: str, depth: int) -> str:
    """A subshell sending :func:`listing_command` for ``path`` (``~/`` from ``$HOME``)."""
    if path.startswith("~/"):
        inner = listing_command(path[2:], name, depth=depth, max_files=LEDGER_FILES)
        return f'( cd "$HOME" 2>/dev/null || exit 0; {inner} )'
    return f"( {listing_command(path, name, depth=depth, max_files=LEDGER_FILES)} )"


def ledger_command(config: Config) -> str:
    """The one command sending the sweep runs' and the archive's files (see module doc)."""
    sweeps = _listing_in(config.paths.runs_root, "results.json", 2)
    archive = _listing_in(archive_base(config), "*.json", 3)
    return (
        "t=$(mktemp) || exit 2; "
        f'{sweeps} > "$t"; printf \'%s\\0\' "$(wc -c < "$t")"; cat "$t"; rm -f "$t"; '
        f"{archive}; true"
    )


def split_output(data: bytes) -> tuple[bytes, bytes, str]:
    """Split :func:`ledger_command`'s output: ``(sweep listing, archive listing, problem)``."""
    end = data.find(b"\0")
    word = data[:end].strip() if end >= 0 else b""
    if end < 0 or not word.isdigit():
        return b"", b"", "the ledger listing ended before its first part" if data else ""
    size = int(word)
    first = data[end + 1 : end + 1 + size]
    if len(first) < size:
        return first, b"", "the ledger listing was cut off in its first part"
    return first, data[end + 1 + size :], ""


@dataclass
class RecipeLedger:
    """One recipe's runs (newest first) and the answers drawn from them."""

    recipe: str
    runs: list[RunSummary] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def verdicts(self) -> dict[str, Grade]:
        """Each stage's grade on the newest tag."""
        return grades(self.runs)

    @property
    def failing_since(self) -> FailingSince | None:
        """The first red run after the last green one (None when green now)."""
        return failing_since(self.runs)

    @property
    def newest_isolation(self) -> RunSummary | None:
        """The newest archived isolation run."""
        return next((run for run in self.runs if run.kind == "isolation"), None)

    def to_json(self) -> dict:
        """The ``runs --json`` document (problems are not in it: the CLI prints them apart)."""
        since = self.failing_since
        return {
            "recipe": self.recipe,
            "runs": [run.to_json() for run in self.runs],
            "verdicts": {stage: grade.to_json() for stage, grade in self.verdicts.items()},
            "failing_since": since.to_json() if since is not None else None,
        }


def _epoch(value: object) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**11:
        return datetime.fromtimestamp(value, UTC)
    return None


def _archived(
    recipe: str, stamp: str, files: dict[str, NodeFile], where: str
) -> tuple[RunSummary, list[str]]:
    """One archived isolation run from its run.json, results.json and canonical.json."""
    problems: list[str] = []
    run = RunSummary(stamp, recipe, kind="isolation", path=where)
    state_file = files.get("run.json")
    if state_file is not None and state_file.data is not None:
        try:
            state, _ = load_object(state_file.data, f"{where}/run.json")
        except NodeJSONError as exc:
            problems.append(str(exc))
            state = {}
        tag, user, status = state.get("tag"), state.get("user"), state.get("exit_status")
        run.tag = tag if isinstance(tag, str) and TAG_RE.fullmatch(tag) else ""
        run.user = printable(user) if isinstance(user, str) else ""
        if isinstance(status, int) and not isinstance(status, bool):
            run.exit_status = status
        run.finished = _epoch(state.get("end"))
    elif state_file is not None:
        problems.append(printable(state_file.problem))
    else:
        problems.append(f"{where}: no run.json (archived by an interrupted wrapper?)")
    results = files.get("results.json")
    if results is not None and results.data is not None:
        summary, problem = read_results(stamp, where, results.data, f"{where}/results.json")
        if problem:
            problems.append(problem)
        if summary is not None and summary.recipe in (recipe, ""):
            run.stages, run.stage_ms = dict(summary.stages), dict(summary.stage_ms)
            run.tag = run.tag or summary.tag
            run.finished = run.finished or summary.finished
    canonical = files.get("canonical.json")
    if canonical is not None and canonical.data is not None:
        found, problem = parse_canonical(canonical.data, f"{where}/canonical.json")
        run.canonical = found.version if found is not None else ""
        if problem:
            problems.append(problem)
    if run.finished is None:
        run.finished = parse_ts(stamp)
    return run, problems


def parse_ledger(
    data: bytes, config: Config, recipes: list[str] | None = None
) -> tuple[dict[str, RecipeLedger], list[str]]:
    """Every recipe's ledger from :func:`ledger_command`'s output: ``(ledgers, problems)``.

    ``recipes`` limits the ledgers (and helps place an unreadable sweep results.json); problems
    that belong to no recipe come back on their own.
    """
    paths = config.paths
    first, second, problem = split_output(data)
    problems = [problem] if problem else []
    ledgers: dict[str, RecipeLedger] = {}

    def ledger(recipe: str) -> RecipeLedger | None:
        if recipes is not None and recipe not in recipes:
            return None
        return ledgers.setdefault(recipe, RecipeLedger(recipe))

    sweep_files, problem = parse_listing(first)
    if problem:
        problems.append(f"{paths.runs_root}: {problem}")
    manual = paths.manual_run_id
    for file in sweep_files:
        run_id = file.path.split("/")[0]
        if is_isolation_run(run_id, manual):
            continue
        where = f"{paths.runs_root}/{run_id}"
        summary, problem = (None, printable(f"{paths.runs_root}/{file.problem}"))
        if file.data is not None:
            summary, problem = read_results(run_id, where, file.data, f"{where}/results.json")
        recipe = summary.recipe if summary is not None and summary.recipe else None
        recipe = recipe or recipe_of(run_id, file.data, recipes or [])
        target = ledger(recipe) if recipe else None
        if target is None:
            if problem and recipe is None:
                problems.append(problem)
            continue
        if problem:
            target.problems.append(problem)
        if summary is not None:
            target.runs.append(
                replace(summary, run_id=run_id, recipe=target.recipe, kind="sweep", problems=[])
            )
    archive_files, problem = parse_listing(second)
    base = archive_base(config)
    if problem:
        problems.append(f"{base}: {problem}")
    grouped: dict[tuple[str, str], dict[str, NodeFile]] = {}
    for file in archive_files:
        parts = file.path.split("/")
        if len(parts) != 3 or not RECIPE_RE.fullmatch(parts[0]):
            continue
        grouped.setdefault((parts[0], parts[1]), {})[parts[2]] = file
    for (recipe, stamp), files in grouped.items():
        target = ledger(recipe)
        if target is None:
            continue
        run, notes = _archived(recipe, stamp, files, f"{base}/{recipe}/{stamp}")
        target.runs.append(run)
        target.problems += [printable(n) for n in notes]
    oldest = datetime.min.replace(tzinfo=UTC)
    for found in ledgers.values():
        found.runs.sort(key=lambda run: (run.finished or oldest, run.run_id), reverse=True)
    return ledgers, problems


class Ledger:
    """Reads the ledgers of all recipes from the node (one remote command per read)."""

    def __init__(self, node: Node, config: Config) -> None:
        self.node = node
        self.config = config
        self.problems: list[str] = []
        """Problems of the last read that belong to no recipe."""

    async def load(self, recipes: list[str] | None = None) -> dict[str, RecipeLedger]:
        """Every recipe's ledger (only ``recipes``' when given; each present even if empty)."""
        chunks: list[bytes] = []
        total = 0
        cut = ""
        async with contextlib.aclosing(self.node.stream(ledger_command(self.config))) as stream:
            async for chunk in stream:
                chunks.append(chunk)
                total += len(chunk)
                if total > BUDGET:
                    cut = "the ledger listing went over its byte budget; older runs were not read"
                    break
        if not cut and getattr(self.node, "last_exit_status", 0) not in (0, None):
            raise NodeError(
                f"reading the run ledger failed (exit {self.node.last_exit_status}): "
                f"{printable(getattr(self.node, 'last_stderr', '') or '')[:120]}"
            )
        data = b"".join(chunks)
        ledgers, self.problems = await asyncio.to_thread(parse_ledger, data, self.config, recipes)
        if cut:
            self.problems.append(cut)
        for recipe in recipes or []:
            ledgers.setdefault(recipe, RecipeLedger(recipe))
        return ledgers

    async def recipe(self, recipe: str) -> RecipeLedger:
        """One recipe's ledger."""
        return (await self.load([recipe]))[recipe]


def newest_isolation_command(config: Config) -> str:
    """A :mod:`.node_read`-framed listing of the json files of each recipe's newest archived
    run only (what the board's Iso column needs on every refresh)."""
    base = archive_base(config)
    limit = MAX_BYTES
    enter = (
        f'cd "$HOME" 2>/dev/null && cd {shlex.quote(base[2:])}'
        if base.startswith("~/")
        else (f"cd {shlex.quote(base)}")
    )
    stamp = shlex.quote("^[0-9]{8}T[0-9]{6}Z$")
    empty = "{ printf '\\0'; tar -c -f - -T /dev/null; exit 0; }"
    return (
        f"{enter} 2>/dev/null || {empty}; set --; for r in *; do "
        "case $r in ''|*[!a-z0-9._-]*) continue ;; esac; "
        f'n=$(ls -1 -- "$r" 2>/dev/null | grep -E {stamp} | sort | tail -n 1); '
        '[ -n "$n" ] && set -- "$@" "$r/$n"; done; '
        f"[ $# -gt 0 ] || {empty}; "
        f"find -L \"$@\" -maxdepth 1 -name '*.json' -type f -size +{limit}c "
        "-printf 'B %s %p\\0' 2>/dev/null; printf '\\0'; "
        f"find -L \"$@\" -maxdepth 1 -name '*.json' -type f -size -{limit + 1}c -print0 "
        "2>/dev/null | tar -c -f - --null --no-recursion -T - 2>/dev/null"
    )


def newest_isolation_runs(
    data: bytes, config: Config, recipes: list[str], *, cut: bool = False
) -> tuple[dict[str, RunSummary], list[str]]:
    """Parse :func:`newest_isolation_command`'s output: ``(newest run by recipe, problems)``."""
    base = archive_base(config)
    files, problem = listing_files(base, "archived run", data, cut=cut)
    problems = [printable(problem)] if problem else []
    grouped: dict[tuple[str, str], dict[str, NodeFile]] = {}
    for file in files:
        parts = file.path.split("/")
        if len(parts) == 3 and parts[0] in recipes:
            grouped.setdefault((parts[0], parts[1]), {})[parts[2]] = file
    found: dict[str, RunSummary] = {}
    for (recipe, stamp), group in grouped.items():
        run, notes = _archived(recipe, stamp, group, f"{base}/{recipe}/{stamp}")
        run.problems = [printable(n) for n in notes]
        found[recipe] = run
    return found, problems
