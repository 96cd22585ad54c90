"""What a ``<testcase>`` left behind: its result element, traceback and captured output.

Element vocabulary comes from junitparser's classes (including its xunit2 flavour for
Surefire's ``flakyFailure`` / ``rerunFailure``). Elements are read directly rather than wrapped
in junitparser objects: ``fromelem`` builds a throwaway element per call, and the per-case
budget (≤ 2× a plain iterparse pass, see benchmarks/bench_junit.py) leaves no room for that.
Captured output is capped (:data:`OUTPUT_HEAD` / :data:`OUTPUT_TAIL`).
"""

from __future__ import annotations

import re
from typing import Any

from junitparser import Error, Failure, Skipped, SystemErr, SystemOut
from junitparser.xunit2 import FlakyError, FlakyFailure, RerunError, RerunFailure, StackTrace

from .model import Case, Outcome, Status

OUTPUT_HEAD = 48 * 1024
"""Characters kept from the start of long captured output."""
OUTPUT_TAIL = 16 * 1024
"""Characters kept from the end of long captured output."""

OUT, ERR = SystemOut._tag, SystemErr._tag
_FAILURE, _ERROR, _SKIPPED, _STACK = Failure._tag, Error._tag, Skipped._tag, StackTrace._tag
_FINAL_RANK = {_FAILURE: 0, _ERROR: 1, _SKIPPED: 2}
_FLAKY = frozenset({FlakyFailure._tag, FlakyError._tag})
_RERUN = frozenset({RerunFailure._tag, RerunError._tag})
RESULTS = (*_FINAL_RANK, *sorted(_FLAKY), *sorted(_RERUN))
"""Local names of the result elements: a case with none of them passed."""
_PY_LOCATION = re.compile(r"^([^\s:][^:\n]*\.py):(\d+): ", re.MULTILINE)
_JS_LOCATION = re.compile(r"\(file://([^:()\n]+):(\d+):\d+\)")


def cap_output(text: str, head: int = OUTPUT_HEAD, tail: int = OUTPUT_TAIL) -> str:
    """Keep the first ``head`` and last ``tail`` characters of ``text`` with a note between."""
    if len(text) <= head + tail:
        return text
    omitted = len(text) - head - tail
    return f"{text[:head]}\n… {omitted:,} characters omitted …\n{text[-tail:]}"


def local(tag: Any) -> str:
    """The local name of an element tag ("" for comments and processing instructions)."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def has_output(elem: Any) -> bool:
    """Whether a case element has ``<system-out>``/``<system-err>`` children (first one checked
    without a scan: that is where runners put it when there is no result element)."""
    if not len(elem):
        return False
    tag = elem[0].tag
    if tag in (OUT, ERR):
        return True
    return any(local(child.tag) in (OUT, ERR) for child in elem)


class Children:
    """The children of a ``<testcase>`` that matter, found in one scan (none for ``None``)."""

    __slots__ = ("errs", "final", "flaky", "outs", "reruns")

    def __init__(self, elem: Any) -> None:
        self.final: Any = None
        """The deciding result element (failure over error over skipped), if any."""
        self.flaky: Any = None
        """The first flaky/rerun entry, if any."""
        self.reruns = 0
        self.outs: list[Any] = []
        self.errs: list[Any] = []
        for child in elem if elem is not None else ():
            tag = child.tag
            if tag.__class__ is not str or tag[:1] == "{":
                tag = local(tag)
            if tag == OUT:
                self.outs.append(child)
            elif tag == ERR:
                self.errs.append(child)
            elif tag in _FINAL_RANK:
                final: Any = self.final
                if final is None or _FINAL_RANK[tag] < _FINAL_RANK[local(final.tag)]:
                    self.final = child
            elif tag in _FLAKY or tag in _RERUN:
                self.reruns += 1
                self.flaky = self.flaky if self.flaky is not None else child

    @property
    def result(self) -> Any:
        """The element that says how the case ended; ``None`` for a pass."""
        return self.final if self.final is not None else self.flaky


def read_result(elem: Any, name: str, classname: str, children: Children) -> Case:
    """The case of ``elem``, which did not simply pass: result, traceback and output, each read
    once. Its id, duration and index are left to the caller."""
    final, flaky, reruns = children.final, children.flaky, children.reruns
    stdout = "".join([out.text or "" for out in children.outs])
    stderr = "".join([err.text or "" for err in children.errs])
    shown_out, shown_err = cap_output(stdout), cap_output(stderr)
    if final is None:
        final, status = flaky, Status.FLAKY
    else:
        tag = local(final.tag)
        if tag == _FAILURE:
            status = Status.FAILED
        elif tag == _ERROR:
            status = Status.ERROR
        else:
            is_xfail = final.get("type") == "pytest.xfail"
            status = Status.XFAIL if is_xfail else Status.SKIPPED
    kind = final.get("type") or ""
    message = final.get("message") or ""
    trace = final.text or ""
    if not trace or trace.isspace():
        stack = final.find(_STACK)
        trace = (stack.text or "") if stack is not None else ""
    trace = cap_output(trace.strip("\n"))
    if not message:
        message = _first_line(trace) or _last_line(shown_out)
    file = elem.get("file") or ""
    line = elem.get("line")
    number = int(line) if line and line.isdigit() else None
    if status in (Status.FAILED, Status.ERROR, Status.FLAKY) and trace:
        location = _location(trace)
        if location and (not file or location[0] == file):
            file, number = location
    outcome = Outcome(
        message,
        kind,
        trace,
        shown_out,
        shown_err,
        reruns,
        len(stdout),
        len(stderr),
    )
    return Case(name, classname, "", status, None, file, number, outcome=outcome)


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
