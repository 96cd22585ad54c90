"""The detail pane of :class:`~redfix_tui.widgets.junit_view.JUnitView`, as Rich renderables.

A case shows its message, type, traceback (highlighted as Python when it looks like one),
captured output and where it ran; a run, stage, suite or unreadable file shows its counts or
why it could not be read; a compared case shows both sides. Long text is capped to
``RENDER_HEAD`` + ``RENDER_TAIL`` characters, so huge output never freezes the UI. Every string
from the node goes through :mod:`redfix_tui.safe_text` (no markup, escapes made visible).
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text

from redfix_tui.junit.compare import CaseChange, Comparison
from redfix_tui.junit.load import cap_output
from redfix_tui.junit.model import Case, Outcome
from redfix_tui.junit.tree import Kind, TreeItem
from redfix_tui.safe_text import clean, plain

from .junit_labels import VERDICT_STYLE, status_glyph

RENDER_HEAD = 12 * 1024
"""Characters of long output rendered from the start."""
RENDER_TAIL = 6 * 1024
"""Characters of long output rendered from the end."""


def _section(title: str, body: RenderableType) -> list[RenderableType]:
    """A titled block of the detail pane."""
    return [Text(title, style="bold underline"), body, Text("")]


def _capped(text: str) -> str:
    """Output cut to what the detail pane renders, with a note in the middle; made safe."""
    return clean(cap_output(text, RENDER_HEAD, RENDER_TAIL), newlines=True)


def traceback_renderable(text: str) -> RenderableType:
    """A traceback, highlighted as Python when it looks like one."""
    text = _capped(text)
    if "Traceback (most recent call last)" in text:
        lexer = "pytb"
    elif "\nE   " in text or text.startswith(("def ", "self = ", "@")) or ".py:" in text:
        lexer = "python"
    else:
        return plain(text, newlines=True)
    return Syntax(text, lexer, theme="ansi_dark", word_wrap=True, background_color="default")


def case_detail(case: Case, stage: str, junit_path: str, pending: bool) -> RenderableType:
    """Everything about one case, for the detail pane."""
    head = Text.assemble(status_glyph(case.status), " ", (case.status.value.upper(), "bold"), " ")
    head.append(clean(case.test_id or case.name), style="bold")
    facts = [f"stage {stage}"]
    if case.location:
        facts.append(case.location)
    if case.time is not None:
        facts.append(f"{case.time:.3f} s")
    if case.reruns:
        facts.append(f"{case.reruns} rerun(s)")
    parts: list[RenderableType] = [head, plain(" · ".join(facts), "dim"), Text("")]
    if case.message:
        parts += _section("Message", plain(_capped(case.message), newlines=True))
    if case.type:
        parts += _section("Type", plain(case.type))
    if case.traceback:
        parts += _section("Traceback", traceback_renderable(case.traceback))
    if pending:
        parts += _section("Output", Text("loading captured output…", style="dim"))
    for title, text in (("Captured stdout", case.stdout), ("Captured stderr", case.stderr)):
        if text:
            parts += _section(title, plain(_capped(text), newlines=True))
    parts.append(plain(f"junit {junit_path}", "dim"))
    return Group(*parts)


def with_output(case: Case, stdout: str, stderr: str) -> Case:
    """A copy of ``case`` (identity only) carrying its loaded output, for the detail pane."""
    shown = Case(
        case.name, case.classname, case.test_id, case.status, case.time, case.file, case.line
    )
    shown.outcome = Outcome(stdout=stdout, stderr=stderr)
    return shown


def item_detail(item: TreeItem) -> RenderableType:
    """The detail pane for a run, stage, suite or unreadable file."""
    if item.kind is Kind.BAD_FILE and item.file is not None:
        jf = item.file
        lines = [
            Text.assemble(status_glyph(None), " ", (clean(jf.name), "bold")),
            plain(f"could not be read: {jf.error}"),
            plain(f"{jf.path} · {jf.size:,} bytes", "dim"),
        ]
        if jf.truncated:
            lines.append(Text("It will be read again when it grows.", style="italic"))
        return Group(*lines)
    lines = [Text.assemble(status_glyph(item.status), " ", (clean(item.label), "bold"))]
    if item.counts is not None:
        lines.append(Text(item.counts.summary()))
    return Group(*lines)


def change_detail(change: CaseChange, comparison: Comparison) -> RenderableType:
    """Both sides of a compared case."""
    parts: list[RenderableType] = [
        Text.assemble((clean(change.test_id), "bold"), clean(f"  ({change.stage})")),
        Text(change.verdict.value, style=VERDICT_STYLE.get(change.verdict, "")),
    ]
    if change.hint:
        parts.append(plain(f"hint: {change.hint}", "italic"))
    for label, case in (
        (comparison.first_label, change.first),
        (comparison.second_label, change.second),
    ):
        status = case.status.value if case else "absent"
        parts += [Text(""), plain(f"{label}: {status}", "bold")]
        if case is not None and case.message:
            parts.append(plain(_capped(case.message), newlines=True))
    return Group(*parts)
