"""Turn one hardened ``iterparse`` pass over a JUnit document into suites and cases.

Only *end* events are asked for, and only for the elements that matter: suites, cases and the
result elements (``<failure>``, ``<error>``, ``<skipped>``, Surefire's flaky/rerun entries, in any
namespace). A case is built when its element closes and the element is freed at once. Cases are
grouped by their parent element: a run of cases under the same parent costs one ``getparent()``
each, and the suite that holds them (the nearest ``<testsuite>`` ancestor, created on first use
with its own ancestors) is looked up only when the parent changes. A result event before a case
closes marks that case as notable; every other case is a pass and takes the fast path, which
reads three attributes and never walks its children (its captured output is read on demand, see
:func:`redfix_tui.junit.load.load_case_output`).

Element vocabulary comes from junitparser's classes (including its xunit2 flavour). Elements are
read directly rather than wrapped in junitparser objects: ``fromelem`` builds a throwaway element
per call, and the per-case budget (≤ 2× a plain iterparse pass, see benchmarks/bench_junit.py)
leaves no room for that.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import IO, Any

from junitparser import Error, Failure, Skipped, SystemErr, SystemOut
from junitparser.xunit2 import FlakyError, FlakyFailure, RerunError, RerunFailure, StackTrace
from lxml import etree

from .model import Case, Outcome, Status, Suite
from .safe_xml import XMLRejected, hardened_iterparse, one_line, reject_doctype, rejected_from

OUTPUT_HEAD = 48 * 1024
"""Characters kept from the start of long captured output."""
OUTPUT_TAIL = 16 * 1024
"""Characters kept from the end of long captured output."""

OUT, ERR = SystemOut._tag, SystemErr._tag
_FAILURE, _ERROR, _SKIPPED, _STACK = Failure._tag, Error._tag, Skipped._tag, StackTrace._tag
_PASSED = Status.PASSED
_FINAL_RANK = {_FAILURE: 0, _ERROR: 1, _SKIPPED: 2}
_FLAKY = frozenset({FlakyFailure._tag, FlakyError._tag})
_RERUN = frozenset({RerunFailure._tag, RerunError._tag})
_RESULTS = (*_FINAL_RANK, *sorted(_FLAKY), *sorted(_RERUN))
_PY_LOCATION = re.compile(r"^([^\s:][^:\n]*\.py):(\d+): ", re.MULTILINE)
_JS_LOCATION = re.compile(r"\(file://([^:()\n]+):(\d+):\d+\)")

CONTAINERS = ("testsuites", "testsuite", "testcase")
"""The structural elements, by local name."""
TAGS = (*CONTAINERS, *(f"{{*}}{tag}" for tag in _RESULTS))
"""Event filter of the first pass: un-namespaced structure, result elements in any namespace."""
ANY_NS_TAGS = tuple(f"{{*}}{tag}" for tag in (*CONTAINERS, *_RESULTS))
"""Event filter of the second pass, for documents whose structure is namespaced."""


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


def local(tag: Any) -> str:
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


def _has_output(elem: Any) -> bool:
    """Whether a case element has ``<system-out>``/``<system-err>`` children (first one checked
    without a scan: that is where runners put it when there is no result element)."""
    if not len(elem):
        return False
    tag = elem[0].tag
    if tag in (OUT, ERR):
        return True
    return any(local(child.tag) in (OUT, ERR) for child in elem)


class Builder:
    """Turns end events into suites and cases, freeing elements as it goes."""

    def __init__(self) -> None:
        self.suites: list[Suite] = []
        self.open: dict[Any, tuple[Suite, str]] = {}
        """Suite elements seen but not closed → their suite and path (for non-pytest ids)."""
        self.loose: Suite | None = None
        self.root_name = ""
        self.pytest = False
        self.count = 0
        self.bare = False
        self.namespaced = False
        self.path = ""
        """Suite path of the cases being read (open suites' names, outermost first)."""
        self.ids: dict[tuple[str, str | None], tuple[str, str]] = {}
        self.located: bool | None = None
        """Whether this pytest file is xunit1 (file/line on every case); None until a case."""
        self.in_case = False
        """The cases being read sit inside another ``<testcase>`` (never in real output)."""

    def feed(self, source: IO[bytes], tags: tuple[str, ...] = TAGS) -> str | None:
        """Parse ``source``; return the root's namespaced tag when a namespace hid every case."""
        self.namespaced = tags is ANY_NS_TAGS
        parser = hardened_iterparse(source, ("end",), tags)
        try:
            events = iter(parser)
            first = next(events, None)
            if first is None:
                return self._no_events(parser.root)
            reject_doctype(first[1])
            root = first[1].getroottree().getroot()
            self._root(local(root.tag), root)
            seen = self._consume(chain((first,), events))
        except etree.XMLSyntaxError as exc:
            raise rejected_from(exc) from None
        if not seen and not self.namespaced and root.tag != local(root.tag):
            return root.tag  # only namespaced result elements matched: read the structure again
        return None

    def _consume(self, events: Any) -> bool:
        """Handle every event; return whether any suite or case element was seen.

        The common case, a passing pytest case, is built inline: attribute reads, one look at
        its first child for captured output, and the node id from a per-classname cache.
        """
        namespaced = self.namespaced
        notable = seen = False
        parent = cases = None
        fast = False
        last_classname, prefix, file = None, "", ""
        passed = _PASSED
        for _event, elem in events:
            tag = elem.tag
            if namespaced:
                tag = tag.rpartition("}")[2]
            if tag == "testcase":
                up = elem.getparent()
                if up is not parent:
                    parent, cases = up, self._home(up)
                    fast = self.pytest and not self.in_case and self.located is False
                if notable or not fast:
                    cases.append(self._case(elem, notable))
                    notable = notable and self.in_case  # an enclosing case may own the result
                    fast = self.pytest and not self.in_case and self.located is False
                else:
                    get = elem.get
                    name = get("name") or ""
                    classname = get("classname") or ""
                    seconds = get("time")
                    try:
                        duration = float(seconds) if seconds else None
                    except ValueError:
                        duration = _float(seconds)
                    if classname != last_classname:
                        last_classname, (prefix, file) = classname, self._where(classname, None)
                    output = False
                    if len(elem):
                        first = elem[0].tag
                        output = first in (OUT, ERR) or _has_output(elem)
                    index = self.count
                    self.count = index + 1
                    test_id = f"{prefix}::{name}" if prefix else name
                    cases.append(
                        Case(name, classname, test_id, passed, duration, file, None, index, output)
                    )
                elem.clear(keep_tail=False)
            elif tag == "testsuite":
                self._close_suite(elem)
                seen = True
            elif tag == "testsuites":
                seen = True
            else:  # a result element: the case it is in (if any) did not simply pass
                notable = True
        return seen or bool(self.count)

    def _no_events(self, root: Any) -> str | None:
        """No suite or case element at all: explain the root, or ask for a namespaced pass."""
        if root is None:
            raise XMLRejected("no XML element found")
        reject_doctype(root)
        tag = local(root.tag)
        if root.tag != tag and tag in CONTAINERS:
            return root.tag
        self._root(tag, root)
        return None

    def _root(self, tag: str, elem: Any) -> None:
        """Check the root element and remember its name."""
        if tag not in ("testsuites", "testsuite"):
            raise XMLRejected(f"root element <{one_line(tag, 40)}> is not <testsuites>/<testsuite>")
        self.root_name = elem.get("name", "")
        self.bare = tag == "testsuite"

    def _is_suite(self, elem: Any) -> bool:
        """Whether ``elem`` is a suite element of this pass."""
        return (local(elem.tag) if self.namespaced else elem.tag) == "testsuite"

    def _home(self, parent: Any) -> list[Case]:
        """The case list for cases whose parent element is ``parent`` (sets :attr:`path`).

        That is the nearest enclosing suite's, or the file's top-level suite for cases outside
        any suite (Node's reporter puts them directly under ``<testsuites>``).
        """
        self.in_case = False
        while parent is not None and not self._is_suite(parent):
            self.in_case = self.in_case or local(parent.tag) == "testcase"
            parent = parent.getparent()
        if parent is not None:
            suite, self.path = self._suite(parent)
            return suite.cases
        self.path = ""
        if self.loose is None:
            self.loose = Suite(name=self.root_name or "(top level)")
            self.suites.insert(0, self.loose)
        return self.loose.cases

    def _suite(self, elem: Any) -> tuple[Suite, str]:
        """The suite of suite element ``elem`` and its path, made (after its ancestors) if new.

        Suites are made in document order of their start tags, since a suite is made before
        anything inside it is handled, so siblings keep their order.
        """
        entry = self.open.get(elem)
        if entry is not None:
            return entry
        up = elem.getparent()
        while up is not None and not self._is_suite(up):
            up = up.getparent()
        name = elem.get("name", "")
        if up is None:
            self.pytest = self.pytest or name == "pytest" or self.root_name == "pytest tests"
            siblings, path = self.suites, "" if self.bare else name
        else:
            outer, outer_path = self._suite(up)
            self.pytest = self.pytest or name == "pytest"
            siblings = outer.suites
            path = f"{outer_path} > {name}" if outer_path and name else outer_path or name
        suite = Suite(name=name, time=_float(elem.get("time")))
        siblings.append(suite)
        self.open[elem] = entry = (suite, path)
        return entry

    def _close_suite(self, elem: Any) -> None:
        """Finish a suite (made now if it held no case), keep suite-level output, free it."""
        suite = self._suite(elem)[0]
        del self.open[elem]
        for child in elem.iterchildren(f"{{*}}{OUT}"):
            if child.text:
                suite.stdout = cap_output(child.text)
        elem.clear(keep_tail=False)
        parent = elem.getparent()
        if parent is not None:
            while elem.getprevious() is not None:
                del parent[0]

    def _case(self, elem: Any, notable: bool) -> Case:
        """Build a case from a closed ``<testcase>`` element (freed by the caller).

        A passing case's captured output is not read (it is most of a big file): the case is
        marked ``output_pending``. ``notable`` says a result element closed since the last case,
        so the children are scanned for the case's result.
        """
        final = flaky = None
        reruns = 0
        if notable:
            output = False
            for child in elem:
                tag = child.tag
                if tag.__class__ is not str or tag[:1] == "{":
                    tag = local(tag)
                if tag in (OUT, ERR):
                    output = True
                elif tag in _FINAL_RANK:
                    if final is None or _FINAL_RANK[tag] < _FINAL_RANK[local(final.tag)]:
                        final = child
                elif tag in _FLAKY or tag in _RERUN:
                    reruns += 1
                    flaky = flaky if flaky is not None else child
        else:
            output = _has_output(elem)
        get = elem.get
        name = get("name") or ""
        classname = get("classname") or ""
        seconds = get("time")
        try:
            duration = float(seconds) if seconds else None
        except ValueError:
            duration = _float(seconds)
        index = self.count
        self.count = index + 1
        if self.pytest:
            if self.located is None:  # xunit1 writes file/line on every case, xunit2 never
                self.located = get("file") is not None
            file = get("file") if self.located else None
            where = self._where(classname, file)
            test_id = f"{where[0]}::{name}" if where[0] else name
            line = get("line") if self.located else None
            number = int(line) + 1 if line and line.isdigit() else None
            if final is None and flaky is None:
                return Case(
                    name, classname, test_id, _PASSED, duration, where[1], number, index, output
                )
            case = self._notable(elem, final, flaky, reruns)
            case.test_id, case.time, case.index = test_id, duration, index
            if not case.file or case.status is Status.SKIPPED or case.status is Status.XFAIL:
                case.file, case.line = where[1], number
            return case
        if final is None and flaky is None:
            case = Case(
                name, classname, "", _PASSED, duration, get("file") or "", None, index, output
            )
            self._identify(case, get("line"))
            return case
        case = self._notable(elem, final, flaky, reruns)
        case.time, case.index = duration, index
        self._identify(case, None)
        return case

    def _where(self, classname: str, file: str | None) -> tuple[str, str]:
        """For a pytest classname (and xunit1 file): the node-id prefix and the test file."""
        where = self.ids.get((classname, file))
        if where is None:
            where = self.ids[classname, file] = _pytest_where(classname, file)
        return where

    def _identify(self, case: Case, line: str | None) -> None:
        """Id and location of a non-pytest case (a ``file`` attribute ending .py means pytest)."""
        if line and line.isdigit() and case.line is None:
            case.line = int(line)
        if case.file.endswith(".py"):
            case.test_id = pytest_test_id(case.classname, case.name, case.file)
            return
        classname, name = case.classname, case.name
        prefix = classname if classname not in ("", name, "test") else self.path
        case.test_id = f"{prefix}::{name}" if prefix else name

    def _notable(self, elem: Any, final: Any, flaky: Any, reruns: int) -> Case:
        """A case that did not simply pass: read its result, traceback and output."""
        outs = [child for child in elem if local(child.tag) == OUT]
        errs = [child for child in elem if local(child.tag) == ERR]
        stdout = cap_output("".join(o.text or "" for o in outs))
        stderr = cap_output("".join(e.text or "" for e in errs))
        if final is None:
            final, status = flaky, Status.FLAKY
        else:
            tag = local(final.tag)
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
            location = _location(trace)
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


def _pytest_where(classname: str, file: str | None) -> tuple[str, str]:
    """For a pytest classname (and xunit1 file): the node-id prefix and the test file."""
    prefix = pytest_test_id(classname, "", file or "")
    module = prefix.split("::", 1)[0]
    return prefix, file or (module if module.endswith(".py") else "")


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
