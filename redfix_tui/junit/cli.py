"""``redfix-tui junit PATH... [--json]``: summarise JUnit files or run directories for scripts.

Text: per stage its counts, then each failing case as ``file::name — message`` (unreadable files
with their reason). ``--json``: ``{"files": [{"path", "stage", "error", "cases", "failures",
"errors", "skipped", "flaky", "failed": [{"id", "message"}]}]}``. Exit status 0 when everything
was read and nothing failed, 1 when a test failed or errored, 2 when a file could not be read.
Node text never reaches the terminal raw: text lines go through :func:`~redfix_tui.safe_text.clean`,
JSON escapes DEL and C1 controls too.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from ..safe_text import clean
from .load import load_junit_file, load_run
from .model import JUnitFile, Run
from .safe_xml import one_line

_RAW_IN_JSON = re.compile(r"[\x7f-\x9f]")
"""What ``json.dumps(ensure_ascii=False)`` leaves raw but a terminal may obey (DEL, C1)."""

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    """The argument parser (``argv`` excludes the ``junit`` subcommand word)."""
    parser = argparse.ArgumentParser(
        prog="redfix-tui junit",
        description="Summarise JUnit XML files or run directories (junit/ + results.json).",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="JUnit file or run directory")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parser


def collect(paths: list[str]) -> list[Run]:
    """Load every path: a directory as a run, loose files together as one run."""
    runs: list[Run] = []
    loose = Run(run_id="files")
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            run = load_run(path)
            if not run.files:
                run.files.append(JUnitFile(path=raw, error="no JUnit XML files in this directory"))
            runs.append(run)
        else:
            loose.files.append(load_junit_file(path))
    if loose.files:
        runs.append(loose)
    return runs


def file_summary(jf: JUnitFile) -> dict[str, Any]:
    """One file in the ``--json`` shape."""
    counts = jf.counts
    return {
        "path": jf.path,
        "stage": jf.stage,
        "error": jf.error,
        "cases": counts.total,
        "failures": counts.failed,
        "errors": counts.errors,
        "skipped": counts.skipped + counts.xfail,
        "flaky": counts.flaky,
        "failed": [
            {"id": case.test_id or case.name, "message": case.message}
            for case in jf.iter_cases()
            if case.bad
        ],
    }


def exit_status(runs: list[Run]) -> int:
    """2 if a file could not be read, else 1 if a case failed or errored, else 0."""
    files = [jf for run in runs for jf in run.files]
    if any(jf.error is not None for jf in files):
        return EXIT_UNREADABLE
    return EXIT_FAILED if any(jf.counts.bad for jf in files) else EXIT_OK


def print_text(runs: list[Run], out: TextIO) -> None:
    """Write the per-stage summary of every run.

    Run ids, stages, paths, errors, test ids and messages come from the node: each goes through
    :func:`clean` on its own (so one value's escape cannot hide the next value), never raw.
    """
    for number, run in enumerate(runs):
        if number:
            out.write("\n")
        if len(runs) > 1 or run.directory:
            recipe = f" · {clean(run.recipe)}" if run.recipe else ""
            out.write(f"run {clean(run.run_id)}{recipe}\n")
        if run.results_error:
            out.write(f"  ? {clean(run.results_error)}\n")
        for stage in run.stages:
            verdict = run.stage_status(stage)
            counts = run.stage_counts(stage)
            summary = counts.summary() if run.files_in(stage) else "no JUnit file"
            shown = f" [{clean(verdict)}]" if verdict else ""
            out.write(f"{clean(stage)}{shown}: {summary}\n")
            for jf in run.files_in(stage):
                if jf.error is not None:
                    out.write(f"  ? {clean(jf.path)} — {clean(jf.error)}\n")
                for case in jf.iter_cases():
                    if case.bad:
                        message = (
                            one_line(clean(case.message, newlines=True), 300) or case.status.value
                        )
                        out.write(f"  {clean(case.test_id or case.name)} — {message}\n")


def json_text(data: object) -> str:
    """``data`` as indented JSON, non-ASCII kept, but DEL and C1 controls as ``\\u`` escapes.

    The values stay exact (a JSON reader gets the same strings back); only the characters a
    terminal could obey are escaped (json already escapes C0 controls).
    """
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def run(argv: list[str], out: TextIO | None = None) -> int:
    """Run the ``junit`` subcommand with ``argv`` (the words after ``junit``); return the status."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    runs = collect(args.paths)
    if args.json:
        files = [file_summary(jf) for r in runs for jf in r.files]
        out.write(json_text({"files": files}) + "\n")
    else:
        print_text(runs, out)
    return exit_status(runs)


def main() -> None:
    """Entry point for ``python -m redfix_tui.junit.cli``."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
