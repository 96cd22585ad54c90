"""Recipe status: what the board shows for each recipe, read from the node in few round trips.

Per recipe: the latest tag, the canonical version and when it was written
(``<warm_root>/<recipe>/canonical.json``), the last sweep run's and the last isolation rerun's
verdict per stage (from each run's ``results.json``).
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .config import Config
from .node import NodeConnection, NodeError
from .shellcmd import RECIPE_RE, UnsafeValue, render, validate_recipe

STAGES = ("install", "upgrade", "backup", "restore", "custom")
"""The harness's stage order."""
MAX_RUNS = 400
"""How many of the newest run directories are read on each refresh."""
_HEADER_RE = re.compile(r"^==> (.*) <==$", re.MULTILINE)

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


def parse_results(run_id: str, path: str, data: dict[str, Any]) -> RunSummary:
    """Reduce a results.json (schema 2) to a :class:`RunSummary`."""
    summary = RunSummary(
        run_id=str(data.get("run_id") or run_id),
        recipe=str(data.get("recipe", "")),
        version=str(data.get("version", "")),
        finished=parse_ts(str(data.get("finished", ""))),
        flags=data.get("flags") if isinstance(data.get("flags"), dict) else {},
        path=path,
    )
    for stage in data.get("stages") or []:
        if not isinstance(stage, dict) or "name" not in stage:
            continue
        name = str(stage["name"])
        summary.stages[name] = normalise_status(stage.get("status"))
        tests = stage.get("tests") if isinstance(stage.get("tests"), list) else []
        summary.stage_ms[name] = sum(
            int(t.get("ms") or 0)
            for t in tests
            if isinstance(t, dict) and isinstance(t.get("ms"), int | float)
        )
    return summary


def split_headed(output: str) -> dict[str, str]:
    """Split ``head``'s multi-file output (``==> path <==`` headers) into path → text."""
    parts: dict[str, str] = {}
    matches = list(_HEADER_RE.finditer(output))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(output)
        parts[match.group(1)] = output[match.end() : end].strip("\n")
    return parts


class RecipeSource:
    """Reads recipe status from the node through a :class:`NodeConnection`."""

    def __init__(self, node: NodeConnection, config: Config) -> None:
        self.node = node
        self.config = config

    def _values(self) -> dict[str, str]:
        paths = self.config.paths
        return {
            "harness": paths.harness,
            "runs_root": paths.runs_root,
            "warm_root": paths.warm_root,
        }

    async def recipe_names(self) -> list[str]:
        """The recipes under investigation: the config's list, else the harness's tests/."""
        if self.config.board.recipes:
            return [validate_recipe(name) for name in self.config.board.recipes]
        result = await self.node.run(
            render(self.config.commands.recipes, **self._values()), check=True
        )
        return sorted(
            {
                line.strip()
                for line in result.stdout.splitlines()
                if RECIPE_RE.fullmatch(line.strip())
            }
        )

    async def _read_many(self, pattern_dir: str, tail: str) -> dict[str, str]:
        """Read ``<dir>/*/<tail>`` files in one command; return path → text."""
        command = (
            f"cd {shlex.quote(pattern_dir)} 2>/dev/null && "
            f"ls -1t | head -n {MAX_RUNS} | while IFS= read -r d; do "
            f'[ -f "$d"/{shlex.quote(tail)} ] && printf \'%s\\n\' "$d"/{shlex.quote(tail)}; '
            f"done | xargs -r -d '\\n' head -v -c 262144 --"
        )
        result = await self.node.run(command)
        return split_headed(result.stdout)

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
        """Read every recipe's status; unreadable files become ``problems``, not errors."""
        names = await self.recipe_names()
        paths = self.config.paths
        canon_files, run_files, tags = await asyncio.gather(
            self._read_many(paths.warm_root, "canonical.json"),
            self._read_many(paths.runs_root, "results.json"),
            asyncio.gather(*(self.latest_tag(name) for name in names)),
        )
        statuses = {
            name: RecipeStatus(name, latest_tag=tag) for name, tag in zip(names, tags, strict=True)
        }
        for path, text in canon_files.items():
            recipe = path.split("/")[0]
            if recipe not in statuses:
                continue
            try:
                data = json.loads(text)
                statuses[recipe].canonical = Canonical(
                    version=str(data.get("version", "")),
                    commit=str(data.get("commit", "")),
                    status=str(data.get("status", "")),
                    ts=parse_ts(str(data.get("ts", ""))),
                )
            except (ValueError, AttributeError) as exc:
                statuses[recipe].problems.append(f"{paths.warm_root}/{path}: not JSON ({exc})")
        for path, text in run_files.items():
            run_id = path.split("/")[0]
            try:
                data = json.loads(text)
                if not isinstance(data, dict):
                    raise ValueError("not an object")
            except ValueError:
                continue  # a results.json being written; read again on the next refresh
            summary = parse_results(run_id, f"{paths.runs_root}/{run_id}", data)
            status = statuses.get(summary.recipe)
            if status is None:
                continue
            isolation = run_id == paths.manual_run_id or run_id.startswith(
                paths.manual_run_id + "-"
            )
            slot = "isolation" if isolation else "sweep"
            current: RunSummary | None = getattr(status, slot)
            if current is None or _newer(summary, current):
                setattr(status, slot, summary)
        return [statuses[name] for name in names]


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
    "normalise_status",
    "parse_results",
    "parse_ts",
    "split_headed",
]
