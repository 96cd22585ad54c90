"""RecipeDetail: one line over the log about the selected recipe."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from ..recipes import RecipeStatus, age_text
from ..safe_text import clean


class RecipeDetail(Static):
    """One line over the log: the selected recipe's tag, canonical and classification."""

    DEFAULT_CSS = """
    RecipeDetail { height: 1; padding: 0 1; background: $boost; }
    """

    def show(self, status: RecipeStatus, classification: str, run: str, now: datetime) -> None:
        """Describe ``status``: its name, any problem with its node files, the latest tag, the
        canonical and its age at ``now``, the ``classification``, and ``run`` (a rerun in
        flight or its teardown flag) when not empty."""
        canonical = status.canonical
        text = Text()
        text.append(clean(status.name), style="bold")
        if status.problem:  # a node file of this recipe could not be (fully) used
            text.append(f"  ⚠ {clean(status.problem)}", style="bold yellow")
        text.append(f"  tag {clean(status.latest_tag) or '?'}")
        if canonical:
            age = age_text(canonical.ts, now)
            text.append(f"  canonical {clean(canonical.version)} ({age} ago)")
        else:
            text.append("  no canonical", style="dim")
        text.append(f"  │ {clean(classification)}", style="italic")
        if run:
            text.append(f"  │ {clean(run)}", style="bold")
        self.update(text)
