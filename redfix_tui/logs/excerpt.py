"""Reading a cited excerpt back from the node: by byte range, from the archive or the log.

A journal reference (:class:`~redfix_tui.journal.citations.Citation`) names a file, a byte range
and the sha256 of those bytes. :func:`fetch_cited` reads that byte range again — from the run's
archived copy first (the rerun log itself is overwritten by the next rerun), else from the log —
with one ``tail -c +N | head -c M`` command whose path is validated and shell-quoted, and says
whether the bytes still hash to what was cited. :func:`excerpt_spool` puts them into a spool
with a first line saying what they are, their file offsets and line numbers recorded (so ``e``
on them cites the file again, not the spool).
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass

from redfix_tui.journal.citations import Citation
from redfix_tui.logs.origins import record
from redfix_tui.logs.spool import LogSpool
from redfix_tui.node_api import Node

MAX_EXCERPT = 16 * 1024 * 1024
"""The largest excerpt read back (bytes)."""
CHANGED = "changed since cited"
"""What the console says when the bytes no longer hash to the cited sha256."""


class ExcerptError(Exception):
    """The excerpt could not be read back; the message says why and what to do, in one line."""


def remote_path(path: str) -> str:
    """``path`` as a shell word: absolute, or ``~/…`` under the SSH user's home; no control
    characters and no ``..`` steps (raises :class:`ExcerptError` otherwise)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in path) or ".." in path.split("/"):
        raise ExcerptError(f"not a usable path in the reference: {path!r}")
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    if path.startswith("/"):
        return shlex.quote(path)
    raise ExcerptError(f"not an absolute path in the reference: {path!r}")


def excerpt_command(path: str, start: int, end: int) -> str:
    """The command printing bytes ``start`` up to ``end`` (excluded) of ``path`` (exit 2 and one
    line on stderr when the file cannot be read)."""
    start, end = int(start), int(end)
    if start < 0 or end < start or end - start > MAX_EXCERPT:
        raise ExcerptError(f"not a byte range the console reads back: {start}-{end}")
    word = remote_path(path)
    return (
        f"f={word}; "
        '[ -f "$f" ] && [ -r "$f" ] || { echo "no readable file $f" >&2; exit 2; }; '
        f'tail -c +{start + 1} -- "$f" | head -c {end - start}'
    )


@dataclass(frozen=True)
class Fetched:
    """The cited byte range as read back."""

    path: str
    """The file it was read from (the archived copy or the log)."""
    data: bytes
    matches: bool
    """True when the bytes still hash to the cited sha256."""
    tried: tuple[str, ...] = ()
    """One line for each file that could not be read first."""


async def _read(node: Node, path: str, start: int, end: int) -> bytes:
    chunks = []
    async for chunk in node.stream(excerpt_command(path, start, end)):
        chunks.append(chunk)
    data = b"".join(chunks)
    status = node.last_exit_status
    if not data and status not in (0, None):
        why = (node.last_stderr or "").strip().splitlines()
        raise ExcerptError(f"{path}: {why[-1] if why else f'exit status {status}'}")
    return data


async def fetch_cited(node: Node, citation: Citation) -> Fetched:
    """Read the cited bytes back from the node: from the archived copy, else from the log.

    Returns the first copy that still hashes to the cited sha256, or else the first copy that
    could be read (``matches`` False). Raises :class:`ExcerptError` when none can be read, and
    :class:`~redfix_tui.node.NodeError` when the node cannot be reached.
    """
    if citation.byte_range is None:
        raise ExcerptError(f"the reference to {citation.where} has no byte range to read back")
    start, end = citation.byte_range
    tried: list[str] = []
    first: Fetched | None = None
    for path in dict.fromkeys(p for p in (citation.archive, citation.path) if p):
        try:
            data = await _read(node, path, start, end)
        except ExcerptError as error:
            tried.append(str(error))
            continue
        matches = hashlib.sha256(data).hexdigest() == citation.sha256
        found = Fetched(path, data, matches, tuple(tried))
        if matches:
            return found
        first = first or found
    if first is not None:
        return first
    raise ExcerptError(
        f"cannot read the cited lines on {citation.node or 'the node'}: {'; '.join(tried)}"
    )


def read_local(citation: Citation) -> Fetched:
    """The cited bytes of a file on this machine (evidence from ``local:PATH``: no node)."""
    if citation.byte_range is None:
        raise ExcerptError(f"the reference to {citation.where} has no byte range to read back")
    start, end = citation.byte_range
    if end - start > MAX_EXCERPT:
        raise ExcerptError(f"not a byte range the console reads back: {start}-{end}")
    try:
        with open(citation.path, "rb") as handle:
            handle.seek(start)
            data = handle.read(end - start)
    except OSError as error:
        raise ExcerptError(f"cannot read {citation.path}: {error.strerror or error}") from None
    return Fetched(citation.path, data, hashlib.sha256(data).hexdigest() == citation.sha256)


def excerpt_title(citation: Citation, matches: bool) -> str:
    """The marker line above an excerpt read back: what it is, and whether it changed."""
    state = CHANGED.upper() if not matches else "unchanged since cited"
    run = f" · run {citation.run} {citation.started}".rstrip() if citation.run else ""
    return f"── cited {citation.span} of {citation.where}{run} · {state} ──"


def excerpt_spool(citation: Citation, fetched: Fetched) -> LogSpool:
    """A spool holding a marker line and the bytes read back (their file place recorded)."""
    spool = LogSpool()
    spool.path.unlink()  # the descriptor stays usable; nothing is left behind on disk
    spool.mark(excerpt_title(citation, fetched.matches))
    start = citation.byte_range[0] if citation.byte_range is not None else 0
    first_line = citation.line_range[0] if citation.line_range is not None else None
    record(spool, start, fetched.data, first_line)
    return spool
