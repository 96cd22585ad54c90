"""Load JUnit XML into the model: streaming, hardened, never raising for a bad file.

The parser is one lxml ``iterparse`` pass over the hardened options of
:mod:`redfix_tui.junit.safe_xml`; each ``<testcase>`` is turned into a :class:`Case` when it
closes and its element is freed at once, so memory stays proportional to what the UI keeps
(captured output is capped, see :data:`OUTPUT_HEAD` / :data:`OUTPUT_TAIL`).
Element vocabulary comes from junitparser's classes (including its xunit2 flavour for Surefire's
``flakyFailure`` / ``rerunFailure``). Elements are read directly rather than wrapped in
junitparser objects: ``fromelem`` builds a throwaway element per call, and the per-case budget
(≤ 2× a plain iterparse pass, see benchmarks/bench_junit.py) leaves no room for that.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from junitparser import Error, Failure, Skipped, SystemErr, SystemOut
from junitparser.xunit2 import FlakyError, FlakyFailure, RerunError, RerunFailure, StackTrace
from lxml import etree

from .model import (
    UNKNOWN_STAGE,
    Case,
    JUnitFile,
    Outcome,
    Run,
    Status,
    Suite,
    split_junit_name,
)
from .safe_xml import (
    PROLOG_WINDOW,
    XMLRejected,
    check_prolog,
    hardened_iterparse,
    one_line,
    reject_doctype,
    rejected_from,
)

OUTPUT_HEAD = 48 * 1024
"""Characters kept from the start of long captured output."""
OUTPUT_TAIL = 16 * 1024
"""Characters kept from the end of long captured output."""
_CAP = OUTPUT_HEAD + OUTPUT_TAIL
RESULTS_MAX = 16 * 1024 * 1024
"""A ``results.json`` larger than this is not read."""

_FAILURE, _ERROR, _SKIPPED = Failure._tag, Error._tag, Skipped._tag
_OUT, _ERR, _STACK = SystemOut._tag, SystemErr._tag, StackTrace._tag
_PASSED = Status.PASSED
_FINAL_RANK = {_FAILURE: 0, _ERROR: 1, _SKIPPED: 2}
_PASSED = Status.PASSED
_FINAL_RANK = {_FAILURE: 0, _ERROR: 1, _SKIPPED: 2}
_FLAKY = frozenset({FlakyFailure._tag, FlakyError._tag})
_RERUN = frozenset({RerunFailure._tag, RerunError._tag})
_PY_LOCATION = re.compile(r"^([^\s:][^:\n]*\.py):(\d+): ", re.MULTILINE)
_JS_LOCATION = re.compile(r"\(file://([^:()\n]+):(\d+):\d+\)")


def cap_output(text: str, head: int = OUTPUT_HEAD, tail: int = OUTPUT_TAIL) -> str:
    """Keep the first ``head`` and last ``tail`` characters of ``text`` with a note between."""
    if len(text) <= head + tail:
        return text
    omitted = len(text) - head - tail
    return f"{text[:head]}\n… {omitted:,} characters omitted …\n{text[-tail:]}"


def _float(value: str | None) -> float | None:
    """Parse a time attribute leniently (``1,234.5`` and blanks allowed)."""
    if not value:
        return None
    try:
        return float(value.replace(",", ""))
    except ValueError:
        return None


def _local(tag: Any) -> str:
    """The local name of an element tag ("" for comments and processing instructions)."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def pytest_test_id(classname: str, name: str, file: str = "") -> str:
    """Rebuild pytest's node id from JUnit ``classname``/``name`` (and xunit1's ``file``)."""
    parts = classname.split(".") if classname else []
    if file.endswith(".py"):
        module = file[:-3].replace("/", ".")
        rest = classname[len(module) + 1 :] if classname.startswith(module + ".") else ""
        return "::".join(p for p in (file, *(rest.split(".") if rest else []), name) if p)
    cut = len(parts)
    while cut > 0 and parts[cut - 1][:1].isupper():
        cut -= 1
    module, classes = parts[:cut], parts[cut:]
    path = "/".join(module) + ".py" if module else ""
    return "::".join(p for p in (path, *classes, name) if p)


_TAGS = ("testsuites", "testsuite", "testcase")
_ANY_NS_TAGS = ("{*}testsuites", "{*}testsuite", "{*}testcase")


