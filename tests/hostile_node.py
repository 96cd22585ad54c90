"""A demo node whose every field of node text is hostile: escapes, C1 controls and Rich markup.

:func:`build_hostile_node` lays out the ordinary demo node, then rewrites what the console reads
from it: canonical versions, latest tags, results.json (version, an extra stage), a rerun state
file of a run in flight, the in-flight process lines (a fake ``pgrep``), the teardown check's
stderr (a fake ``docker``) and JUnit files (C1 controls and markup; XML 1.0 refuses C0 controls).
Used by the Pilot walk in ``test_node_text.py`` and the real-terminal proof in
``test_node_text_pty.py``.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from redfix_tui.demo.tree import RECIPES, DemoNode, build_demo_node

OSC52 = "\x1b]52;c;SGVsbG8=\x07"
TITLE = "\x1b]0;pwned\x07"
ERASE = "\x1b[2J"
C1_CSI = "\x9b31m"
C1_OSC = "\x9d"
ESCAPES = (OSC52, TITLE, ERASE, C1_CSI, C1_OSC)
MARKUP = ("[/]", "[/x]", "[b]bold[/b]", "[link=https://x]l[/link]")
HOSTILE = ESCAPES + MARKUP
"""The hostile values (each put into node data, alone or next to others)."""

DISTINCTIVE = ("]52;", "]0;pwned", "\x9b", "\x9d")
"""What must never reach a terminal: the payloads' distinctive characters."""

IN_FLIGHT_PID = 4242
"""The pid of the fake run in flight (the rerun state file of gitea points at it)."""
STATE_RECIPE = "gitea"
"""The recipe whose rerun state file is hostile."""


def hostile(index: int) -> str:
    """A short hostile value: one markup sample, one escape, then an 8-bit OSC (swallows the
    rest of its line in a terminal, so it comes last). No spaces (tags are read with awk)."""
    return f"{MARKUP[index % len(MARKUP)]}{ESCAPES[index % 4]}v{index}{C1_OSC}"


def versions() -> dict[str, str]:
    """Recipe → its hostile canonical version (markup first so it shows in narrow columns)."""
    return {
        recipe: f"{MARKUP[i % len(MARKUP)]}{ESCAPES[i % 4]}1.{i}"
        for i, recipe in enumerate(RECIPES)
    }


def junit_xml(index: int) -> str:
    """A JUnit file with a failing and an erroring case whose ids and texts are hostile."""
    markup = MARKUP[index % len(MARKUP)]
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<testsuites><testsuite name="hostile" tests="2" failures="1" errors="1">'
        f'<testcase classname="tests.hostile" name="test_{markup}&#x9b;31m&#x9d;0;pwned">'
        f'<failure message="{markup} boom &#x9b;2J&#x85;">'
        f"Traceback (most recent call last):\n  {markup} &#x9b;1A\nAssertionError: {markup}"
        "</failure><system-out>out [/x] &#x9b;31mred</system-out></testcase>"
        '<testcase classname="tests.hostile" name="test_err[b]x[/b]&#x9d;52;c;SGVsbG8=">'
        '<error message="[link=https://x]l[/link]&#x9b;K"/></testcase>'
        "</testsuite></testsuites>\n"
    )


def _write(path: Path, text: str, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mode is not None:
        path.chmod(mode)


def make_hostile(node: DemoNode) -> int:
    """Rewrite ``node``'s node text with hostile values; return how many values were planted."""
    planted = 0
    for recipe, version in versions().items():
        path = node.warm_root / recipe / "canonical.json"
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        data.update(version=version, status=hostile(1), commit=hostile(2))
        data.setdefault("ts", "20260524T035510Z")
        _write(path, json.dumps(data) + "\n")
        planted += 3
    tags = {recipe: hostile(i + 3) for i, recipe in enumerate(RECIPES)}
    _write(node.state / "latest-tags", "".join(f"{r} {t}\n" for r, t in tags.items()))
    planted += len(tags)
    for index, run_dir in enumerate(sorted(node.runs_root.iterdir())):
        results = run_dir / "results.json"
        data = json.loads(results.read_text(encoding="utf-8"))
        data["version"] = hostile(index)
        data["stages"].append({"name": f"lint{hostile(index + 1)}", "status": hostile(index + 2)})
        data["flags"] = {hostile(index): hostile(index + 1)}
        _write(results, json.dumps(data, indent=1) + "\n")
        _write(run_dir / "junit" / "install__cc-ci__hostile.xml", junit_xml(index))
        planted += 5 + 6  # results: version, stage name and status, flag key and value
    state = {
        "recipe": STATE_RECIPE,
        "tag": hostile(5),
        "log": f"{node.root}/tmp/redfix-{TITLE}[/x]{C1_CSI}.log",
        "started": f"2026-06-18T01:00:00+00:00{OSC52}",
        "command": hostile(6),
        "stacks": [hostile(7)],
    }
    _write(
        node.root / "tmp" / f"redfix-{STATE_RECIPE}.rerun",
        json.dumps(state) + f"\npid {IN_FLIGHT_PID}\n",
    )
    planted += 5  # tag, log, started, command, stacks (the recipe must be valid to be read)
    lines = [
        f"{IN_FLIGHT_PID} [/x]{OSC52}{TITLE} {node.runner} [b]bold[/b]{ERASE}{C1_CSI}{C1_OSC}",
        f"4343 [link=https://x]l[/link]{C1_CSI} {node.runner} [/]",
    ]
    script = "cat <<'HOSTILE_EOF'\n" + "\n".join(lines) + "\nHOSTILE_EOF\n"
    _write(node.root / "bin" / "pgrep", f"#!/bin/sh\n{script}", 0o755)
    planted += len(lines)
    stderr = f"docker: [/x] cannot connect{OSC52}{TITLE}{C1_CSI}[b]bold[/b]{C1_OSC}"
    _write(
        node.root / "bin" / "docker",
        f"#!/bin/sh\nprintf '%s\\n' {shlex.quote(stderr)} >&2\nexit 1\n",
        0o755,
    )
    planted += 1
    return planted


def build_hostile_node(root: Path) -> tuple[DemoNode, int]:
    """Build a demo node under ``root`` and make it hostile; return it and the planted count."""
    node = build_demo_node(root)
    return node, make_hostile(node)
