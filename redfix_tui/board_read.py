"""The board's data in one remote command per refresh: a framed stream, parsed locally.

:class:`RecipeSource.load` and :class:`RunControl.status` each describe the commands they need as
a :class:`Request`; requests made in the same event-loop turn (the board's refresh gathers both)
are merged into ONE shell script sent over ONE SSH channel. On the node the script runs every
section in parallel with its stdout, stderr and exit status kept in a private temporary
directory, runs the ``after`` sections once those are done (``ps`` needs the processes just
found), then prints each section as a header line ``<key> <status> <stdout bytes> <stderr
bytes>`` followed by exactly that many bytes, and a final ``end`` line. The lengths frame each
section, so nothing a section prints (a results.json, a process title) can forge a boundary.

Each section fails alone: its exit status and stderr come back with it, exactly as if it had run
on its own channel (a missing ``docker`` is a ``127`` in that section only).

Latest tags need the recipe names, which may come from a listing on the node: the tag template
is rendered with a placeholder name that the script replaces with a shell variable holding each
listed name, after the script has checked it against the recipe name rule.
"""

from __future__ import annotations

import asyncio
import shlex
import weakref
from dataclasses import dataclass, field
from typing import Any

from .node import CommandResult, NodeError, decode
from .node_read import BUDGET
from .shellcmd import validate_recipe

PLACEHOLDER = "redfix0recipe0placeholder"
"""The recipe name a tag template is rendered with; the script puts each listed name there."""
TIMEOUT_S = 60.0
"""The longest one board read may take before it is a command failure."""
KEEP = BUDGET
"""The most bytes of one section's stdout kept (a larger listing is cut and says so)."""
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class Section:
    """One section as read back: the command, its output and exit status."""

    command: str
    stdout: bytes
    stderr: bytes
    exit_status: int | None
    cut: bool = False
    """True when stdout was longer than the reader keeps (only its start is here)."""

    def result(self) -> CommandResult:
        """The section as a decoded :class:`CommandResult` (as ``NodeConnection.run`` gives)."""
        return CommandResult(
            self.command, decode(self.stdout), decode(self.stderr), self.exit_status
        )


@dataclass
class Request:
    """What one caller needs from the node in this refresh."""

    sections: dict[str, str] = field(default_factory=dict)
    """Commands run in parallel, by the caller's key."""
    after: dict[str, str] = field(default_factory=dict)
    """Commands run once every section above has finished (in parallel among themselves)."""
    tag_template: str = ""
    """The latest-tag command rendered with ``recipe`` = :data:`PLACEHOLDER` ("" for none)."""
    tag_names: list[str] | None = None
    """The recipes whose tags to read; None: the names the ``names`` section lists."""
    after_if: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """An ``after`` section runs only when one of these sections printed something (else it
    comes back empty, status 0)."""


@dataclass
class Reply:
    """One caller's sections by its keys, and its tags' sections by recipe."""

    sections: dict[str, Section]
    tags: dict[str, Section]


def _job(ident: str, command: str) -> str:
    """Shell lines running ``command`` with its outputs and status in ``$d/<ident>.*``.

    ``eval`` in a subshell: a command with a syntax error (a bad template) or an ``exit`` in it
    ends that section alone, and no extra shell is started for it.
    """
    return (
        f'( eval {shlex.quote(command)}\n) >"$d/{ident}.o" 2>"$d/{ident}.e" </dev/null; '
        f'echo $? >"$d/{ident}.rc"'
    )


def _tag_loop(ident: str, template: str, names_file: str | None, names: list[str]) -> str:
    """Shell lines starting one tag job per valid recipe name (from a listing or given)."""
    source = (
        f"tr '\\000' '\\n' <\"$d/{names_file}.o\""
        if names_file is not None
        else "printf '%s\\n' " + " ".join(shlex.quote(validate_recipe(n)) for n in names)
    )
    command = template.replace(PLACEHOLDER, '"$redfix_recipe"')
    return (
        f"{source} | sort -u | {{ while IFS= read -r redfix_recipe; do "
        f"case $redfix_recipe in ''|[!{_NAME_CHARS}]*|*[!{_NAME_CHARS}._-]*) continue;; esac; "
        '[ "${#redfix_recipe}" -le 63 ] || continue; '
        f"{{ {_job(f'{ident}.$redfix_recipe', command)}; }} & done; wait; }}"
    )


def build_script(requests: list[Request]) -> tuple[str, dict[str, tuple[int, str, str]]]:
    """The one command for ``requests``, and what each section key in its output stands for:
    ``{ident: (request index, caller key, command)}`` (tags are ``t<index>.<recipe>``)."""
    parallel: list[str] = []
    after: list[str] = []
    idents: dict[str, tuple[int, str, str]] = {}
    for index, request in enumerate(requests):
        by_key: dict[str, str] = {}
        for key, command in request.sections.items():
            ident = by_key[key] = f"s{len(idents)}"
            idents[ident] = (index, key, command)
            job = _job(ident, command)
            if key == "names" and request.tag_template and request.tag_names is None:
                loop = _tag_loop(f"t{index}", request.tag_template, ident, [])
                job = f"{job}; {loop}"
            parallel.append(f"{{ {job}; }} &")
        if request.tag_template and request.tag_names is not None:
            loop = _tag_loop(f"t{index}", request.tag_template, None, request.tag_names)
            parallel.append(f"{{ {loop}; }} &")
        for key, command in request.after.items():
            ident = f"s{len(idents)}"
            idents[ident] = (index, key, command)
            job = f"{{ {_job(ident, command)}; }} &"
            when = [by_key[k] for k in request.after_if.get(key, ()) if k in by_key]
            if when:
                test = " || ".join(f'[ -s "$d/{k}.o" ]' for k in when)
                job = (
                    f"if {test}; then {job} else "
                    f': >"$d/{ident}.o"; : >"$d/{ident}.e"; echo 0 >"$d/{ident}.rc"; fi'
                )
            after.append(job)
    script = "\n".join(
        [
            'd=$(mktemp -d 2>/dev/null) || { echo "cannot make a temporary directory" >&2; '
            "exit 97; }",
            "trap 'rm -rf \"$d\"' EXIT",
            "trap 'exit 143' HUP INT TERM",
            *parallel,
            "wait",
            *after,
            "wait",
            'cd "$d" || exit 97',
            "set -- *",
            'wc -c -- "$@"; echo ==; cat -- "$@"; echo end',
        ]
    )
    return script, idents