class _Builder:
    """Turns iterparse events into suites and cases, freeing elements as it goes."""

    def __init__(self) -> None:
        self.suites: list[Suite] = []
        self.stack: list[Suite] = []
        self.loose: Suite | None = None
        self.root_name = ""
        self.pytest = False
        self.count = 0
        self.bare = False
        self.ids: dict[tuple[str, str | None], tuple[str, str]] = {}
        self.located: bool | None = None

    def feed(self, source: IO[bytes], tags: tuple[str, ...] = _TAGS) -> str | None:
        """Parse ``source``; return the root's namespaced tag when a namespace hid every case."""
        parser = hardened_iterparse(source, ("start", "end"), tags)
        try:
            events = iter(parser)
            first = next(events, None)
            if first is None:
                return self._no_events(parser.root)
            event, elem = first
            reject_doctype(elem)
            if elem.getparent() is not None:
                root = elem.getroottree().getroot()
                self._root(_local(root.tag), root)
            self._handle(event, elem)
            handle, case, close_suite = self._handle, self._case, self._close_suite
            for event, elem in events:
                tag = elem.tag
                if event == "end":
                    if tag == "testcase":
                        case(elem)
                    elif tag == "testsuite":
                        close_suite(elem)
                    elif tag != "testsuites":
                        handle(event, elem)
                elif tag != "testcase":
                    handle(event, elem)
        except etree.XMLSyntaxError as exc:
            raise rejected_from(exc) from None
        return None

    def _no_events(self, root: Any) -> str | None:
        """No suite or case element at all: explain the root, or ask for a namespaced pass."""
        if root is None:
            raise XMLRejected("no XML element found")
        reject_doctype(root)
        local = _local(root.tag)
        if root.tag != local and local in _TAGS:
            return root.tag
        self._root(local, root)
        return None

    def _handle(self, event: str, elem: Any) -> None:
        """Handle an event that is not the end of a case or suite (the slow path)."""
        tag = _local(elem.tag)
        if event == "start":
            if elem.getparent() is None:
                self._root(tag, elem)
            if tag == "testsuite":
                self._open_suite(elem)
        elif tag == "testcase":
            self._case(elem)
        elif tag == "testsuite":
            self._close_suite(elem)

    def _root(self, tag: str, elem: Any) -> None:
        """Check the root element and remember its name."""
        if tag not in ("testsuites", "testsuite"):
            raise XMLRejected(f"root element <{one_line(tag, 40)}> is not <testsuites>/<testsuite>")
        self.root_name = elem.get("name", "")
        self.bare = tag == "testsuite"

    def _open_suite(self, elem: Any) -> None:
        """Start a suite, nested in the open one if any."""
        name = elem.get("name", "")
        if name == "pytest" or (self.root_name == "pytest tests" and not self.stack):
            self.pytest = True
        suite = Suite(name=name, time=_float(elem.get("time")))
        (self.stack[-1].suites if self.stack else self.suites).append(suite)
        self.stack.append(suite)

    def _close_suite(self, elem: Any) -> None:
        """Finish the innermost suite, keeping suite-level output, and free the element."""
        suite = self.stack.pop()
        for child in elem:
            if _local(child.tag) == _OUT and child.text:
                suite.stdout = cap_output(child.text)
        self._free(elem)

    def _free(self, elem: Any) -> None:
        """Clear ``elem`` and drop finished siblings before it."""
        elem.clear(keep_tail=False)
        parent = elem.getparent()
        if parent is not None:
            while elem.getprevious() is not None:
                del parent[0]

    def _case(self, elem: Any) -> None:
        """Build a case from a closed ``<testcase>`` element, then free the element.

        A passing case's captured output is not read (it is most of a big file): the case is
        marked ``output_pending`` and :func:`load_case_output` fetches it on demand.
        """
        final = flaky = None
        output = False
        reruns = 0
        for child in elem:
            tag = child.tag
            if tag.__class__ is not str or tag[:1] == "{":
                tag = _local(tag)
            if tag in (_OUT, _ERR):
                output = True
            elif tag in _FINAL_RANK:
                if final is None or _FINAL_RANK[tag] < _FINAL_RANK[_local(final.tag)]:
                    final = child
            elif tag in _FLAKY or tag in _RERUN:
                reruns += 1
                flaky = flaky if flaky is not None else child
        get = elem.get
        name = get("name") or ""
        classname = get("classname") or ""
        seconds = get("time")
        try:
            duration = float(seconds) if seconds else None
        except ValueError:
            duration = _float(seconds)
        if self.pytest:
            if self.located is None:  # xunit1 writes file/line on every case, xunit2 never
                self.located = get("file") is not None
            file = get("file") if self.located else None
            key = (classname, file)
            where = self.ids.get(key)
            if where is None:
                where = self.ids[key] = self._pytest_where(classname, file)
            test_id = f"{where[0]}::{name}" if where[0] else name
            line = get("line") if self.located else None
            number = int(line) + 1 if line and line.isdigit() else None
        if final is None and flaky is None:
            if self.pytest:
                case = Case(
                    name, classname, test_id, _PASSED, duration, where[1], number, self.count
                )
            else:
                case = Case(
                    name, classname, "", _PASSED, duration, get("file") or "", None, self.count
                )
                self._identify(case, get("line"))
            if output:
                case.output_pending = True
        else:
            case = self._notable(elem, final, flaky, reruns)
            case.time, case.index = duration, self.count
            if not self.pytest:
                self._identify(case, None)
            else:
                case.test_id = test_id
                if not case.file or case.status is Status.SKIPPED or case.status is Status.XFAIL:
                    case.file, case.line = where[1], number
        self.count += 1
        if self.stack:
            self.stack[-1].cases.append(case)
        else:
            if self.loose is None:
                self.loose = Suite(name=self.root_name or "(top level)")
                self.suites.insert(0, self.loose)
            self.loose.cases.append(case)
        elem.clear(keep_tail=False)

    @staticmethod
    def _pytest_where(classname: str, file: str | None) -> tuple[str, str]:
        """For a pytest classname (and xunit1 file): the node-id prefix and the test file."""
        prefix = pytest_test_id(classname, "", file or "")
        module = prefix.split("::", 1)[0]
        return prefix, file or (module if module.endswith(".py") else "")

    def _identify(self, case: Case, line: str | None) -> None:
        """Id and location of a non-pytest case (a ``file`` attribute ending .py means pytest)."""
        if line and line.isdigit() and case.line is None:
            case.line = int(line)
        if case.file.endswith(".py"):
            case.test_id = pytest_test_id(case.classname, case.name, case.file)
            return
        classname, name = case.classname, case.name
        prefix = classname if classname not in ("", name, "test") else self._suite_path()
        case.test_id = f"{prefix}::{name}" if prefix else name

    def _notable(self, elem: Any, final: Any, flaky: Any, reruns: int) -> Case:
        """A case that did not simply pass: read its result, traceback and output."""
        outs = [child for child in elem if _local(child.tag) == _OUT]
        errs = [child for child in elem if _local(child.tag) == _ERR]
        stdout = cap_output("".join(o.text or "" for o in outs))
        stderr = cap_output("".join(e.text or "" for e in errs))
        if final is None:
            final, status = flaky, Status.FLAKY
        else:
            tag = _local(final.tag)
            kind = final.get("type") or ""
            if tag == _FAILURE:
                status = Status.FAILED
            elif tag == _ERROR:
                status = Status.ERROR
            else:
                status = Status.XFAIL if kind == "pytest.xfail" else Status.SKIPPED
        message = final.get("message") or ""
        trace = final.text or ""
        if not trace.strip():
            stack = final.find(_STACK)
            trace = (stack.text or "") if stack is not None else ""
        trace = cap_output(trace.strip("\n"))
        if not message:
            message = _first_line(trace) or _last_line(stdout)
        file = elem.get("file") or ""
        line = elem.get("line")
        number = int(line) if line and line.isdigit() else None
        if status in (Status.FAILED, Status.ERROR, Status.FLAKY) and trace:
            location = self._location(trace)
            if location and (not file or location[0] == file):
                file, number = location
        outcome = Outcome(
            message,
            final.get("type") or "",
            trace,
            stdout,
            stderr,
            reruns,
            sum(len(o.text or "") for o in outs),
            sum(len(e.text or "") for e in errs),
        )
        name, classname = elem.get("name") or "", elem.get("classname") or ""
        return Case(name, classname, "", status, None, file, number, outcome=outcome)

    @staticmethod
    def _location(trace: str) -> tuple[str, int] | None:
        """Where a traceback says the failure happened (last pytest frame, or a JS frame)."""
        last = trace[trace.rfind("\n") + 1 :]
        found = _PY_LOCATION.match(last)
        if found:
            return found.group(1), int(found.group(2))
        matches = _PY_LOCATION.findall(trace[-8192:])
        if matches:
            return matches[-1][0], int(matches[-1][1])
        found = _JS_LOCATION.search(trace)
        return (found.group(1), int(found.group(2))) if found else None

    def _suite_path(self) -> str:
        """Names of the open suites, outermost first, for ids of non-pytest cases."""
        stack = self.stack[1:] if self.bare else self.stack
        return " > ".join(s.name for s in stack if s.name)


