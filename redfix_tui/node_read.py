"""Reading many small files from the node in one command, whole and unambiguously framed.

``<dir>/*/<name>`` files (every run's ``results.json``, every recipe's ``canonical.json``) are
sent in one stream: first the files over the size limit as ``B <size> <path>`` records, each
ended by a NUL, then an empty record, then a tar archive of the others, newest first. Names
cannot hold a NUL and tar frames each file by its size, so neither a file name (a newline in it,
say) nor a file's content can forge a boundary; GNU tar pads a file that shrank while being read
with NULs and never sends more of one that grew than its header says.
"""

from __future__ import annotations

import io
import shlex
import tarfile
from dataclasses import dataclass

from .node_api import Node
from .node_json import MAX_BYTES, size_text, too_big

MAX_FILES = 400
"""How many of the newest files are read on each refresh."""
BUDGET = 256 * 1024 * 1024
"""The most bytes one listing reads; newer files come first, the rest are reported as unread."""


@dataclass
class NodeFile:
    """One file as read: its path under the listed directory and its bytes (or why not)."""

    path: str
    size: int
    data: bytes | None
    """The content; None when the file was not read (``problem`` says why)."""
    problem: str = ""
    """Why it was not read, starting with its path (relative to the listed directory)."""


def listing_command(
    directory: str,
    name: str,
    *,
    limit: int = MAX_BYTES,
    depth: int = 2,
    max_files: int = MAX_FILES,
) -> str:
    """The command that sends ``<directory>/*/<name>``: big files' records, then a tar.

    ``depth`` 3 sends ``<directory>/*/*/<name>``; ``max_files`` caps each part (newest first).
    """
    find = (
        f"find -L . -mindepth {int(depth)} -maxdepth {int(depth)} -name {shlex.quote(name)} "
        "-type f -size {size}c -printf {format} 2>/dev/null"
    )
    return (
        f"cd {shlex.quote(directory)} 2>/dev/null || exit 0; "
        + find.format(size=f"+{int(limit)}", format="'B %s %P\\0'")
        + f" | head -z -n {int(max_files)}; printf '\\0'; "
        + find.format(size=f"-{int(limit) + 1}", format="'%T@ %P\\0'")
        + f" | sort -z -r -n | head -z -n {int(max_files)} | cut -z -d ' ' -f 2- "
        "| tar -c -f - --null --no-recursion -T - 2>/dev/null"
    )


def parse_listing(data: bytes, *, limit: int = MAX_BYTES) -> tuple[list[NodeFile], str]:
    """Split :func:`listing_command`'s output into files: ``(files, problem)``.

    ``problem`` is "" unless the stream ended early (the files read by then are returned).
    """
    files: list[NodeFile] = []
    pos = 0
    while True:
        end = data.find(b"\0", pos)
        if end < 0:
            return files, "the listing ended before its archive" if data else ""
        record = data[pos:end].decode("utf-8", errors="replace")
        pos = end + 1
        if not record:
            break
        kind, _, rest = record.partition(" ")
        size_word, _, path = rest.partition(" ")
        if kind != "B" or not size_word.isdigit() or not path:
            return files, f"unexpected record {record[:60]!r} in the listing"
        files.append(NodeFile(path, int(size_word), None, too_big(path, int(size_word), limit)))
    try:
        with tarfile.open(fileobj=io.BytesIO(data[pos:]), mode="r|") as archive:
            for member in archive:
                if member.isfile() and (stream := archive.extractfile(member)) is not None:
                    files.append(NodeFile(member.name, member.size, stream.read()))
    except (tarfile.TarError, EOFError, ValueError) as exc:  # ValueError: a name not decodable
        return files, f"the listing's archive is cut off ({exc})"
    return files, ""


async def read_many(
    node: Node, directory: str, name: str, *, budget: int = BUDGET
) -> tuple[list[NodeFile], str]:
    """Read ``<directory>/*/<name>`` whole: ``(files, problem)``.

    ``problem`` is "" unless the listing went over ``budget`` bytes or came cut off; the files
    read by then are still returned.
    """
    chunks: list[bytes] = []
    total = 0
    async for chunk in node.stream(listing_command(directory, name)):
        chunks.append(chunk)
        total += len(chunk)
        if total > budget:
            files, _ = parse_listing(b"".join(chunks)[:budget])
            return files, (
                f"{directory}: stopped after {size_text(budget)} of {name} files "
                f"({len(files)} read); older ones were not read"
            )
    files, problem = parse_listing(b"".join(chunks))
    return files, f"{directory}: {problem}" if problem else ""


def listing_files(
    directory: str, name: str, data: bytes, *, cut: bool = False, budget: int = BUDGET
) -> tuple[list[NodeFile], str]:
    """:func:`listing_command`'s output read by someone else (the board read): ``(files,
    problem)`` as :func:`read_many` gives; ``cut`` says the output went over ``budget``."""
    if cut or len(data) > budget:
        files, _ = parse_listing(data[:budget])
        return files, (
            f"{directory}: stopped after {size_text(budget)} of {name} files "
            f"({len(files)} read); older ones were not read"
        )
    files, problem = parse_listing(data)
    return files, f"{directory}: {problem}" if problem else ""
