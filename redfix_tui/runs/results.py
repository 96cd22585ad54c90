"""results.json and canonical.json from the node, checked field by field.

What a run or a canonical says, reduced to what the board and the JUnit view need. Files are
parsed with :mod:`redfix_tui.node_json` (size, depth and number checks); each field of the wrong
type is dropped and named in a one-line problem, and what is right is kept.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ..node_json import MAX_BYTES, NodeJSONError, finite_number, load_object, printable, wrong_type
from ..shellcmd import RECIPE_RE
from .model import Canonical, RunSummary, normalise_status


def is_isolation_run(run_id: str, manual_run_id: str) -> bool:
    """True when ``run_id`` names an isolation (manual) run: ``manual`` or ``manual-*``, for the
    configured ``[paths] manual_run_id``; every other run in ``runs_root`` is a sweep's."""
    return run_id == manual_run_id or run_id.startswith(manual_run_id + "-")


MAX_MS = 10**12
"""A test duration above this many milliseconds (about 31 years) is not believed."""
_RECIPE_KEY = re.compile(r'"recipe"\s*:\s*"([a-z0-9][a-z0-9._-]{0,62})"')


def parse_ts(value: str) -> datetime | None:
    """Parse ``20260617T180501Z`` or an ISO 8601 time into an aware UTC datetime."""
    value = (value or "").strip()
    for fmt in ("%Y%m%dT%H%M%SZ", "%Y%m%dT%H%MZ"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def first_problem(problems: list[str]) -> str:
    """One printable line for a file's problems: the first, and how many more."""
    more = len(problems) - 1
    return printable(problems[0]) + (f" (+{more} more)" if more > 0 else "") if problems else ""


def _text(data: dict[str, Any], key: str, problems: list[str], name: str, where: str = "") -> str:
    """``data[key]`` as a string: absent or null gives "", another type is a problem."""
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    problems.append(wrong_type(name, f"{where}{key}", value, "a string"))
    return ""


def _tests(name: str, where: str, tests: Any, problems: list[str]) -> list[dict[str, Any]]:
    """A stage's tests, each an object whose ``ms`` (if kept) is a sane duration."""
    if tests is None:
        return []
    if not isinstance(tests, list):
        problems.append(wrong_type(name, f"{where}.tests", tests, "a list of test objects"))
        return []
    kept = []
    for number, test in enumerate(tests):
        if not isinstance(test, dict):
            problems.append(wrong_type(name, f"{where}.tests[{number}]", test, "a test object"))
            continue
        ms, test_name = test.get("ms"), test.get("name")
        ms_ok = ms is None or (finite_number(ms) and 0 <= ms <= MAX_MS)
        if ms_ok and isinstance(test_name, str | None):
            kept.append(test)  # sound: kept as it is (no copy for the thousands of tests)
            continue
        here, test = f"{where}.tests[{number}]", dict(test)
        if not ms_ok:
            problems.append(wrong_type(name, f"{here}.ms", ms, "milliseconds (0 or more)"))
            test["ms"] = None
        if not isinstance(test_name, str | None):
            problems.append(wrong_type(name, f"{here}.name", test_name, "a test name"))
            test["name"] = None
        kept.append(test)
    return kept


def check_results(data: dict[str, Any], name: str = "results.json") -> tuple[dict, list[str]]:
    """Check a results.json (schema 2) field by field: ``(clean copy, problems)``.

    What has the wrong type is dropped from the copy (a whole stage when it is not an object
    with a name) and noted in ``problems``, one line each; what is right is kept, so the copy's
    ``stages`` is always a list of objects with a str ``name``, a str or absent ``status`` and
    a list of test objects.
    """
    problems: list[str] = []
    clean = dict(data)
    for key in ("recipe", "version", "finished", "run_id"):
        clean[key] = _text(data, key, problems, name)
    if clean["recipe"] and not RECIPE_RE.fullmatch(clean["recipe"]):
        problems.append(wrong_type(name, "recipe", clean["recipe"], "a recipe name"))
        clean["recipe"] = ""
    flags = data.get("flags")
    if flags is not None and not isinstance(flags, dict):
        problems.append(wrong_type(name, "flags", flags, "an object"))
    clean["flags"] = flags if isinstance(flags, dict) else {}
    stages = data.get("stages")
    if stages is not None and not isinstance(stages, list):
        problems.append(wrong_type(name, "stages", stages, "a list of stage objects"))
    clean["stages"] = []
    for number, stage in enumerate(stages if isinstance(stages, list) else []):
        where = f"stages[{number}]"
        if not isinstance(stage, dict):
            problems.append(wrong_type(name, where, stage, "a stage object"))
            continue
        stage_name = stage.get("name")
        if not isinstance(stage_name, str) or not stage_name:
            problems.append(wrong_type(name, f"{where}.name", stage_name, "a stage name"))
            continue
        status = stage.get("status")
        if status is not None and not isinstance(status, str):
            problems.append(wrong_type(name, f"{where}.status", status, "a status word"))
            status = None
        tests = _tests(name, where, stage.get("tests"), problems)
        clean["stages"].append({**stage, "status": status, "tests": tests})
    return clean, problems


def parse_results(
    run_id: str, path: str, data: dict[str, Any], name: str = "results.json"
) -> RunSummary:
    """Reduce a results.json (schema 2) to a :class:`RunSummary`, checking field by field.

    A field of the wrong type is ignored and noted in ``problems`` (see :func:`check_results`);
    what is right is kept.
    """
    clean, problems = check_results(data, name)
    summary = RunSummary(
        run_id=clean["run_id"] or run_id,
        recipe=clean["recipe"],
        tag=clean["version"],
        finished=parse_ts(clean["finished"]),
        flags=clean["flags"],
        path=path,
        problems=problems,
    )
    for stage in clean["stages"]:
        summary.stages[stage["name"]] = normalise_status(stage["status"])
        summary.stage_ms[stage["name"]] = sum(
            int(t["ms"] or 0) for t in stage["tests"] if "ms" in t
        )
    return summary


def read_results(
    run_id: str, path: str, data: bytes | str, name: str = "results.json"
) -> tuple[RunSummary | None, str]:
    """Parse a results.json's bytes defensively: ``(summary, problem)``.

    ``summary`` is None when the file cannot be used at all; ``problem`` is one line ("" when
    the file is sound): the reason it was refused, or what in it was ignored.
    """
    try:
        data_dict, notes = load_object(data, name, limit=MAX_BYTES)
    except NodeJSONError as exc:
        return None, str(exc)
    summary = parse_results(run_id, path, data_dict, name)
    summary.problems[:0] = notes
    return summary, first_problem(summary.problems)


def parse_canonical(data: bytes | str, name: str) -> tuple[Canonical | None, str]:
    """Parse a canonical.json defensively: ``(canonical, problem)`` as :func:`read_results`."""
    try:
        value, problems = load_object(data, name)
    except NodeJSONError as exc:
        return None, str(exc)
    canonical = Canonical(
        version=_text(value, "version", problems, name),
        commit=_text(value, "commit", problems, name),
        status=_text(value, "status", problems, name),
        ts=parse_ts(_text(value, "ts", problems, name)),
    )
    return canonical, first_problem(problems)


def recipe_of(run_id: str, data: bytes | None, names: list[str]) -> str | None:
    """Which recipe an unreadable results.json belongs to: its ``"recipe"`` key if one can be
    found in the text, else a run id ending in ``-<recipe>``; None when neither tells."""
    if data:
        head = data[: 1 << 20].decode("utf-8", errors="replace")
        if (match := _RECIPE_KEY.search(head)) and match.group(1) in names:
            return match.group(1)
    found = [n for n in names if run_id == n or run_id.endswith("-" + n)]
    return max(found, key=len) if found else None
