"""Text from the node goes through one gate: no escape or markup reaches the terminal.

Unit tests of :mod:`redfix_tui.safe_text`, the junit CLI's output, and a Pilot walk over every
widget of the console against a demo node whose every field is hostile.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from rich.console import Console, Group
from rich.text import Text
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from redfix_tui.app import RedfixApp, create_app
from redfix_tui.config import Config
from redfix_tui.demo.launch import DemoNodeServer
from redfix_tui.demo.tree import RECIPES
from redfix_tui.evidence import JUnitEvidence, LogEvidence, RecipeEvidence
from redfix_tui.junit import cli as junit_cli
from redfix_tui.logs.ansi import sanitize
from redfix_tui.safe_text import clean, is_clean, plain
from redfix_tui.session import Session
from redfix_tui.shellcmd import UnsafeValue
from redfix_tui.widgets.choice_dialog import ChoiceDialog
from redfix_tui.widgets.open_log import OpenLogDialog
from redfix_tui.widgets.recipe_board import RecipeBoard
from redfix_tui.widgets.rerun_dialogs import CancelConfirm, ClassifyDialog, RerunConfirm
from tests.demo_session import serve_demo
from tests.hostile_node import (
    C1_CSI,
    C1_OSC,
    DISTINCTIVE,
    ERASE,
    HOSTILE,
    IN_FLIGHT_PID,
    MARKUP,
    OSC52,
    TITLE,
    build_hostile_node,
    versions,
)

LEAKS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""A control character (other than TAB and newline) in rendered output."""


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (f"v{OSC52}1", "v␛1"),
        (f"{TITLE}t", "␛t"),
        (f"a{ERASE}b", "a␛b"),
        (f"{C1_CSI}red", "␛red"),
        (f"a{C1_OSC}swallowed", "a␛"),
        ("\x1b[1;31mred\x1b[0m", "red"),  # SGR dropped
        ("bell\x07", "bell␇"),
        ("cr\rlf\n", "cr␍lf␊"),
        ("nul\x00del\x7f", "nul␀del␡"),
        ("tab\tkept", "tab\tkept"),
        ("C1 NEL\x85", "C1 NEL␛"),
        ("lone esc\x1b", "lone esc␛"),
        ("plain [b]text[/b] é ✔", "plain [b]text[/b] é ✔"),
    ],
)
def test_clean_shows_every_escape_and_control_visibly(raw: str, shown: str) -> None:
    assert clean(raw) == shown
    assert LEAKS.search(clean(raw)) is None
    assert "\n" not in clean(raw)


def test_clean_keeps_newlines_when_asked_and_cleans_each_line_alone() -> None:
    assert clean(f"one{C1_OSC} osc to the end\ntwo{ERASE}\n", newlines=True) == "one␛\ntwo␛\n"
    assert clean("a\nb") == "a␊b"
    assert clean(f"a{C1_OSC}x\nb") == "a␛␊b"  # an unterminated OSC stops at its line's end


def test_clean_uses_the_log_views_rules() -> None:
    """What the log view removes is exactly what clean marks (SGR aside)."""
    samples = [*HOSTILE, "\x1b[?1049h", "\x1bPq#0\x1b\\x", "\x1b7\x1b(B", "\x1b_apc\x9c", "ok"]
    for raw in samples:
        visible = clean(raw).replace("␛", "")
        assert visible == sanitize(raw), raw


def test_plain_never_interprets_markup() -> None:
    for raw in MARKUP:
        text = plain(raw)
        assert isinstance(text, Text)
        assert text.plain == raw
        assert not text.spans
    console = Console(file=io.StringIO(), width=80, color_system=None, legacy_windows=False)
    console.print(plain("[link=https://x]l[/link] [b]bold[/b] [/] [/x]"))
    assert console.file.getvalue() == "[link=https://x]l[/link] [b]bold[/b] [/] [/x]\n"


def test_plain_styles_and_expands_tabs() -> None:
    text = plain(f"a\tb{OSC52}", "bold")
    assert text.plain == "a       b␛"
    assert str(text.style) == "bold"
    assert plain("x\ny", newlines=True).plain == "x\ny"


def test_plain_texts_in_a_group_stay_on_their_own_lines() -> None:
    """The JUnit detail pane stacks plain texts in a Group: each keeps its line."""
    console = Console(file=io.StringIO(), width=40, color_system=None, legacy_windows=False)
    console.print(Group(plain("first"), plain(f"second{OSC52}")))
    assert console.file.getvalue() == "first\nsecond␛\n"


def test_is_clean() -> None:
    assert is_clean("tab\tand\nnewline [b]")
    assert not is_clean(f"x{C1_CSI}")


