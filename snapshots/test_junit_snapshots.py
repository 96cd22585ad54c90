"""SVG snapshots of the JUnit drill-down: tree and a failure's detail, at 80×24 and 160×50."""

from __future__ import annotations

from textual.app import App, ComposeResult

from redfix_tui.app import styles_dir
from redfix_tui.junit import load_run_from_bytes
from redfix_tui.widgets.junit_view import JUnitView
from tests.junit_samples import FIXTURE_RESULTS, fixture_files


class JUnitSnapApp(App):
    """JUnitView on a fixed run (install green, upgrade red, backup half-written, restore)."""

    CSS_PATH = [styles_dir() / "app.tcss"]  # the console's stylesheet (scrollbars)

    def compose(self) -> ComposeResult:
        yield JUnitView()

    def on_mount(self) -> None:
        view = self.query_one(JUnitView)
        view.show_run(load_run_from_bytes("manual", fixture_files(), FIXTURE_RESULTS))
        view.results_tree.focus()


def test_junit_tree_and_failure_80x24(snap_compare) -> None:
    assert snap_compare(JUnitSnapApp(), terminal_size=(80, 24))


def test_junit_tree_and_failure_160x50(snap_compare) -> None:
    assert snap_compare(JUnitSnapApp(), terminal_size=(160, 50))


def test_junit_next_failure_160x50(snap_compare) -> None:
    async def next_failure(pilot) -> None:
        await pilot.press("right_square_bracket")
        await pilot.pause()

    assert snap_compare(JUnitSnapApp(), terminal_size=(160, 50), run_before=next_failure)
