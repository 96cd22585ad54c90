"""Load JUnit XML into the model: files and runs, local or fetched; never raising for bad content.

Each file is parsed in one streaming, hardened lxml pass (see :mod:`redfix_tui.junit.builder` and
:mod:`redfix_tui.junit.safe_xml`); captured output is capped (see :data:`OUTPUT_HEAD` /
:data:`OUTPUT_TAIL`), and a passing case's output is read only when asked for
(:func:`load_case_output`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from lxml import etree

from ..node_json import NodeJSONError, load_object
from ..runs.results import check_results
from .builder import ANY_NS_TAGS, Builder, pytest_test_id
from .model import UNKNOWN_STAGE, Case, JUnitFile, Run, split_junit_name
from .results import ERR, OUT, OUTPUT_HEAD, OUTPUT_TAIL, cap_output, local
from .safe_xml import PROLOG_WINDOW, XMLRejected, check_prolog, hardened_iterparse, one_line

__all__ = ["OUTPUT_HEAD", "OUTPUT_TAIL", "cap_output", "pytest_test_id"]

RESULTS_MAX = 16 * 1024 * 1024
"""A ``results.json`` larger than this is not read."""


def _parse(
    stream: IO[bytes], head: bytes, size: int, count_lines: Callable[[], int], jf: JUnitFile
):
    """Fill ``jf`` from ``stream``; on any problem set its one-line ``error`` instead."""
    builder = Builder()
    try:
        check_prolog(head, complete=size <= len(head))
        namespaced = builder.feed(stream)
        if namespaced is not None:
            stream.seek(0)
            builder = Builder()
            builder.feed(stream, ANY_NS_TAGS)
    except XMLRejected as exc:
        jf.suites = []
        if exc.truncated or (exc.line and exc.hints_truncation(count_lines())):
            jf.truncated = True
            where = f" at line {exc.line}" if exc.line else ""
            jf.error = exc.reason if exc.truncated else f"truncated{where}: still being written?"
        else:
            jf.error = exc.reason
        return
    except (MemoryError, RecursionError, OSError, ValueError) as exc:  # never escape
        jf.suites = []
        jf.error = one_line(f"could not read: {type(exc).__name__}: {exc}")
        return
    jf.suites = builder.suites
    jf.finish()


def _new_file(path: str, size: int, mtime: float | None) -> JUnitFile:
    """An empty :class:`JUnitFile` named after ``path``."""
    stage, source, test_file = split_junit_name(path)
    return JUnitFile(
        path=path,
        stage=stage or UNKNOWN_STAGE,
        source=source,
        test_file=test_file,
        size=size,
        mtime=mtime,
    )


def load_junit_bytes(path: str, data: bytes, *, mtime: float | None = None) -> JUnitFile:
    """Parse JUnit XML ``data`` (fetched from ``path``); never raises for bad content."""
    jf = _new_file(path, len(data), mtime)
    jf.data = data
    _parse(io.BytesIO(data), data[:PROLOG_WINDOW], len(data), lambda: data.count(b"\n") + 1, jf)
    return jf


def load_junit_file(path: str | os.PathLike[str]) -> JUnitFile:
    """Parse the local JUnit XML file at ``path``; never raises for bad content or I/O."""
    name = os.fspath(path)
    try:
        stat = os.stat(name)
        with open(name, "rb") as stream:
            head = stream.read(PROLOG_WINDOW)
            stream.seek(0)
            jf = _new_file(name, stat.st_size, stat.st_mtime)

            def count_lines() -> int:
                with open(name, "rb") as again:
                    return (
                        sum(chunk.count(b"\n") for chunk in iter(lambda: again.read(1 << 20), b""))
                        + 1
                    )

            _parse(stream, head, stat.st_size, count_lines, jf)
            return jf
    except OSError as exc:
        jf = _new_file(name, 0, None)
        jf.error = one_line(f"cannot open: {exc.strerror or exc}")
        return jf


def parse_results(data: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """Parse ``results.json`` defensively: ``(data, None)``, ``(None, one-line reason)``, or
    ``(data, note)`` when something in it had the wrong type and was dropped.

    Size, depth and number checks are :func:`redfix_tui.node_json.load_object`'s; the returned
    copy's fields have the types of schema 2 (see :func:`redfix_tui.runs.results.check_results`).
    """
    try:
        value, notes = load_object(data, "results.json", limit=RESULTS_MAX)
    except NodeJSONError as exc:
        return None, str(exc)
    clean, problems = check_results(value)
    problems[:0] = notes
    if not problems:
        return clean, None
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return clean, one_line(problems[0] + more)


def _stage_from_results(jf: JUnitFile, results: Mapping[str, Any] | None) -> None:
    """Give an unnamed file the stage whose results.json tests match its cases."""
    if jf.stage != UNKNOWN_STAGE or not results:
        return
    names = {case.name for case in jf.iter_cases()}
    for stage in results.get("stages") or []:
        if not isinstance(stage, dict) or not isinstance(stage.get("name"), str):
            continue
        tests = {t.get("name") for t in stage.get("tests") or [] if isinstance(t, dict)}
        if names and names & tests:
            jf.stage = stage["name"]
            return


def _finish_run(run: Run) -> Run:
    """Fill the recipe and unnamed stages from results.json."""
    if run.results:
        recipe = run.results.get("recipe")
        run.recipe = recipe if isinstance(recipe, str) else run.recipe
        for jf in run.files:
            _stage_from_results(jf, run.results)
    return run


def load_run_from_bytes(
    run_id: str,
    files: Mapping[str, bytes],
    results_json: bytes | None = None,
    *,
    mtimes: Mapping[str, float] | None = None,
) -> Run:
    """Build a run from fetched contents: ``{path: bytes}`` of its JUnit files and results.json."""
    run = Run(run_id=run_id)
    for path in sorted(files):
        mtime = (mtimes or {}).get(path)
        run.files.append(load_junit_bytes(path, files[path], mtime=mtime))
    if results_json is not None:
        run.results, run.results_error = parse_results(results_json)
    return _finish_run(run)


def junit_paths(directory: Path) -> list[Path]:
    """The JUnit XML files of a run directory (its ``junit/`` folder) or of a plain folder."""
    folder = directory / "junit" if (directory / "junit").is_dir() else directory
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xml" and p.is_file())


def load_run(path: str | os.PathLike[str]) -> Run:
    """Load a local run directory (``junit/`` and ``results.json``) or a folder of XML files."""
    directory = Path(path)
    run = Run(run_id=directory.name, directory=str(directory))
    results = directory / "results.json"
    if results.is_file():
        try:
            run.results, run.results_error = parse_results(results.read_bytes())
        except OSError as exc:
            run.results_error = one_line(f"results.json: {exc.strerror or exc}")
    run.files = [load_junit_file(p) for p in junit_paths(directory)]
    return _finish_run(run)


def changed_on_disk(jf: JUnitFile) -> bool:
    """Whether a local file's size or mtime differs from when it was read."""
    try:
        stat = os.stat(jf.path)
    except OSError:
        return jf.error is None
    return stat.st_size != jf.size or stat.st_mtime != jf.mtime


