"""Recipe status: what the board shows for each recipe, read from the node in few round trips.

Per recipe: the latest tag, the canonical version and when it was written
(``<warm_root>/<recipe>/canonical.json``), the last sweep run's and the last isolation rerun's
verdict per stage (from each run's ``results.json``).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .config import Config
from .node import NodeConnection, NodeError
from .node_json import (
    MAX_BYTES,
    NodeJSONError,
    finite_number,
    load_object,
    printable,
    wrong_type,
)
from .node_read import MAX_FILES, read_many
from .shellcmd import RECIPE_RE, UnsafeValue, render, validate_recipe

STAGES = ("install", "upgrade", "backup", "restore", "custom")
"""The harness's stage order."""
MAX_RUNS = MAX_FILES
"""How many of the newest run directories are read on each refresh."""
MAX_MS = 10**12
"""A test duration above this many milliseconds (about 31 years) is not believed."""
_RECIPE_KEY = re.compile(r'"recipe"\s*:\s*"([a-z0-9][a-z0-9._-]{0,62})"')

_STATUS_WORDS = {
    "pass": "passed",
    "passed": "passed",
    "ok": "passed",
    "success": "passed",
    "green": "passed",
    "fail": "failed",
    "failed": "failed",
    "failure": "failed",
    "red": "failed",
    "error": "error",
    "errored": "error",
    "skip": "skipped",
    "skipped": "skipped",
    "running": "running",
}


def normalise_status(value: Any) -> str:
    """Map a stage/test status word to passed/failed/error/skipped/running/unknown."""
    return _STATUS_WORDS.get(str(value).strip().lower(), "unknown")