class FrameError(ValueError):
    """The framed stream is not what the script prints."""


def parse_frames(chunks: list[bytes] | bytes, keep: int = KEEP) -> dict[str, Section]:
    """Split the script's output into sections by key (``command`` left empty).

    The output is ``wc -c`` of every file the sections wrote (``<key>.o``, ``.e``, ``.rc``;
    names the script chose), a ``==`` line, the files' bytes in the same order, and ``end``.
    """
    data = chunks if isinstance(chunks, bytes) else b"".join(chunks)
    if data.startswith(b"==\n"):
        head, pos = b"", 3
    else:
        marker = data.find(b"\n==\n")
        if marker < 0:
            raise FrameError("the board read ended before its sections")
        head, pos = data[:marker], marker + 4
    files: list[tuple[str, int]] = []
    for line in head.decode("ascii", errors="replace").splitlines():
        size, _, name = line.strip().partition(" ")
        if not size.isdigit() or not name:
            raise FrameError(f"unexpected size line {line[:60]!r} in the board read")
        files.append((name, int(size)))
    if len(files) > 1 and files[-1][0] == "total":
        files.pop()
    parts: dict[str, dict[str, bytes]] = {}
    cut: set[str] = set()
    for name, length in files:
        if pos + length > len(data):
            raise FrameError(f"{name[:40]!r} of the board read is cut off")
        key, _, kind = name.rpartition(".")
        if kind in ("o", "e", "rc"):
            parts.setdefault(key, {})[kind] = data[pos : pos + min(length, keep)]
            if length > keep and kind == "o":
                cut.add(key)
        pos += length
    if data[pos:] != b"end\n":
        raise FrameError("the board read did not end where its sizes say")
    sections = {}
    for key, part in parts.items():
        status = part.get("rc", b"").strip()
        exit_status = int(status) if status.isdigit() else None
        sections[key] = Section(
            "", part.get("o", b""), part.get("e", b""), exit_status, cut=key in cut
        )
    return sections


class BoardReader:
    """Merges the requests made in one event-loop turn into one remote command."""

    def __init__(self, node: Any) -> None:
        self.node = node
        self.reads = 0
        """Remote commands sent (each is one SSH channel and one round trip)."""
        self._pending: list[tuple[Request, asyncio.Future[Reply]]] = []

    async def read(self, request: Request) -> Reply:
        """The sections of ``request``; raise :class:`NodeError` when the read itself fails."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reply] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((request, future))
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _send(self, batch: list[tuple[Request, asyncio.Future[Reply]]]) -> None:
        requests = [request for request, _ in batch]
        try:
            replies = await self._run(requests)
        except BaseException as exc:  # every waiting caller gets the failure
            for _, future in batch:
                if not future.done():
                    if isinstance(exc, asyncio.CancelledError):
                        future.cancel()
                    else:
                        future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), reply in zip(batch, replies, strict=True):
            if not future.done():
                future.set_result(reply)

    async def _run(self, requests: list[Request]) -> list[Reply]:
        script, idents = build_script(requests)
        self.reads += 1
        chunks: list[bytes] = []
        try:
            async with asyncio.timeout(TIMEOUT_S):
                async for chunk in self.node.stream(script):
                    chunks.append(chunk)
        except TimeoutError:
            raise NodeError(
                f"reading the board took longer than {TIMEOUT_S:g}s", kind="command"
            ) from None
        if getattr(self.node, "last_exit_status", 0) == 97:
            reason = decode(getattr(self.node, "last_stderr", "")).strip() or "failed"
            raise NodeError(f"reading the board failed: {reason}", kind="command")
        try:
            frames = parse_frames(chunks)
        except FrameError as exc:
            raise NodeError(str(exc), kind="command") from None
        replies = [Reply({}, {}) for _ in requests]
        for key, section in frames.items():
            if key in idents:
                index, caller_key, command = idents[key]
                section.command = command
                replies[index].sections[caller_key] = section
                continue
            prefix, _, recipe = key.partition(".")
            if prefix.startswith("t") and prefix[1:].isdigit() and int(prefix[1:]) < len(replies):
                index = int(prefix[1:])
                template = requests[index].tag_template
                section.command = template.replace(PLACEHOLDER, recipe)
                replies[index].tags[recipe] = section
        return replies


_READERS: weakref.WeakKeyDictionary[Any, BoardReader] = weakref.WeakKeyDictionary()


def board_reader(node: Any) -> BoardReader:
    """The one :class:`BoardReader` of ``node`` (shared by its recipe source and run control)."""
    reader = _READERS.get(node)
    if reader is None:
        reader = _READERS[node] = BoardReader(node)
    return reader
