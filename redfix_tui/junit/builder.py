"""Turn one hardened ``iterparse`` pass over a JUnit document into suites and cases.

Only *end* events are asked for, and only for the elements that matter: suites, cases and the
result elements (``<failure>``, ``<error>``, ``<skipped>``, Surefire's flaky/rerun entries, in any
namespace). A case is built when its element closes and the element is freed at once. Cases are
grouped by their parent element: a run of cases under the same parent costs one ``getparent()``
each, and the suite that holds them (the nearest ``<testsuite>`` ancestor, created on first use
with its own ancestors) is looked up only when the parent changes. A result event before a case
closes marks that case as notable (its children are scanned); every other case is a pass. A
passing case takes the fast path: its attribute reads, a look at its first child to know whether
it captured output (read on demand, see :func:`redfix_tui.junit.load.load_case_output`), and a
:data:`~redfix_tui.junit.model.PassedRow` tuple that becomes a :class:`Case` only when its
suite's cases are first read. What a case left behind (result, traceback, output) is read by
:mod:`redfix_tui.junit.results`.
"""

from __future__ import annotations

from itertools import chain
from typing import IO, Any

from lxml import etree

from .model import Case, Status, Suite, parse_time
from .results import ERR, OUT, RESULTS, Children, cap_output, has_output, local, read_result
from .safe_xml import XMLRejected, hardened_iterparse, one_line, reject_doctype, rejected_from

_PASSED = Status.PASSED
_NOTHING = Children(None)
"""The children of a case that was not scanned."""
_SLOW, _PYTEST, _XUNIT1, _PLAIN = 0, 1, 2, 3
"""How passing cases are read: by :meth:`Builder._case`, or inline (pytest's xunit2 and xunit1,
other runners)."""

