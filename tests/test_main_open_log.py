"""Opening a log by path (o): on the node, or local:PATH; O goes back to the recipe's log."""

from __future__ import annotations

from pathlib import Path

from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.log_view import LogView
from redfix_tui.widgets.open_log import OpenLogDialog, parse_target
from tests.pilot_helpers import loaded, new_app, until


def test_parse_target() -> None:
    assert parse_target(" /tmp/redfix-gitea.log ") == ("remote", "/tmp/redfix-gitea.log")
    assert parse_target("local:./run.log") == ("local", "./run.log")
    assert "absolute" in parse_target("tmp/x.log")
    assert parse_target("") == "type a path"
    assert "control" in parse_target("/tmp/a\nb")


async def test_open_remote_and_local_logs(demo, tmp_path: Path) -> None:
    _served, config = demo
    remote = tmp_path / "remote.log"
    remote.write_text("from the node 1\nfrom the node 2\n")
    local = tmp_path / "local.log"
    local.write_text("on this machine\n")
    app = new_app(config, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        main = app.screen
        view = main.query_one(LogView)
        pane = main.query_one(LogPane)

        def detail() -> str:
            return str(pane.query_one("#log-source").render())

        def title() -> str:
            shown = str(view.border_title)
            assert shown.startswith(pane.title_text)  # then how live it is
            return pane.title_text

        async def open_(text: str) -> None:
            await pilot.press("o")
            await until(pilot, lambda: isinstance(app.screen, OpenLogDialog))
            app.screen.query_one("Input").value = text
            await pilot.press("enter")

        await open_("relative.log")
        await until(pilot, lambda: "absolute" in str(app.screen.query_one("#error").render()))
        await pilot.press("escape")
        await open_(str(remote))
        await until(pilot, lambda: view.spool is not None and view.spool.line_count == 2)
        assert view.spool.read_line(1) == "from the node 2"
        # The title says what the log is, short; the detail line under it where, in full.
        assert title() == "log · remote.log"
        assert detail() == f"{main.session.node.host_label}:{remote}"
        await open_(f"local:{local}")
        await until(pilot, lambda: view.spool is not None and view.spool.line_count == 1)
        assert view.spool.read_line(0) == "on this machine"
        assert title() == "local file · local.log" and detail() == str(local)
        await pilot.press("O")  # back to the selected recipe's rerun log
        await until(pilot, lambda: view.spool is not None and view.spool.line_count > 100)
        assert "mattermost-lts" in view.source_label
        assert title() == "mattermost-lts · rerun log · redfix-mattermost-lts.log"
        assert detail() == f"{main.session.node.host_label}:{view.source_label}"
