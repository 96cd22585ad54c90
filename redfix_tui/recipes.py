"""Recipe status: what the board shows for each recipe, read from the node in few round trips.

Per recipe: the latest tag, the canonical version and when it was written
(``<warm_root>/<recipe>/canonical.json``), the last sweep run's and the last isolation rerun's
verdict per stage (the sweep's from its ``results.json``; the isolation run's from the newest
run the rerun wrapper archived, see :mod:`.runs.ledger`, else the shared manual directory).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from .board_read import PLACEHOLDER, Request, Section, board_reader
from .config import Config
from .node import NodeError, decode
from .node_api import Node
from .node_json import printable
from .node_read import MAX_FILES, NodeFile, listing_command, listing_files
from .runs.ledger import newest_isolation_command, newest_isolation_runs
from .runs.model import Canonical, RunSummary
from .runs.results import (
    first_problem,
    is_isolation_run,
    parse_canonical,
    read_results,
    recipe_of,
)
from .shellcmd import RECIPE_RE, UnsafeValue, render, validate_recipe

MAX_RUNS = MAX_FILES
"""How many of the newest run directories are read on each refresh."""


def age_text(then: datetime | None, now: datetime) -> str:
    """A compact age such as ``42m``, ``5h``, ``3d``; ``—`` when unknown."""
    if then is None:
        return "—"
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


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
        return first_problem(self.problems)


class RecipeSource:
    """Reads recipe status from the node through a :class:`~redfix_tui.node_api.Node`."""

    def __init__(self, node: Node, config: Config) -> None:
        self.node = node
        self.config = config
        self.problems: list[str] = []
        """Problems of the last :meth:`load` that belong to no recipe on the board (a skipped
        name, a results.json naming no known recipe), each as one line."""
        self._parsed: dict[tuple[str, str, bytes], Any] = {}
        """The last load's parse of each file, by kind, path and content hash."""

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
        return first_problem(self.problems)

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
        return self._names(result.stdout)

    def _names(self, output: str) -> list[str]:
        """The recipe names in a listing (see :meth:`recipe_names`)."""
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

        One remote command (see :mod:`.board_read`) lists the recipes, reads their latest tags,
        every canonical.json and results.json; each file is read whole (up to the 16 MiB limit)
        and parsed on its own, so one bad file marks its recipe and every other recipe still
        loads. A failing recipes listing raises :class:`NodeError` (kind ``command``).
        """
        self.problems = []
        paths = self.config.paths
        values = self._values()
        configured = [validate_recipe(name) for name in self.config.board.recipes]
        sections = {
            "canon": listing_command(paths.warm_root, "canonical.json"),
            "runs": listing_command(paths.runs_root, "results.json"),
            "archive": newest_isolation_command(self.config),
        }
        if not configured:
            sections["names"] = render(self.config.commands.recipes, **values)
        reply = await board_reader(self.node).read(
            Request(
                sections=sections,
                tag_template=render(self.config.commands.latest_tag, recipe=PLACEHOLDER, **values),
                tag_names=configured or None,
            )
        )
        if configured:
            names = configured
        else:
            listing = reply.sections["names"].result()
            if not listing.ok:
                first = (
                    listing.stderr.strip().splitlines() or [f"exit status {listing.exit_status}"]
                )[0]
                raise NodeError(f"`{_short(listing.command)}` failed: {first}", kind="command")
            names = self._names(listing.stdout)
        tags = [_tag(reply.tags.get(name)) for name in names]
        canon, runs = reply.sections["canon"], reply.sections["runs"]
        canon_files, canon_problem = listing_files(
            paths.warm_root, "canonical.json", canon.stdout, cut=canon.cut
        )
        run_files, runs_problem = listing_files(
            paths.runs_root, "results.json", runs.stdout, cut=runs.cut
        )
        self.problems += [printable(p) for p in (canon_problem, runs_problem) if p]
        statuses = {
            name: RecipeStatus(name, latest_tag=tag) for name, tag in zip(names, tags, strict=True)
        }
        canonicals, results = await asyncio.to_thread(self._parse, canon_files, run_files)
        for file, parsed in zip(canon_files, canonicals, strict=True):
            status = statuses.get(file.path.split("/")[0])
            if status is None:
                continue
            canonical, problem = parsed or (None, "")
            status.canonical = canonical
            if problem or file.problem:
                status.problems.append(printable(problem or f"{paths.warm_root}/{file.problem}"))
        for file, parsed in zip(run_files, results, strict=True):
            self._add_run(statuses, names, file, parsed)
        archive = reply.sections["archive"]
        archived, archive_problems = newest_isolation_runs(
            archive.stdout, self.config, names, cut=archive.cut
        )
        self.problems += archive_problems
        for name, run in archived.items():
            # The Iso column: the newest archived isolation run; the shared manual directory
            # while it holds this recipe's run of the same time (the same run) or a newer one.
            summary = replace(run, problems=[])  # its problems go to the recipe's
            current = statuses[name].isolation
            if current is None or _newer(summary, current):
                statuses[name].isolation = summary
            statuses[name].problems += run.problems
        return [statuses[name] for name in names]

    def _parse(
        self, canon_files: list[NodeFile], run_files: list[NodeFile]
    ) -> tuple[list[Any], list[Any]]:
        """Parse every file read (in a worker thread: a big node takes seconds), reusing the
        last load's result for a file whose content is unchanged."""
        paths = self.config.paths
        previous, kept = self._parsed, {}

        def parsed(kind: str, file: NodeFile, parse: Callable[[bytes], Any]) -> Any:
            if file.data is None:
                return None
            key = (kind, file.path, hashlib.blake2b(file.data, digest_size=16).digest())
            kept[key] = result = previous[key] if key in previous else parse(file.data)
            return result

        canonicals = [
            parsed("canonical", f, partial(parse_canonical, name=f"{paths.warm_root}/{f.path}"))
            for f in canon_files
        ]
        results = []
        for file in run_files:
            run_id = file.path.split("/")[0]
            where = f"{paths.runs_root}/{run_id}"
            parse = partial(read_results, run_id, where, name=f"{where}/results.json")
            results.append(parsed("results", file, parse))
        self._parsed = kept
        return canonicals, results

    def _add_run(
        self,
        statuses: dict[str, RecipeStatus],
        names: list[str],
        file: NodeFile,
        parsed: tuple[RunSummary | None, str] | None,
    ) -> None:
        """Put one results.json into its recipe's sweep or isolation slot, or note its problem."""
        paths = self.config.paths
        run_id = file.path.split("/")[0]
        summary, problem = parsed or (None, "")
        if file.problem:
            problem = f"{paths.runs_root}/{file.problem}"
        problem = printable(problem)
        recipe = summary.recipe if summary is not None and summary.recipe else None
        recipe = recipe or recipe_of(run_id, file.data, names)
        status = statuses.get(recipe or "")
        if status is None:
            if problem and recipe is None:
                self.problems.append(problem)
            return
        if problem:
            status.problems.append(problem)
        if summary is None:
            return
        isolation = is_isolation_run(run_id, paths.manual_run_id)
        slot = "isolation" if isolation else "sweep"
        summary.kind = slot  # the same for every read of this file (the run id decides)
        current: RunSummary | None = getattr(status, slot)
        if current is None or _newer(summary, current):
            setattr(status, slot, summary)


def _tag(section: Section | None) -> str:
    """The first line of a latest-tag command's output ("" when it failed or printed none)."""
    if section is None or section.exit_status != 0:
        return ""
    lines = decode(section.stdout).strip().splitlines()
    return lines[0].strip() if lines else ""


def _short(command: str, width: int = 60) -> str:
    command = " ".join(command.split())
    return command if len(command) <= width else command[: width - 1] + "…"


def _newer(a: RunSummary, b: RunSummary) -> bool:
    """True when run ``a`` finished after ``b`` (unknown times count as oldest)."""
    epoch = datetime.min.replace(tzinfo=UTC)
    return (a.finished or epoch) > (b.finished or epoch)


__all__ = ["RecipeSource", "RecipeStatus", "UnsafeValue", "age_text"]