def parse_ts(value: str) -> datetime | None:
    """Parse ``20260617T180501Z`` or an ISO 8601 time into an aware UTC datetime."""
    value = (value or "").strip()
    for fmt in ("%Y%m%dT%H%M%SZ", "%Y%m%dT%H%MZ"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age_text(then: datetime | None, now: datetime) -> str:
    """A compact age such as ``42m``, ``5h``, ``3d``; ``—`` when unknown."""
    if then is None:
        return "—"
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Canonical:
    """A recipe's canonical state: the last version that went green cold on latest."""

    version: str
    commit: str = ""
    status: str = ""
    ts: datetime | None = None


@dataclass
class RunSummary:
    """One run's results.json, reduced to what the board and the JUnit view need."""

    run_id: str
    recipe: str
    version: str = ""
    finished: datetime | None = None
    stages: dict[str, str] = field(default_factory=dict)
    """Stage name → normalised status, in the order results.json lists them."""
    stage_ms: dict[str, int] = field(default_factory=dict)
    """Stage name → total duration in milliseconds (sum of its tests)."""
    flags: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    problems: list[str] = field(default_factory=list)
    """What in its results.json was wrong (and ignored), each as one line."""

    @property
    def verdict(self) -> str:
        """failed if any stage failed or errored, passed if all passed, else unknown."""
        values = set(self.stages.values())
        if values & {"failed", "error"}:
            return "failed"
        return "passed" if values and values <= {"passed", "skipped"} else "unknown"


@dataclass
class RecipeStatus:
    """Everything the board shows about one recipe."""

    name: str
    latest_tag: str = ""
    canonical: Canonical | None = None
    sweep: RunSummary | None = None
    isolation: RunSummary | None = None
    problems: list[str] = field(default_factory=list)
    """Files that could not be read, each as one line."""

    @property
    def problem(self) -> str:
        """The first problem, and how many more ("" when none): the board's ⚠ and detail."""
        if not self.problems:
            return ""
        more = len(self.problems) - 1
        return self.problems[0] + (f" (+{more} more)" if more else "")


def _first(problems: list[str]) -> str:
    """One printable line for a file's problems: the first, and how many more."""
    more = len(problems) - 1
    return printable(problems[0]) + (f" (+{more} more)" if more > 0 else "") if problems else ""


def _text(data: dict[str, Any], key: str, problems: list[str], name: str, where: str = "") -> str:
    """``data[key]`` as a string: absent or null gives "", another type is a problem."""
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    problems.append(wrong_type(name, f"{where}{key}", value, "a string"))
    return ""


def _tests(name: str, where: str, tests: Any, problems: list[str]) -> list[dict[str, Any]]:
    """A stage's tests, each an object whose ``ms`` (if kept) is a sane duration."""
    if tests is None:
        return []
    if not isinstance(tests, list):
        problems.append(wrong_type(name, f"{where}.tests", tests, "a list of test objects"))
        return []
    kept = []
    for number, test in enumerate(tests):
        here = f"{where}.tests[{number}]"
        if not isinstance(test, dict):
            problems.append(wrong_type(name, here, test, "a test object"))
            continue
        test = dict(test)
        ms = test.get("ms")
        if ms is not None and (not finite_number(ms) or not 0 <= ms <= MAX_MS):
            problems.append(wrong_type(name, f"{here}.ms", ms, "milliseconds (0 or more)"))
            test["ms"] = None
        if not isinstance(test.get("name"), str | None):
            problems.append(wrong_type(name, f"{here}.name", test["name"], "a test name"))
            test["name"] = None
        kept.append(test)
    return kept


def check_results(data: dict[str, Any], name: str = "results.json") -> tuple[dict, list[str]]:
    """Check a results.json (schema 2) field by field: ``(clean copy, problems)``.

    What has the wrong type is dropped from the copy (a whole stage when it is not an object
    with a name) and noted in ``problems``, one line each; what is right is kept, so the copy's
    ``stages`` is always a list of objects with a str ``name``, a str or absent ``status`` and
    a list of test objects.
    """
    problems: list[str] = []
    clean = dict(data)
    for key in ("recipe", "version", "finished", "run_id"):
        clean[key] = _text(data, key, problems, name)
    if clean["recipe"] and not RECIPE_RE.fullmatch(clean["recipe"]):
        problems.append(wrong_type(name, "recipe", clean["recipe"], "a recipe name"))
        clean["recipe"] = ""
    flags = data.get("flags")
    if flags is not None and not isinstance(flags, dict):
        problems.append(wrong_type(name, "flags", flags, "an object"))
    clean["flags"] = flags if isinstance(flags, dict) else {}
    stages = data.get("stages")
    if stages is not None and not isinstance(stages, list):
        problems.append(wrong_type(name, "stages", stages, "a list of stage objects"))
    clean["stages"] = []
    for number, stage in enumerate(stages if isinstance(stages, list) else []):
        where = f"stages[{number}]"
        if not isinstance(stage, dict):
            problems.append(wrong_type(name, where, stage, "a stage object"))
            continue
        stage_name = stage.get("name")
        if not isinstance(stage_name, str) or not stage_name:
            problems.append(wrong_type(name, f"{where}.name", stage_name, "a stage name"))
            continue
        status = stage.get("status")
        if status is not None and not isinstance(status, str):
            problems.append(wrong_type(name, f"{where}.status", status, "a status word"))
            status = None
        tests = _tests(name, where, stage.get("tests"), problems)
        clean["stages"].append({**stage, "status": status, "tests": tests})
    return clean, problems


def parse_results(
    run_id: str, path: str, data: dict[str, Any], name: str = "results.json"
) -> RunSummary:
    """Reduce a results.json (schema 2) to a :class:`RunSummary`, checking field by field.

    A field of the wrong type is ignored and noted in ``problems`` (see :func:`check_results`);
    what is right is kept.
    """
    clean, problems = check_results(data, name)
    summary = RunSummary(
        run_id=clean["run_id"] or run_id,
        recipe=clean["recipe"],
        version=clean["version"],
        finished=parse_ts(clean["finished"]),
        flags=clean["flags"],
        path=path,
        problems=problems,
    )
    for stage in clean["stages"]:
        summary.stages[stage["name"]] = normalise_status(stage["status"])
        summary.stage_ms[stage["name"]] = sum(
            int(t["ms"] or 0) for t in stage["tests"] if "ms" in t
        )
    return summary


def read_results(
    run_id: str, path: str, data: bytes | str, name: str = "results.json"
) -> tuple[RunSummary | None, str]:
    """Parse a results.json's bytes defensively: ``(summary, problem)``.

    ``summary`` is None when the file cannot be used at all; ``problem`` is one line ("" when
    the file is sound): the reason it was refused, or what in it was ignored.
    """
    try:
        data_dict, notes = load_object(data, name, limit=MAX_BYTES)
    except NodeJSONError as exc:
        return None, str(exc)
    summary = parse_results(run_id, path, data_dict, name)
    summary.problems[:0] = notes
    return summary, _first(summary.problems)


def parse_canonical(data: bytes | str, name: str) -> tuple[Canonical | None, str]:
    """Parse a canonical.json defensively: ``(canonical, problem)`` as :func:`read_results`."""
    try:
        value, problems = load_object(data, name)
    except NodeJSONError as exc:
        return None, str(exc)
    canonical = Canonical(
        version=_text(value, "version", problems, name),
        commit=_text(value, "commit", problems, name),
        status=_text(value, "status", problems, name),
        ts=parse_ts(_text(value, "ts", problems, name)),
    )
    return canonical, _first(problems)


def recipe_of(run_id: str, data: bytes | None, names: list[str]) -> str | None:
    """Which recipe an unreadable results.json belongs to: its ``"recipe"`` key if one can be
    found in the text, else a run id ending in ``-<recipe>``; None when neither tells."""
    if data:
        head = data[: 1 << 20].decode("utf-8", errors="replace")
        if (match := _RECIPE_KEY.search(head)) and match.group(1) in names:
            return match.group(1)
    found = [n for n in names if run_id == n or run_id.endswith("-" + n)]
    return max(found, key=len) if found else None


class RecipeSource:
    """Reads recipe status from the node through a :class:`NodeConnection`."""

    def __init__(self, node: NodeConnection, config: Config) -> None:
        self.node = node
        self.config = config
        self.problems: list[str] = []
        """Problems of the last :meth:`load` that belong to no recipe on the board (a skipped
        name, a results.json naming no known recipe), each as one line."""

    def _values(self) -> dict[str, str]:
        paths = self.config.paths
        return {
            "harness": paths.harness,
            "runs_root": paths.runs_root,
            "warm_root": paths.warm_root,
        }

    @property
    def problem(self) -> str:
        """:attr:`problems` as one line: the first and how many more ("" when none)."""
        return _first(self.problems)

    async def recipe_names(self) -> list[str]:
        """The recipes under investigation: the config's list, else the harness's tests/.

        The listing is split on NULs (on lines when it holds none); a name outside the recipe
        name rule (a newline or control character in it, say) is skipped and noted in
        :attr:`problems`, except hidden and ``_``-prefixed entries (``__pycache__``).
        """
        if self.config.board.recipes:
            return [validate_recipe(name) for name in self.config.board.recipes]
        result = await self.node.run(
            render(self.config.commands.recipes, **self._values()), check=True
        )
        output = result.stdout
        entries = output.split("\0") if "\0" in output else output.splitlines()
        names: set[str] = set()
        for entry in entries:
            if not entry or entry.startswith((".", "_")):
                continue
            if RECIPE_RE.fullmatch(entry):
                names.add(entry)
            else:
                self.problems.append(
                    f"{self.config.paths.harness}/tests: skipped {entry!r}: not a recipe name "
                    "(lower-case letters, digits, '.', '-', '_')"
                )
        return sorted(names)

    async def latest_tag(self, recipe: str) -> str:
        """The recipe's latest release tag from the config's command ("" when unknown)."""
        try:
            result = await self.node.run(
                render(self.config.commands.latest_tag, recipe=recipe, **self._values()),
                timeout=20,
            )
        except NodeError:
            return ""
        tag = result.stdout.strip().splitlines()
        return tag[0].strip() if tag and result.ok else ""

    async def load(self) -> list[RecipeStatus]:
        """Read every recipe's status; unreadable files become ``problems``, not errors.

        Each file is read whole (up to the 16 MiB limit) and parsed on its own, so one bad file
        marks its recipe and every other recipe still loads.
        """
        self.problems = []
        names = await self.recipe_names()
        paths = self.config.paths
        (canon_files, canon_problem), (run_files, runs_problem), tags = await asyncio.gather(
            read_many(self.node, paths.warm_root, "canonical.json"),
            read_many(self.node, paths.runs_root, "results.json"),
            asyncio.gather(*(self.latest_tag(name) for name in names)),
        )
        self.problems += [printable(p) for p in (canon_problem, runs_problem) if p]
        statuses = {
            name: RecipeStatus(name, latest_tag=tag) for name, tag in zip(names, tags, strict=True)
        }
        for file in canon_files:
            status = statuses.get(file.path.split("/")[0])
            if status is None:
                continue
            where = f"{paths.warm_root}/{file.path}"
            canonical, problem = (
                parse_canonical(file.data, where) if file.data is not None else (None, "")
            )
            status.canonical = canonical
            if problem or file.problem:
                status.problems.append(printable(problem or f"{paths.warm_root}/{file.problem}"))
        for file in run_files:
            self._add_run(statuses, names, file.path.split("/")[0], file.data, file.problem)
        return [statuses[name] for name in names]

    def _add_run(
        self,
        statuses: dict[str, RecipeStatus],
        names: list[str],
        run_id: str,
        data: bytes | None,
        read_problem: str,
    ) -> None:
        """Put one results.json into its recipe's sweep or isolation slot, or note its problem."""
        paths = self.config.paths
        where = f"{paths.runs_root}/{run_id}/results.json"
        summary, problem = (None, "") if data is None else read_results(run_id, "", data, where)
        if summary is not None:
            summary.path = f"{paths.runs_root}/{run_id}"
        if read_problem:
            problem = f"{paths.runs_root}/{read_problem}"
        problem = printable(problem)
        recipe = summary.recipe if summary is not None and summary.recipe else None
        recipe = recipe or recipe_of(run_id, data, names)
        status = statuses.get(recipe or "")
        if status is None:
            if problem and recipe is None:
                self.problems.append(problem)
            return
        if problem:
            status.problems.append(problem)
        if summary is None:
            return
        isolation = run_id == paths.manual_run_id or run_id.startswith(paths.manual_run_id + "-")
        slot = "isolation" if isolation else "sweep"
        current: RunSummary | None = getattr(status, slot)
        if current is None or _newer(summary, current):
            setattr(status, slot, summary)


def _newer(a: RunSummary, b: RunSummary) -> bool:
    """True when run ``a`` finished after ``b`` (unknown times count as oldest)."""
    epoch = datetime.min.replace(tzinfo=UTC)
    return (a.finished or epoch) > (b.finished or epoch)


__all__ = [
    "STAGES",
    "Canonical",
    "RecipeSource",
    "RecipeStatus",
    "RunSummary",
    "UnsafeValue",
    "age_text",
    "check_results",
    "normalise_status",
    "parse_canonical",
    "parse_results",
    "parse_ts",
    "read_results",
    "recipe_of",
]