JUNIT_HOSTILE = (  # XML 1.0 refuses C0 controls even as references; C1 controls get through
    '<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="s" tests="2">'
    '<testcase classname="t" name="test_a&#x9b;31m[/x]&#x9d;0;pwned">'
    '<failure message="boom &#x9b;2J [b]x[/b] [link=https://x]l[/link]">tb</failure></testcase>'
    '<testcase classname="t" name="test_b&#x85;[/]"><error message="&#x9b;1Aerr"/></testcase>'
    "</testsuite></testsuites>\n"
)


def test_junit_cli_text_output_is_clean(tmp_path) -> None:
    path = tmp_path / "install__repo__x.xml"
    path.write_text(JUNIT_HOSTILE, encoding="utf-8")
    out = io.StringIO()
    status = junit_cli.run([str(path)], out)
    text = out.getvalue()
    assert status == junit_cli.EXIT_FAILED
    assert LEAKS.search(text) is None, repr(text)
    assert "\x9b" not in text and "\x9d" not in text
    assert "t::test_a␛[/x]␛ — boom ␛ [b]x[/b] [link=https://x]l[/link]" in text
    assert "t::test_b␛[/] — ␛err" in text


def test_junit_cli_json_escapes_c1_but_keeps_values(tmp_path) -> None:
    path = tmp_path / "install__repo__x.xml"
    path.write_text(JUNIT_HOSTILE, encoding="utf-8")
    out = io.StringIO()
    junit_cli.run([str(path), "--json"], out)
    raw = out.getvalue()
    assert LEAKS.search(raw) is None, repr(raw)
    assert "\\u009b" in raw
    failed = json.loads(raw)["files"][0]["failed"]
    ids = {case["id"] for case in failed}
    assert ids == {"t::test_a\x9b31m[/x]\x9d0;pwned", "t::test_b\x85[/]"}  # exact values
    assert "é ✔" in junit_cli.json_text({"k": "é ✔"})  # non-ASCII still readable


# -- every widget, against a hostile node --------------------------------------------------------


