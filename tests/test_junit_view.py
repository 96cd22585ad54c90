"""JUnitView driven with Pilot: tree, failure navigation, evidence, log jump, comparison."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from textual.app import App, ComposeResult
from textual.widgets import Tree

from redfix_tui.junit import load_run_from_bytes
from redfix_tui.junit.compare import CaseChange, Verdict
from redfix_tui.junit.tree import TreeItem
from redfix_tui.widgets.junit_view import JUnitView
from tests.junit_samples import FIXTURE_RESULTS, SUREFIRE, fixture_files


class ViewApp(App):
    """JUnitView alone, recording the messages it posts."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[object] = []

    def compose(self) -> ComposeResult:
        yield JUnitView()

    def on_junit_view_jump_to_log(self, message: JUnitView.JumpToLog) -> None:
        self.messages.append(message)

    def on_junit_view_evidence_requested(self, message: JUnitView.EvidenceRequested) -> None:
        self.messages.append(message)


def fixture_run():
    """The fixed run shared with the snapshots."""
    return load_run_from_bytes("manual", fixture_files(), FIXTURE_RESULTS)


def _labels(tree: Tree) -> list[str]:
    """Plain labels of every expanded line of the tree."""
    lines: list[str] = []

    def walk(node, depth: int) -> None:
        lines.append("  " * depth + node.label.plain)
        if node.is_expanded:
            for child in node.children:
                walk(child, depth + 1)

    walk(tree.root, 0)
    return lines


async def _detail_text(app: App) -> str:
    """Render the detail pane's content to plain text."""
    console = Console(width=120, record=True, file=io.StringIO(), color_system=None)
    console.print(app.query_one(JUnitView).detail)
    return console.export_text()


async def test_tree_shows_stages_in_order_failures_first() -> None:
    app = ViewApp()
    async with app.run_test(size=(160, 50)) as pilot:
        view = app.query_one(JUnitView)
        view.show_run(fixture_run())
        await pilot.pause()
        labels = _labels(view.results_tree)
        assert labels[0].startswith("✘ manual · discourse  10 ✔4 ✘3 ~1 ⊘1 x1")
        stages = [
            line.strip() for line in labels if line.startswith("  ") and not line.startswith("    ")
        ]
        assert [s.split()[1] for s in stages] == ["install", "upgrade", "backup", "restore"]
        upgrade = labels.index(next(line for line in labels if "upgrade [fail]" in line))
        assert "✘ test_head_runs_official_image" in labels[upgrade + 2]
        assert "✘ test_sidekiq_service_dropped_by_head" in labels[upgrade + 3]
        assert any("? backup__cc-ci__test_backup.xml — truncated" in line for line in labels)
        # the cursor starts on the first failure, whose detail is shown
        cursor = view.results_tree.cursor_node
        assert isinstance(cursor.data, TreeItem) and cursor.data.case.name == (
            "test_head_runs_official_image"
        )
        text = await _detail_text(app)
        assert "FAILED tests/discourse/test_upgrade.py::test_head_runs_official_image" in text
        assert "app image is bitnamilegacy/discourse:3.5.0" in text
        assert "tests/discourse/test_upgrade.py:41" in text and "2.310 s" in text
        assert "deploying head f87c612d" in text


async def test_next_and_previous_failure_wrap() -> None:
    app = ViewApp()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(JUnitView)
        view.show_run(fixture_run())
        view.results_tree.focus()
        await pilot.pause()
        seen = []
        for _ in range(4):
            await pilot.press("right_square_bracket")
            data = view.results_tree.cursor_node.data
            seen.append(data.case.name if data.case else data.file.name)
        assert seen == [
            "test_sidekiq_service_dropped_by_head",
            "backup__cc-ci__test_backup.xml",
            "testBroken",
            "test_head_runs_official_image",
        ]
        await pilot.press("left_square_bracket")
        assert view.results_tree.cursor_node.data.case.name == "testBroken"


