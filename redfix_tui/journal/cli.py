"""``redfix-tui journal …`` subcommands: ``add`` and ``list``.

The main CLI resolves ``--journal`` / ``--phase`` / config and calls :func:`run` with the
arguments after ``journal``::

    journal add --title TITLE [--body-file F | -]   append an entry stamped now (UTC)
    journal list                                    print the entry headings
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from redfix_tui.journal.store import JournalError, JournalStore


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for the ``journal`` subcommands."""
    parser = argparse.ArgumentParser(prog="redfix-tui journal", description="The phase journal.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{add,list}")
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
            if not store.real_path.exists():
                print(f"redfix-tui journal: {journal_path} does not exist yet", file=stderr)
                return 1
            for entry in store.load().entries:
                print(entry.heading, file=stdout)
            return 0
        title = " ".join(args.title.split())
        if not title:
            print("redfix-tui journal add: --title must not be empty", file=stderr)
            return 2
        if args.stdin and args.body_file:
            print("redfix-tui journal add: give --body-file F or -, not both", file=stderr)
            return 2
        body = _read_body(args.body_file, args.stdin, stdin)
        store.load()
        result = store.append(title, body, when=now())
    except JournalError as exc:
        print(f"redfix-tui journal: {exc}", file=stderr)
        return 1
    except OSError as exc:
        print(f"redfix-tui journal: {exc}", file=stderr)
        return 1
    print(result.entry.heading, file=stdout)
    return 0


def _read_body(body_file: str | None, from_stdin: bool, stdin: TextIO) -> str:
    if from_stdin or body_file == "-":
        return stdin.read()
    if body_file:
        return Path(body_file).read_text(encoding="utf-8")
    return ""