def screen_text(app: RedfixApp) -> str:
    """What the top screen paints (its strips, toasts and modals included), as text."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def until(pilot: Pilot, check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Let the app run until ``check()`` holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:g}s: {what}")
        await pilot.pause(0.05)


@pytest.fixture
async def hostile_demo(tmp_path: Path) -> AsyncIterator[tuple[DemoNodeServer, Config]]:
    """A demo node whose node text is hostile everywhere, served over SSH."""
    build_hostile_node(tmp_path / "demo" / "node")
    served, config = await serve_demo(tmp_path / "demo")
    yield served, config
    await served.close()


async def test_every_widget_shows_hostile_node_text_plainly(
    hostile_demo: tuple[DemoNodeServer, Config], tmp_path: Path
) -> None:
    """Board, detail line, status bar, log pane, refusal toast, dialogs, JUnit tree and detail:
    no crash, markup shown literally, no escape or C1 control painted."""
    _served, config = hostile_demo
    app = create_app(Session(config, tmp_path / "JOURNAL-redfix.md", "redfix"))
    painted: dict[str, str] = {}

    def paint(label: str) -> str:
        painted[label] = screen_text(app)
        return painted[label]

    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        board = app.screen.query_one(RecipeBoard)
        await until(pilot, lambda: board.row_count == 6, "the board's rows")
        await until(pilot, lambda: f"pid {IN_FLIGHT_PID}" in screen_text(app), "the run in flight")
        for row, recipe in enumerate(sorted(RECIPES)):
            board.move_cursor(row=row)
            version = versions()[recipe]
            shown = clean(version)
            await until(pilot, lambda s=shown: f"canonical {s}" in screen_text(app), recipe)
            paint(f"board+detail {recipe}")
        await pilot.press("r")
        await until(pilot, lambda: "in flight (pid 4242: [/x]" in screen_text(app), "refusal")
        paint("refusal notification")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, CancelConfirm), "the stop dialog")
        await until(pilot, lambda: "Stop the rerun of gitea?" in screen_text(app), "its text")
        paint("stop dialog")
        await pilot.press("n")
        await pilot.press("u")
        await until(pilot, lambda: "FAILED tests.hostile::test_" in screen_text(app), "JUnit")
        paint("junit first failure")
        for step in range(3):
            await pilot.press("right_square_bracket")
            await pilot.pause()
            paint(f"junit failure +{step + 1}")
        await pilot.resize_terminal(90, 30)
        await pilot.pause()
        paint("compact")
        assert app.is_running

    everything = "\n".join(painted.values())
    for label, text in painted.items():
        assert LEAKS.search(text) is None, (label, LEAKS.search(text))
        for distinctive in DISTINCTIVE:
            assert distinctive not in text, (label, distinctive)
    for value in MARKUP:
        assert value in everything, value
    assert "canonical [b]bold[/b]␛1.2" in painted["board+detail mumble"]  # not bold: literal
    assert "[link=https://x]l[/lin" in painted["board+detail bluesky-pds"]  # board cell, cut
    status_line = painted["refusal notification"].splitlines()[-2]
    assert "stacks n/a — docker: [/x]" in status_line, status_line  # a toast may cover the rest
    markup = "|".join(re.escape(m) for m in MARKUP)
    assert re.search(rf"FAILED tests\.hostile::test_({markup})␛␛", painted["junit first failure"])
    assert "out [/x] ␛red" in painted["junit first failure"]  # captured output
    assert re.search(rf"lint({markup})", painted["junit first failure"])  # a stage's name


def test_evidence_for_the_journal_carries_no_escape() -> None:
    """What ``e`` puts into the journal (an editor on screen, a file) is node text too."""
    junit = JUnitEvidence(
        test_id=f"t::test_{C1_CSI}[/x]",
        stage=f"install{TITLE}",
        status="failed",
        message=f"boom{OSC52}\n[b]bold[/b]{C1_OSC} rest",
        junit_path=f"/runs/{ERASE}x.xml",
    )
    recipe = RecipeEvidence("gitea", f"1.0{C1_CSI}", f"[/]{OSC52}2.0", "20260524T035510Z")
    log = LogEvidence(f"node{TITLE}", "/tmp/redfix-gitea.log", 3, 4, ("a", f"b{C1_OSC}c"))
    for evidence in (junit, recipe, log):
        markdown = evidence.to_markdown()
        assert LEAKS.search(markdown) is None, markdown
    assert junit.to_markdown().startswith("- `t::test_␛[/x]` (install␛, failed) → `boom␛ ")
    assert "`[/]␛2.0`" in recipe.to_markdown()
    assert "\na\nb␛\n" in log.to_markdown()


class DialogApp(App[None]):
    """An empty app to show one dialog at a time."""


def hostile_dialogs() -> list[tuple[str, Screen]]:
    """Every dialog, built with hostile node text in each of its fields."""

    def build(tag: str) -> str:
        raise UnsafeValue(f"tag {tag!r} is not a release tag")

    return [
        (
            "rerun",
            RerunConfirm(f"gitea{TITLE}[/x]", f"[b]bold[/b]{C1_CSI}", build, f"/t{OSC52}[/]"),
        ),
        ("cancel", CancelConfirm(f"gitea[/x]{ERASE}", 4242, f"[link=https://x]l[/link]{C1_OSC}")),
        ("classify", ClassifyDialog(f"gitea[/]{C1_CSI}", "unknown", f"[/x]{OSC52}")),
        ("choice", ChoiceDialog(f"pick [/x]{TITLE}", [("a", f"[b]bold[/b]{C1_CSI}")], "a")),
        ("open log", OpenLogDialog(f"/tmp/[/]{OSC52}.log")),
    ]


async def test_every_dialog_shows_hostile_text_plainly() -> None:
    """Rerun, stop, classify, choice and open-log dialogs: no crash, markup literal, no escape."""
    app = DialogApp()
    async with app.run_test(size=(120, 40)) as pilot:
        for label, dialog in hostile_dialogs():
            app.push_screen(dialog)
            await until(pilot, lambda d=dialog: app.screen is d, label)
            await pilot.pause()
            painted = screen_text(app)
            assert LEAKS.search(painted) is None, (label, painted)
            for distinctive in DISTINCTIVE:
                assert distinctive not in painted, (label, distinctive)
            assert "␛" in painted, label
            assert re.search(r"\[/x?\]|\[b\]bold\[/b\]|\[link=https://x\]l\[/link\]", painted)
            app.pop_screen()
            await pilot.pause()
        assert app.is_running


async def test_ctrl_c_names_the_quit_key_without_markup(tmp_path: Path) -> None:
    """Markup is off for every notification, so the ctrl+c hint is written as plain words."""
    from redfix_tui.app import create_app
    from redfix_tui.config import Config
    from redfix_tui.session import Session

    app = create_app(Session(Config(), tmp_path / "J.md", "redfix"), load=False)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
        shown = [str(n.message) for n in app._notifications]
    assert any(re.fullmatch(r"Press (ctrl\+)?q to quit the app", text) for text in shown), shown
    assert not any("[b]" in text for text in shown)
