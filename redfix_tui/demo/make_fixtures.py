"""Generate the demo's JUnit fixtures by running the shipped cc-ci suites under real pytest.

The suites in ``redfix_tui/demo/suites/`` (``conftest.py`` plus ``<recipe>/test_<stage>.py``) are
laid out in a scratch directory the way cc-ci has them (``tests/<recipe>/test_<stage>.py`` under
the harness root) and each recipe's stage runs as its own ``pytest --junitxml`` process, as on the
node. What is stored under ``redfix_tui/demo/fixtures/``:

- ``<recipe>/<stage>[.<variant>].xml``: the JUnit XML (xunit1: file, line and captured output).
- ``<recipe>/<stage>[.<variant>].out``: pytest's coloured console output (``-v``, ANSI).
- ``index.json``: per recipe and stage key, the stage status and its tests ``{name, status, ms}``.

Only cosmetic fields are rewritten: durations become plausible deterministic ones (a real deploy
test takes seconds, the replay takes microseconds), ``hostname`` becomes ``cc-ci``, the timestamp
a fixed one (the runner stamps the real time when it writes a file), and the scratch paths become
``/etc/cc-ci``. The generated files are committed so that the demo needs no pytest at runtime.

Run ``python -m redfix_tui.demo.make_fixtures [OUT_DIR]`` after changing a suite.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITES = HERE / "suites"
FIXTURES = HERE / "fixtures"
RECIPES = ("discourse", "mattermost-lts", "mumble", "bluesky-pds", "gitea", "keycloak")
STAGES = ("install", "upgrade", "backup", "restore", "custom")
VARIANTS: dict[tuple[str, str], dict[str, dict[str, str]]] = {
    ("mumble", "custom"): {"sweep": {"CCCI_DEMO_UNDER_LOAD": "1"}},
}
"""Extra runs of a stage with a different environment; ``sweep`` replays the loaded sweep."""
FIXED_TIMESTAMP = "2026-06-17T03:00:00.000000+00:00"
XML_MARKER = "@@JUNITXML@@"
"""Stands for the "generated xml file" rule line; the runner renders it with the real path."""

_TESTCASE_RE = re.compile(r"<testcase [^>]*>")
_SUITE_RE = re.compile(r"<testsuite [^>]*>")
_SUMMARY_TIME_RE = re.compile(r" in \d+\.\d+s( \(\d+:\d\d:\d\d\))?")


def plausible_ms(recipe: str, stage: str, name: str, status: str) -> int:
    """Return a deterministic, realistic duration for one test (1–4 s; a timeout adds 30 s)."""
    base = 800 + zlib.crc32(f"{recipe}/{stage}/{name}".encode()) % 3200
    return base + (30000 if status == "failed" and "handshake" in name else 0)


def _status_of(case_xml: str) -> str:
    for tag, status in (("<failure", "failed"), ("<error", "error"), ("<skipped", "skipped")):
        if tag in case_xml:
            return status
    return "passed"


def _rewrite_xml(xml: str, recipe: str, stage: str) -> tuple[str, list[dict]]:
    """Give test cases plausible times; return the new XML and the tests summary."""
    tests: list[dict] = []
    starts = [m.start() for m in _TESTCASE_RE.finditer(xml)] + [len(xml)]
    for start, end in itertools.pairwise(starts):
        found = _TESTCASE_RE.match(xml, start)
        assert found is not None  # ``starts`` are the positions where it matched
        tag = found.group(0)
        named = re.search(r' name="([^"]*)"', tag)
        name = named.group(1) if named else ""
        status = _status_of(xml[start:end])
        tests.append(
            {"name": name, "status": status, "ms": plausible_ms(recipe, stage, name, status)}
        )

    times = iter(t["ms"] for t in tests)

    def case_time(match: re.Match[str]) -> str:
        return re.sub(r' time="[^"]*"', f' time="{next(times) / 1000:.3f}"', match.group(0))

    xml = _TESTCASE_RE.sub(case_time, xml)
    total = sum(t["ms"] for t in tests) / 1000

    def suite_attrs(match: re.Match[str]) -> str:
        tag = re.sub(r' time="[^"]*"', f' time="{total:.3f}"', match.group(0))
        tag = re.sub(r' timestamp="[^"]*"', f' timestamp="{FIXED_TIMESTAMP}"', tag)
        return re.sub(r' hostname="[^"]*"', ' hostname="cc-ci"', tag)

    return _SUITE_RE.sub(suite_attrs, xml), tests


def _rewrite_console(text: str, workdir: Path, total_s: float) -> str:
    """Make the console output look as it does on cc-ci (paths, interpreter, duration)."""
    text = text.replace(sys.executable, "/usr/bin/python3").replace(str(workdir), "/etc/cc-ci")
    lines = text.split("\n")
    lines = [XML_MARKER if "generated xml file:" in line else line for line in lines]
    clock = f" ({int(total_s // 3600)}:{int(total_s % 3600 // 60):02d}:{int(total_s % 60):02d})"
    summary = f" in {total_s:.2f}s" + (clock if total_s >= 60 else "")
    for i in range(len(lines) - 1, -1, -1):
        if _SUMMARY_TIME_RE.search(lines[i]):
            lines[i] = _SUMMARY_TIME_RE.sub(summary, lines[i], count=1)
            break
    return "\n".join(lines)


def _stage_status(tests: list[dict]) -> str:
    statuses = {t["status"] for t in tests}
    for status in ("error", "failed"):
        if status in statuses:
            return status
    return "passed" if "passed" in statuses else "skipped"


def _run_one(
    work: Path, python: str, recipe: str, stage: str, variant: str, extra_env: dict[str, str]
) -> tuple[str, str, str, str, list[dict]]:
    key = f"{stage}.{variant}" if variant else stage
    xml_path = work / "junit" / f"{recipe}__{key}.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCCI_", "PYTEST_"))}
    env.update(
        {
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "COLUMNS": "120",
            "PYTHONDONTWRITEBYTECODE": "1",
            **extra_env,
        }
    )
    cmd = [
        python,
        "-m",
        "pytest",
        f"tests/{recipe}/test_{stage}.py",
        "-v",
        "-rfE",
        "--color=yes",
        "--code-highlight=no",
        "-p",
        "no:cacheprovider",
        "-o",
        "junit_family=xunit1",
        "-o",
        "junit_logging=all",
        f"--junitxml={xml_path}",
    ]
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1) or not xml_path.is_file():
        raise RuntimeError(f"pytest failed for {recipe}/{key}:\n{proc.stdout}\n{proc.stderr}")
    xml, tests = _rewrite_xml(xml_path.read_text(encoding="utf-8"), recipe, stage)
    console = _rewrite_console(proc.stdout, work, sum(t["ms"] for t in tests) / 1000)
    return recipe, key, xml, console, tests


def generate(out_dir: Path = FIXTURES, python: str = sys.executable, jobs: int = 2) -> dict:
    """Run every suite under pytest and write the fixtures into ``out_dir``; return the index."""
    with tempfile.TemporaryDirectory(prefix="redfix-suites-") as tmp:
        work = Path(tmp)
        (work / "junit").mkdir()
        (work / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        shutil.copy(SUITES / "conftest.py", work / "conftest.py")
        for recipe in RECIPES:
            shutil.copytree(
                SUITES / recipe,
                work / "tests" / recipe,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        jobs_list: list[tuple[str, str, str, dict[str, str]]] = [
            (recipe, stage, "", {}) for recipe in RECIPES for stage in STAGES
        ]
        for (recipe, stage), variants in VARIANTS.items():
            jobs_list += [(recipe, stage, name, env) for name, env in variants.items()]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda job: _run_one(work, python, *job), jobs_list))
    index: dict[str, dict] = {recipe: {} for recipe in RECIPES}
    if out_dir.exists():
        shutil.rmtree(out_dir)
    for recipe, key, xml, console, tests in results:
        (out_dir / recipe).mkdir(parents=True, exist_ok=True)
        (out_dir / recipe / f"{key}.xml").write_text(xml, encoding="utf-8")
        (out_dir / recipe / f"{key}.out").write_text(console, encoding="utf-8")
        index[recipe][key] = {"status": _stage_status(tests), "tests": tests}
    (out_dir / "index.json").write_text(
        json.dumps(index, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return index


def main(argv: list[str] | None = None) -> int:
    """Command line: regenerate the fixtures (into the package, or into the given directory)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else FIXTURES
    index = generate(out)
    for recipe, stages in index.items():
        print(recipe, " ".join(f"{key}={entry['status']}" for key, entry in stages.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
