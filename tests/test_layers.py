"""The core (everything outside ``widgets/``, ``screens/`` and ``app.py``) never imports Textual.

ruff's banned-api rule (TID251, in ``pyproject.toml``) catches a written ``import textual``; this
test catches an indirect one: every core module is imported in a fresh interpreter in which
``textual`` cannot be imported at all.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "redfix_tui"
UI = ("widgets", "screens")
UI_MODULES = {"redfix_tui.app", "redfix_tui.__main__"}

BLOCKER = """
import importlib.abc, sys

class NoTextual(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "textual" or name.startswith("textual."):
            raise ImportError(f"the core imported {name}")
        return None

sys.meta_path.insert(0, NoTextual())
import importlib
failed = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError as exc:
        failed.append(f"{name}: {exc}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def core_modules() -> list[str]:
    """Every module of the package outside the UI layers (the demo's pytest suites excluded)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[1] in UI or "suites" in parts or "fixtures" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name not in UI_MODULES:
            names.append(name)
    return names


def test_core_modules_import_without_textual() -> None:
    modules = core_modules()
    assert "redfix_tui.node" in modules and "redfix_tui.journal.store" in modules
    assert not any(m.startswith(("redfix_tui.widgets", "redfix_tui.screens")) for m in modules)
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, *modules], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_blocker_catches_a_textual_import() -> None:
    """The check itself can fail: a UI module imported under the blocker is reported."""
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, "redfix_tui.widgets.status_bar"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "the core imported textual" in result.stdout
