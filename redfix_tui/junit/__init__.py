"""JUnit results of CI runs: hardened loading, model, comparison and CLI (no Textual)."""

from .load import (
    load_case_output,
    load_junit_bytes,
    load_junit_file,
    load_run,
    load_run_from_bytes,
    reload_changed,
    replace_file,
)
from .model import Case, Counts, JUnitFile, Outcome, Run, Status, Suite

__all__ = [
    "Case",
    "Counts",
    "JUnitFile",
    "Outcome",
    "Run",
    "Status",
    "Suite",
    "load_case_output",
    "load_junit_bytes",
    "load_junit_file",
    "load_run",
    "load_run_from_bytes",
    "reload_changed",
    "replace_file",
]
