"""Reading many small files from the node in one command, whole and unambiguously framed.

``<dir>/*/<name>`` files (every run's ``results.json``, every recipe's ``canonical.json``) are
listed NUL-separated, newest first, and sent as frames: a header ``F <size> <path>`` ended by a
NUL, then exactly ``size`` bytes (``dd`` pads a file that shrank while being read with NULs and
never sends more than ``size``). A file over the size limit is sent as ``B <size> <path>`` with
no content. Names cannot hold a NUL and the content's length is announced before it, so neither a
file name (a newline in it, say) nor a file's content can forge a frame boundary.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from .node import NodeConnection
from .node_json import MAX_BYTES, size_text, too_big

MAX_FILES = 400
"""How many of the newest files are read on each refresh."""
BUDGET = 256 * 1024 * 1024
"""The most bytes one listing reads; newer files come first, the rest are reported as unread."""

_SEND = (
    'for e do t=${e#* }; n=${t%% *}; f=${t#* }; case $n in *[!0-9]*|"") continue;; esac; '
    'if [ "$n" -gt "$0" ]; then printf "B %s %s\\0" "$n" "$f"; continue; fi; '
    'printf "F %s %s\\0" "$n" "$f"; [ "$n" -gt 0 ] || continue; '
    'dd if="$f" bs="$n" count=1 iflag=fullblock conv=sync,noerror 2>/dev/null '
    '|| head -c "$n" /dev/zero; done'
)
"""Per file (``mtime size path``): the header, then exactly ``size`` bytes."""


@dataclass
class NodeFile:
    """One file as read: its path under the listed directory and its bytes (or why not)."""

    path: str
    size: int
    data: bytes | None
    """The content; None when the file was not read (``problem`` says why)."""
    problem: str = ""
    """Why it was not read, starting with its path (relative to the listed directory)."""


def listing_command(directory: str, name: str, *, limit: int = MAX_BYTES) -> str:
    """The command that sends ``<directory>/*/<name>`` as frames, newest first."""
    return (
        f"cd {shlex.quote(directory)} 2>/dev/null || exit 0; "
        f"find -L . -mindepth 2 -maxdepth 2 -name {shlex.quote(name)} -type f "
        "-printf '%T@ %s %P\\0' 2>/dev/null | sort -z -r -n | "
        f"head -z -n {MAX_FILES} | xargs -0 -r sh -c {shlex.quote(_SEND)} {int(limit)}"
    )


def parse_frames(data: bytes, *, limit: int = MAX_BYTES) -> list[NodeFile]:
    """Split :func:`listing_command`'s output into files (a cut-off last frame is reported)."""
    files: list[NodeFile] = []
    pos = 0
    while pos < len(data):
        end = data.find(b"\0", pos)
        if end < 0:
            break
        header = data[pos:end].decode("utf-8", errors="replace")
        kind, _, rest = header.partition(" ")
        size_word, _, path = rest.partition(" ")
        if kind not in ("F", "B") or not size_word.isdigit() or not path:
            raise ValueError(f"unexpected frame header {header[:60]!r}")
        size = int(size_word)
        pos = end + 1
        if kind == "B":
            files.append(NodeFile(path, size, None, too_big(path, size, limit)))
            continue
        content = data[pos : pos + size]
        pos += size
        if len(content) < size:
            files.append(NodeFile(path, size, None, f"{path}: cut off after {len(content)} bytes"))
            break
        files.append(NodeFile(path, size, content))
    return files


async def read_many(
    node: NodeConnection, directory: str, name: str, *, budget: int = BUDGET
) -> tuple[list[NodeFile], str]:
    """Read ``<directory>/*/<name>`` whole: ``(files, problem)``.

    ``problem`` is "" unless the listing went over ``budget`` bytes; the files read by then are
    still returned.
    """
    chunks: list[bytes] = []
    total = 0
    over = False
    async for chunk in node.stream(listing_command(directory, name)):
        chunks.append(chunk)
        total += len(chunk)
        if total > budget:
            over = True
            break
    files = parse_frames(b"".join(chunks))
    if over:
        files = [f for f in files if f.data is not None or "cut off" not in f.problem]
        return files, (
            f"{directory}: stopped after {size_text(budget)} of {name} files "
            f"({len(files)} read); older ones were not read"
        )
    return files, ""
