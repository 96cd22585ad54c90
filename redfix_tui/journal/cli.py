"""``redfix-tui journal …`` subcommands: ``add``, ``list`` and ``unflatten``.

The main CLI resolves ``--journal`` / ``--phase`` / config and calls :func:`run` with the
arguments after ``journal``::

    journal add --title TITLE [--body-file F | -]   append an entry stamped now (UTC)
    journal list                                    print the entry headings
    journal unflatten [PATH]                        write the recovered copy of a journal that
                                                    lost its line breaks beside it

A body must be UTF-8, from a file or from standard input alike: other bytes are refused with the
offset of the first bad byte, and nothing is written. Body lines that would start a heading are
escaped (see :mod:`~redfix_tui.journal.bodytext`); ``add`` says so on standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from redfix_tui.journal.bodytext import heading_lines
from redfix_tui.journal.errors import JournalError
from redfix_tui.journal.fileops import fsync_dir, read_snapshot, write_temp
from redfix_tui.journal.flattened import (
    flattened_entries,
    flattened_message,
    unflatten,
    unflattened_path,
)
from redfix_tui.journal.store import JournalStore, decode, encode


class BodyError(Exception):
    """The body could not be read or is not UTF-8; the message names the source."""


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for the ``journal`` subcommands."""
    parser = argparse.ArgumentParser(prog="redfix-tui journal", description="The phase journal.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{add,list,unflatten}")
    add = sub.add_parser("add", help="append an entry stamped now (UTC)")
    add.add_argument("--title", required=True, help="the entry title")
    add.add_argument(
        "--body-file",
        metavar="F",
        help="read the Markdown body from F (`-` for standard input)",
    )
    add.add_argument(
        "stdin", nargs="?", choices=["-"], metavar="-", help="read the body from standard input"
    )
    sub.add_parser("list", help="print the entry headings")
    unflat = sub.add_parser(
        "unflatten", help="write the recovered copy of a journal that lost its line breaks"
    )
    unflat.add_argument("path", nargs="?", metavar="PATH", help="default: the journal")
    return parser


def run(
    argv: list[str],
    *,
    journal_path: Path,
    phase: str,
    now: Callable[[], datetime] = utc_now,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run a ``journal`` subcommand; return the exit status (0 ok, 1 failed, 2 bad usage)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    store = JournalStore(journal_path, phase)
    try:
        if args.command == "list":
            return _list(store, journal_path, stdout, stderr)
        if args.command == "unflatten":
            return _unflatten(Path(args.path) if args.path else journal_path, stdout, stderr)
        title = " ".join(args.title.split())
        if not title:
            print("redfix-tui journal add: --title must not be empty", file=stderr)
            return 2
        if args.stdin and args.body_file:
            print("redfix-tui journal add: give --body-file F or -, not both", file=stderr)
            return 2
        body = read_body(args.body_file, args.stdin, stdin)
        store.load()
        result = store.append(title, body, when=now())
    except BodyError as exc:
        print(f"redfix-tui journal add: {exc}; nothing written", file=stderr)
        return 1
    except (JournalError, OSError) as exc:
        print(f"redfix-tui journal: {exc}", file=stderr)
        return 1
    for note in result.notes:
        print(f"redfix-tui journal add: {note}", file=stderr)
    escaped = heading_lines(body)
    if escaped:
        print(
            f"redfix-tui journal add: {len(escaped)} body line(s) that would start a heading "
            f"were written with a backslash in front, first: {escaped[0]}",
            file=stderr,
        )
    print(result.entry.heading, file=stdout)
    return 0


def _list(store: JournalStore, journal_path: Path, stdout: TextIO, stderr: TextIO) -> int:
    if not store.real_path.exists():
        print(f"redfix-tui journal: {journal_path} does not exist yet", file=stderr)
        return 1
    journal = store.load()
    flattened = flattened_message(journal_path, journal.text)
    if flattened:
        print(f"redfix-tui journal: {flattened}", file=stderr)
        return 1
    for entry in journal.entries:
        print(entry.heading, file=stdout)
    return 0


def _unflatten(path: Path, stdout: TextIO, stderr: TextIO) -> int:
    """Write the recovered copy of ``path`` beside it; never in place, never over a file."""
    snapshot = read_snapshot(path)
    if snapshot is None:
        print(f"redfix-tui journal unflatten: {path} does not exist", file=stderr)
        return 1
    text = decode(snapshot.data)
    count = flattened_entries(text)
    if not count:
        print(
            f"redfix-tui journal unflatten: {path} has its line breaks (it is not a flattened "
            "copy); nothing written",
            file=stderr,
        )
        return 1
    target = unflattened_path(path)
    tmp, _ = write_temp(target, encode(unflatten(text)))
    try:
        os.link(tmp, target)
    except FileExistsError:
        print(
            f"redfix-tui journal unflatten: {target} already exists; nothing written "
            "(move it away to write a new one)",
            file=stderr,
        )
        return 1
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(target.parent)
    print(f"wrote {target} ({count} entries); check it, then replace {path} with it", file=stdout)
    return 0


def read_body(body_file: str | None, from_stdin: bool, stdin: TextIO) -> str:
    """The body from ``body_file`` or standard input; :class:`BodyError` unless UTF-8."""
    if from_stdin or body_file == "-":
        binary: BinaryIO | None = getattr(stdin, "buffer", None)
        if binary is None:  # a text stream given by a caller (tests): already decoded
            return stdin.read()
        return _decode_body(binary.read(), "standard input")
    if body_file:
        try:
            data = Path(body_file).read_bytes()
        except OSError as exc:
            raise BodyError(f"cannot read --body-file {body_file}: {exc.strerror or exc}") from exc
        return _decode_body(data, body_file)
    return ""


def _decode_body(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise BodyError(
            f"the body from {source} is not UTF-8 (byte 0x{bad} at offset {exc.start}); "
            "convert it first, e.g. iconv -f latin1 -t utf-8"
        ) from None