CONTAINERS = ("testsuites", "testsuite", "testcase")
"""The structural elements, by local name."""
TAGS = (*CONTAINERS, *(f"{{*}}{tag}" for tag in RESULTS))
"""Event filter of the first pass: un-namespaced structure, result elements in any namespace."""
ANY_NS_TAGS = tuple(f"{{*}}{tag}" for tag in (*CONTAINERS, *RESULTS))
"""Event filter of the second pass, for documents whose structure is namespaced."""


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
    packages, classes = parts[:cut], parts[cut:]
    path = "/".join(packages) + ".py" if packages else ""
    return "::".join(p for p in (path, *classes, name) if p)


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

        The common case, a passing case, is read inline into a :data:`PassedRow`: its attributes,
        one look at its first child for captured output, and its id prefix (for pytest from a
        per-classname cache). Everything else goes through :meth:`_case`.
        """
        namespaced = self.namespaced
        notable = seen = False
        mode = _SLOW
        parent = suite = None
        rows: list[Any] = []
        path = ""
        last_classname, prefix, file = None, "", ""
        count = self.count
        outputs = (OUT, ERR)
        for _event, elem in events:
            tag = elem.tag
            if namespaced:
                tag = tag.rpartition("}")[2]
            if tag == "testcase":
                up = elem.getparent()
                if up is not parent:
                    parent, suite = up, self._home(up)
                    rows, path, mode = suite.passed, self.path, self._mode()
                if not notable and mode != _SLOW:
                    get = elem.get  # bytes keys skip lxml's encoding of the name
                    name = get(b"name") or ""
                    classname = get(b"classname") or ""
                    number = None
                    if mode == _PYTEST:
                        if classname != last_classname:
                            last_classname, (prefix, file) = classname, self._where(classname, None)
                    elif mode == _XUNIT1:
                        last_classname = None
                        prefix, file = self._where(classname, get(b"file"))
                        line = get(b"line")
                        number = int(line) + 1 if line and line.isdigit() else None
                    else:
                        last_classname = None
                        file = get(b"file") or ""
                        line = get(b"line")
                        number = int(line) if line and line.isdigit() else None
                        prefix = classname if classname not in ("", name, "test") else path
                    if mode != _PLAIN or file[-3:] != ".py":  # else pytest's id rules
                        output = False
                        if len(elem):
                            first = elem[0].tag
                            output = first in outputs or has_output(elem)
                        rows.append(
                            (name, classname, get(b"time"), output, count, prefix, file, number)
                        )
                        count += 1
                        elem.clear()  # children, attributes, text (and tail: keep_tail=False)
                        continue
                self.count = count
                assert suite is not None  # a case is only met inside a suite
                suite.add(self._case(elem, notable))
                count = self.count
                notable = notable and self.in_case  # an enclosing case may own the result
                mode = self._mode()
                elem.clear()
            elif tag == "testsuite":
                self._close_suite(elem)
                seen = True
                mode = self._mode()  # an empty suite named "pytest" makes the file pytest's
            elif tag == "testsuites":
                seen = True
            else:  # a result element: the case it is in (if any) did not simply pass
                notable = True
        self.count = count
        return seen or bool(count)

    def _mode(self) -> int:
        """How passing cases under the current parent are read: one by one, or inline."""
        if self.in_case:
            return _SLOW
        if self.pytest:  # xunit1 writes file and line on every case, xunit2 never
            return _SLOW if self.located is None else _XUNIT1 if self.located else _PYTEST
        return _PLAIN

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

    def _home(self, parent: Any) -> Suite:
        """The suite of cases whose parent element is ``parent`` (sets :attr:`path`).

        That is the nearest enclosing suite's, or the file's top-level suite for cases outside
        any suite (Node's reporter puts them directly under ``<testsuites>``).
        """
        self.in_case = False
        while parent is not None and not self._is_suite(parent):
            self.in_case = self.in_case or local(parent.tag) == "testcase"
            parent = parent.getparent()
        if parent is not None:
            suite, self.path = self._suite(parent)
            return suite
        self.path = ""
        if self.loose is None:
            self.loose = Suite(name=self.root_name or "(top level)")
            self.suites.insert(0, self.loose)
        return self.loose

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
        suite = Suite(name=name, time=parse_time(elem.get("time")))
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

    def _case(self, elem: Any, scan: bool) -> Case:
        """Build a case from a closed ``<testcase>`` element (freed by the caller).

        A passing case's captured output is not read (it is most of a big file): the case is
        marked ``output_pending``. ``scan`` says a result element closed since the last case,
        so the children are scanned for the case's result.
        """
        if scan:
            children = Children(elem)
            output = bool(children.outs or children.errs)
        else:
            children, output = _NOTHING, has_output(elem)
        get = elem.get
        name = get("name") or ""
        classname = get("classname") or ""
        duration = parse_time(get("time"))
        index = self.count
        self.count = index + 1
        if self.pytest:
            if self.located is None:  # xunit1 writes file/line on every case, xunit2 never
                self.located = get("file") is not None
            file = get("file") if self.located else None
            prefix, where = self._where(classname, file)
            test_id = f"{prefix}::{name}" if prefix else name
            line = get("line") if self.located else None
            number = int(line) + 1 if line and line.isdigit() else None
            if children.result is None:
                return Case(
                    name, classname, test_id, _PASSED, duration, where, number, index, output
                )
            case = read_result(elem, name, classname, children)
            case.test_id, case.time, case.index = test_id, duration, index
            if not case.file or case.status is Status.SKIPPED or case.status is Status.XFAIL:
                case.file, case.line = where, number
            return case
        if children.result is None:
            case = Case(
                name, classname, "", _PASSED, duration, get("file") or "", None, index, output
            )
            self._identify(case, get("line"))
            return case
        case = read_result(elem, name, classname, children)
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


def _pytest_where(classname: str, file: str | None) -> tuple[str, str]:
    """For a pytest classname (and xunit1 file): the node-id prefix and the test file."""
    prefix = pytest_test_id(classname, "", file or "")
    module = prefix.split("::", 1)[0]
    return prefix, file or (module if module.endswith(".py") else "")
