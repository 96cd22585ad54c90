"""JUnit test cases (no Textual): a case, what it left behind, and passing rows made into cases.

Part of the JUnit model; :mod:`redfix_tui.junit.model` re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..runs.model import BAD, Status


@dataclass(slots=True)
class Outcome:
    """What a case that did not simply pass left behind: result, traceback and output."""

    message: str = ""
    type: str = ""
    traceback: str = ""
    stdout: str = ""
    """Captured stdout, capped (see ``stdout_size`` for the original length)."""
    stderr: str = ""
    reruns: int = 0
    """Extra attempts recorded (Surefire rerun/flaky entries)."""
    stdout_size: int = 0
    stderr_size: int = 0


_NO_OUTCOME = Outcome()


@dataclass(slots=True)
class Case:
    """One test case: identity and outcome; details live in ``outcome`` (see the properties).

    Passing cases (most of a big file) carry no :class:`Outcome`, which keeps loading fast and
    small; their captured output, if any, is read on demand (``output_pending``).
    """

    name: str
    classname: str = ""
    test_id: str = ""
    """pytest's node id (``tests/r/test_x.py::test_y``) when derivable, else ``classname::name``."""
    status: Status = Status.PASSED
    time: float | None = None
    """Duration in seconds, when recorded."""
    file: str = ""
    line: int | None = None
    """1-based line: where it failed when the traceback says so, else where it is defined."""
    index: int = 0
    """Position in the file (document order)."""
    output_pending: bool = False
    """Captured output exists but was not kept (passing case): see ``load_case_output``."""
    outcome: Outcome | None = None

    @property
    def message(self) -> str:
        """The failure/error/skip message ("" for a pass)."""
        return (self.outcome or _NO_OUTCOME).message

    @property
    def type(self) -> str:
        """The failure/error/skip type attribute (e.g. ``AssertionError``, ``pytest.xfail``)."""
        return (self.outcome or _NO_OUTCOME).type

    @property
    def traceback(self) -> str:
        """The failure's text (traceback or stack trace), capped."""
        return (self.outcome or _NO_OUTCOME).traceback

    @property
    def stdout(self) -> str:
        """Captured stdout, capped ("" when none or still pending)."""
        return (self.outcome or _NO_OUTCOME).stdout

    @property
    def stderr(self) -> str:
        """Captured stderr, capped ("" when none or still pending)."""
        return (self.outcome or _NO_OUTCOME).stderr

    @property
    def reruns(self) -> int:
        """Extra attempts recorded (Surefire rerun/flaky entries)."""
        return (self.outcome or _NO_OUTCOME).reruns

    @property
    def bad(self) -> bool:
        """Whether the case failed or errored."""
        return self.status in BAD

    @property
    def location(self) -> str:
        """``file:line`` (or just the file), empty when unknown."""
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file


PassedRow = tuple[str, str, "str | None", bool, int, str, str, "int | None"]
"""A passing case as read, made into a :class:`Case` only when its suite's cases are first read:
name, classname, ``time`` as written, has captured output, index, id prefix, file, line."""


def parse_time(value: str | None) -> float | None:
    """Parse a ``time`` attribute leniently (``1,234.5`` and blanks allowed, junk is None)."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            return float(value.replace(",", ""))
        except ValueError:
            return None


def made_cases(items: list[Case | PassedRow]) -> list[Case]:
    """``items`` with every :data:`PassedRow` made into its :class:`Case`."""
    passed = Status.PASSED
    made: list[Case] = []
    add = made.append
    for item in items:
        if item.__class__ is not tuple:
            add(item)  # type: ignore[arg-type]  # not a row: already a Case
            continue
        name, classname, seconds, output, index, prefix, file, line = item
        try:
            time = float(seconds) if seconds else None
        except ValueError:
            time = parse_time(seconds)
        test_id = f"{prefix}::{name}" if prefix else name
        add(Case(name, classname, test_id, passed, time, file, line, index, output))
    return made
