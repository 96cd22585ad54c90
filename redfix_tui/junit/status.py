"""Test case counts (no Textual): how many cases ended in each status, and their sort order.

:class:`~redfix_tui.runs.model.Status` (the one status vocabulary, shared with stage verdicts)
and ``BAD`` live in :mod:`redfix_tui.runs.model`; :mod:`redfix_tui.junit.model` re-exports them
with these names for the JUnit code.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..runs.model import Status

STATUS_RANK = {
    Status.FAILED: 0,
    Status.ERROR: 1,
    Status.FLAKY: 2,
    Status.SKIPPED: 3,
    Status.XFAIL: 4,
    Status.PASSED: 5,
}
"""Sort key: failures and errors first, passes last."""


@dataclass(slots=True)
class Counts:
    """How many cases ended in each status."""

    total: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    xfail: int = 0
    flaky: int = 0

    def add(self, status: Status) -> None:
        """Count one case of ``status``."""
        self.total += 1
        if status is Status.PASSED:
            self.passed += 1
        elif status is Status.FAILED:
            self.failed += 1
        elif status is Status.ERROR:
            self.errors += 1
        elif status is Status.SKIPPED:
            self.skipped += 1
        elif status is Status.XFAIL:
            self.xfail += 1
        else:
            self.flaky += 1

    def merge(self, other: Counts) -> None:
        """Add ``other``'s numbers to these."""
        self.total += other.total
        self.passed += other.passed
        self.failed += other.failed
        self.errors += other.errors
        self.skipped += other.skipped
        self.xfail += other.xfail
        self.flaky += other.flaky

    @property
    def bad(self) -> int:
        """Failed plus errored cases."""
        return self.failed + self.errors

    def summary(self) -> str:
        """Short text such as ``12 tests: 10 passed, 1 failed, 1 skipped``."""
        parts = [
            f"{n} {label}"
            for n, label in (
                (self.passed, "passed"),
                (self.failed, "failed"),
                (self.errors, "errors" if self.errors != 1 else "error"),
                (self.flaky, "flaky"),
                (self.skipped, "skipped"),
                (self.xfail, "xfail"),
            )
            if n
        ]
        noun = "test" if self.total == 1 else "tests"
        return f"{self.total} {noun}" + (": " + ", ".join(parts) if parts else "")