def reload_changed(run: Run) -> list[JUnitFile]:
    """Re-read the run's local files that changed on disk (e.g. a truncated file that grew).

    Files are replaced in ``run.files`` in place; new files in a run directory are added. Returns
    the files that were (re-)read.
    """
    reread: list[JUnitFile] = []
    for number, jf in enumerate(run.files):
        if changed_on_disk(jf):
            run.files[number] = fresh = load_junit_file(jf.path)
            reread.append(fresh)
    if run.directory and Path(run.directory).is_dir():
        known = {jf.path for jf in run.files}
        for p in junit_paths(Path(run.directory)):
            if str(p) not in known:
                fresh = load_junit_file(p)
                run.files.append(fresh)
                reread.append(fresh)
    _finish_run(run)
    return reread


def replace_file(run: Run, jf: JUnitFile) -> None:
    """Put ``jf`` in place of the run's file with the same path (or add it)."""
    for number, old in enumerate(run.files):
        if old.path == jf.path:
            run.files[number] = jf
            break
    else:
        run.files.append(jf)
    _finish_run(run)


def load_case_output(jf: JUnitFile, case: Case) -> tuple[str, str]:
    """Read a passing case's captured ``(stdout, stderr)`` again from its file (capped).

    Used for cases marked ``output_pending``; reads ``jf.data`` when the file came as bytes, else
    the local path. Returns ``("", "")`` when the file changed so that the case is gone.
    """
    try:
        source: IO[bytes] = (
            io.BytesIO(jf.data) if jf.data is not None else open(jf.path, "rb")  # noqa: SIM115
        )
    except OSError:
        return "", ""
    with source:
        seen = 0
        try:
            for _event, elem in hardened_iterparse(source, ("end",), ("testcase", "{*}testcase")):
                if seen == case.index:
                    out = "".join(c.text or "" for c in elem if local(c.tag) == OUT)
                    err = "".join(c.text or "" for c in elem if local(c.tag) == ERR)
                    return cap_output(out), cap_output(err)
                seen += 1
                elem.clear(keep_tail=False)
        except etree.XMLSyntaxError:
            pass
    return "", ""