async def test_evidence_and_jump_to_log() -> None:
    app = ViewApp()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(JUnitView)
        view.show_run(fixture_run())
        view.results_tree.focus()
        await pilot.pause()
        await pilot.press("e", "l")
        await pilot.pause()
        evidence, jump = app.messages
        assert isinstance(evidence, JUnitView.EvidenceRequested)
        assert (
            evidence.evidence.test_id
            == "tests/discourse/test_upgrade.py::test_head_runs_official_image"
        )
        assert evidence.evidence.stage == "upgrade" and evidence.evidence.status == "failed"
        assert evidence.evidence.junit_path.endswith("upgrade__cc-ci__test_upgrade.xml")
        assert "junit `/var/lib/cc-ci-runs/manual/junit/" in evidence.evidence.to_markdown()
        assert isinstance(jump, JUnitView.JumpToLog)
        assert jump.stage == "upgrade" and jump.run_id == "manual"
        assert (
            jump.patterns[1]
            == "FAILED tests/discourse/test_upgrade.py::test_head_runs_official_image"
        )


async def test_passing_suite_fills_on_expand_and_loads_output() -> None:
    app = ViewApp()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(JUnitView)
        view.show_run(fixture_run())
        await pilot.pause()
        install = next(n for n in view.results_tree.root.children if "install" in n.label.plain)
        assert not install.is_expanded and not install.children  # passing stage: filled lazily
        install.expand()
        await pilot.pause()
        suite = install.children[0]
        assert not suite.is_expanded and not suite.children
        suite.expand()
        await pilot.pause()
        assert [c.label.plain for c in suite.children] == [
            "x test_known_bug",
            "✔ test_deploy",
            "✔ test_status_200",
        ]
        upgrade = next(n for n in view.results_tree.root.children if "upgrade" in n.label.plain)
        converges = next(c for c in upgrade.children[0].children if "converges" in c.label.plain)
        view.results_tree.move_cursor(converges)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = await _detail_text(app)
        assert "PASSED" in text and "Captured stdout" in text and "ok" in text


async def test_load_bytes_in_a_worker_and_bad_files_listed(tmp_path: Path) -> None:
    app = ViewApp()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(JUnitView)
        files = {
            "junit/install__a__broken.xml": b"<html><body>nope",
            "junit/restore__a__ok.xml": SUREFIRE,
        }
        view.load_bytes("r1", files)
        await app.workers.wait_for_complete()
        await pilot.pause()
        labels = _labels(view.results_tree)
        assert any("? install__a__broken.xml — HTML page, not JUnit XML" in line for line in labels)
        assert any("testBroken" in line for line in labels)
        run_dir = tmp_path / "run"
        (run_dir / "junit").mkdir(parents=True)
        (run_dir / "junit" / "custom__a__b.xml").write_bytes(SUREFIRE)
        view.load_paths([str(run_dir)])
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert view.run is not None and view.run.run_id == "run"


async def test_comparison_toggle() -> None:
    sweep = fixture_run()
    files = fixture_files()
    files = {
        k: v.replace(b"<failure", b"<skipped").replace(b"</failure>", b"</skipped>")
        for k, v in files.items()
    }
    alone = load_run_from_bytes("manual-2", files, FIXTURE_RESULTS)
    app = ViewApp()
    async with app.run_test(size=(160, 50)) as pilot:
        view = app.query_one(JUnitView)
        view.show_run(alone)
        view.results_tree.focus()
        await pilot.press("c")  # no second run yet: a notice, nothing changes
        assert view.comparison is None
        view.set_comparison_run(sweep)
        await pilot.press("c")
        await pilot.pause()
        assert view.comparison is not None
        data = view.results_tree.cursor_node.data
        assert isinstance(data, CaseChange)
        labels = _labels(view.results_tree)
        assert any("upgrade" in line and "fixed" in line for line in labels)
        fixed = [c for c in view.comparison.interesting() if c.verdict is Verdict.FIXED]
        assert fixed and "points to load" in fixed[0].hint
        text = await _detail_text(app)
        assert "hint:" in text
        await pilot.press("c")
        assert view.comparison is None and view.run is alone


async def test_huge_output_is_capped_in_the_detail() -> None:
    big = "line of output\n" * 20_000
    xml = (
        '<testsuite name="s"><testcase name="t" classname="c"><failure message="m">tb</failure>'
        f"<system-out>{big}</system-out></testcase></testsuite>"
    ).encode()
    app = ViewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(JUnitView)
        view.show_run(load_run_from_bytes("big", {"custom__a__big.xml": xml}))
        await pilot.pause()
        text = await _detail_text(app)
        assert "characters omitted" in text
        assert len(text) < 60_000
        assert view.has_class("-narrow")
