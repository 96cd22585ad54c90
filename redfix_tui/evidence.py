"""Evidence: facts captured from a pane into a journal entry by one key press.

Each kind knows how to render itself as Markdown in the style of the reference journal's
"Evidence:" lines. The core defines them so widgets, the journal and the CLI share one shape.
Node text in them goes through :func:`~redfix_tui.safe_text.clean` (escapes made visible).
"""

from __future__ import annotations

from dataclasses import dataclass

from .safe_text import clean


def _fence_for(text: str) -> str:
    """Return a backtick fence longer than any run of backticks inside ``text``."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


@dataclass(frozen=True)
class LogEvidence:
    """A range of log lines, with where they came from."""

    host: str
    path: str
    first_line: int
    """1-based number of the first line."""
    last_line: int
    """1-based number of the last line (inclusive)."""
    lines: tuple[str, ...]
    """The lines, already stripped of terminal escape sequences."""

    def to_markdown(self) -> str:
        """Render as an "Evidence:" line followed by a fenced block."""
        where = f"{self.host}:{self.path}" if self.host else self.path
        span = (
            f"line {self.first_line}"
            if self.first_line == self.last_line
            else f"lines {self.first_line}–{self.last_line}"
        )
        body = "\n".join(self.lines)
        fence = _fence_for(body)
        body = clean(body, newlines=True)
        return f"Evidence: `{clean(where)}` {span}:\n\n{fence}\n{body}\n{fence}\n"


@dataclass(frozen=True)
class JUnitEvidence:
    """A failing (or otherwise notable) JUnit test case."""

    test_id: str
    """For pytest, ``tests/<recipe>/test_x.py::test_name``."""
    stage: str
    status: str
    message: str
    junit_path: str

    def to_markdown(self) -> str:
        """Render as a list item naming the test, its stage, message and JUnit file."""
        message = " ".join(clean(self.message, newlines=True).split())
        if len(message) > 300:
            message = message[:299] + "…"
        text = f"- `{clean(self.test_id)}` ({clean(self.stage)}, {clean(self.status)})"
        if message:
            text += f" → `{message}`" if "`" not in message else f" → {message}"
        return text + f"\n\nEvidence: junit `{clean(self.junit_path)}`.\n"


@dataclass(frozen=True)
class RecipeEvidence:
    """A recipe's identity at the time of writing."""

    recipe: str
    tag: str
    canonical_version: str
    canonical_ts: str = ""

    def to_markdown(self) -> str:
        """Render as one sentence naming recipe, tag and canonical version."""
        canonical = f"`{clean(self.canonical_version)}`" if self.canonical_version else "none"
        when = f", written {self.canonical_ts}" if self.canonical_ts else ""
        tag = f"`{clean(self.tag)}`" if self.tag else "unknown"
        return f"Recipe **{self.recipe}**: latest tag {tag}, canonical {canonical}{when}.\n"


Evidence = LogEvidence | JUnitEvidence | RecipeEvidence
"""Anything that can be captured into a journal entry."""
