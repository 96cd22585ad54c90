"""Fetch a run's JUnit files and results.json from the node, for the model to parse.

Raw bytes travel unchanged (invalid UTF-8 and all), so the hardened loader can say exactly what
is wrong with a file; a file still being written is fetched as it is and re-fetched when it grows.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from dataclasses import dataclass, field

from ..node import NodeError
from ..node_api import Node

RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
"""Run ids as they appear under runs_root (``manual``, ``sweep-20260617T0300Z-gitea``)."""
MAX_FILE = 64 * 1024 * 1024
"""Largest JUnit file fetched (bigger ones are cut and reported as truncated by the loader)."""


@dataclass
class RemoteRun:
    """A run's files as fetched: path → bytes, their (size, mtime), and results.json."""

    run_id: str
    directory: str
    files: dict[str, bytes] = field(default_factory=dict)
    stamps: dict[str, tuple[int, float]] = field(default_factory=dict)
    results_json: bytes | None = None


def validate_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is a plain run directory name, else raise ValueError."""
    if not RUN_ID_RE.fullmatch(run_id or ""):
        raise ValueError(f"not a valid run id: {run_id!r}")
    return run_id


async def list_junit(
    node: Node, runs_root: str, junit_subdir: str, run_id: str
) -> dict[str, tuple[int, float]]:
    """The run's ``*.xml`` files with (size, mtime), without reading them."""
    directory = f"{runs_root}/{validate_run_id(run_id)}/{junit_subdir}"
    result = await node.run(
        f"cd {shlex.quote(directory)} 2>/dev/null && for f in *.xml; do "
        f'[ -f "$f" ] && stat -c \'%s %Y %n\' -- "$f"; done; true'
    )
    stamps: dict[str, tuple[int, float]] = {}
    for line in result.stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            stamps[f"{directory}/{parts[2]}"] = (int(parts[0]), float(parts[1]))
    return stamps


async def fetch_run(
    node: Node,
    runs_root: str,
    junit_subdir: str,
    run_id: str,
    *,
    previous: RemoteRun | None = None,
) -> RemoteRun:
    """Fetch the run's JUnit files (only those changed since ``previous``) and results.json."""
    directory = f"{runs_root}/{validate_run_id(run_id)}"
    stamps = await list_junit(node, runs_root, junit_subdir, run_id)
    run = RemoteRun(run_id, directory, stamps=stamps)
    wanted = [
        path
        for path, stamp in stamps.items()
        if previous is None or previous.stamps.get(path) != stamp or path not in previous.files
    ]
    contents = await asyncio.gather(
        *(node.read_file(path, limit=MAX_FILE) for path in wanted), return_exceptions=True
    )
    for path, data in zip(wanted, contents, strict=True):
        if isinstance(data, NodeError):
            continue  # vanished between listing and reading: the next refresh sees it
        if isinstance(data, BaseException):
            raise data
        run.files[path] = data
    if previous is not None:
        for path in stamps:
            if path not in run.files and path in previous.files:
                run.files[path] = previous.files[path]
    try:
        run.results_json = await node.read_file(f"{directory}/results.json", limit=MAX_FILE)
    except NodeError:
        run.results_json = None
    return run


def changed_paths(old: RemoteRun | None, new: RemoteRun) -> list[str]:
    """Paths whose size or mtime differ between two fetches (all of them without ``old``)."""
    if old is None:
        return list(new.stamps)
    return [p for p, s in new.stamps.items() if old.stamps.get(p) != s]