def _first_line(text: str) -> str:
    """The first non-blank line of ``text``, stripped."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _last_line(text: str) -> str:
    """The last non-blank line of ``text``, stripped."""
    for line in reversed(text.splitlines()):
        if line.strip():
            return line.strip()
    return ""


def _parse(
    stream: IO[bytes], head: bytes, size: int, count_lines: Callable[[], int], jf: JUnitFile
):
    """Fill ``jf`` from ``stream``; on any problem set its one-line ``error`` instead."""
    builder = _Builder()
    try:
        check_prolog(head, complete=size <= len(head))
        namespaced = builder.feed(stream)
        if namespaced is not None:
            stream.seek(0)
            builder = _Builder()
            builder.feed(stream, _ANY_NS_TAGS)
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
    """Parse ``results.json``: ``(data, None)`` or ``(None, one-line reason)``."""
    if len(data) > RESULTS_MAX:
        return None, f"results.json too large ({len(data):,} bytes)"
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None, "results.json: invalid UTF-8"
    except json.JSONDecodeError as exc:
        return None, one_line(f"results.json: {exc.msg} at line {exc.lineno}")
    except RecursionError:
        return None, "results.json: nested too deeply"
    if not isinstance(value, dict):
        return None, "results.json: not a JSON object"
    return value, None


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
                    out = "".join(c.text or "" for c in elem if _local(c.tag) == _OUT)
                    err = "".join(c.text or "" for c in elem if _local(c.tag) == _ERR)
                    return cap_output(out), cap_output(err)
                seen += 1
                elem.clear(keep_tail=False)
        except etree.XMLSyntaxError:
            pass
    return "", ""
