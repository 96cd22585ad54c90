"""SVG snapshots of the log pane: paused with new lines waiting, and search highlights."""

from __future__ import annotations

from textual.app import App, ComposeResult

from redfix_tui.logs.spool import LogSpool
from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.log_view import LogView

CONTENT = b"".join(
    [
        b"\x1b[1m==== stage: install ====\x1b[0m\n",
        *(
            b"tests/gitea/test_install.py::test_step_%d \x1b[32mPASSED\x1b[0m\n" % i
            for i in range(1, 9)
        ),
        b"==== stage: upgrade ====\n",
        b"tests/gitea/test_upgrade.py::test_login \x1b[31mFAILED\x1b[0m\n",
        b"E   assert 502 == 200\n",
        b"clipboard attack \x1b]52;c;cm0gLXJmIH4=\x07stays inert\n",
        *(
            b"upgrade step %d: waiting for service gitea_app to converge\n" % i
            for i in range(1, 12)
        ),
    ]
)


class SnapApp(App):
    """A log pane on fixed content, rate hidden (it depends on time)."""

    def __init__(self) -> None:
        super().__init__()
        self.spool = LogSpool()
        self.spool.append(CONTENT)

    def compose(self) -> ComposeResult:
        yield LogPane()

    def on_mount(self) -> None:
        pane = self.query_one(LogPane)
        pane.attach(self.spool, "/tmp/redfix-gitea.log", host="cc-ci")
        pane.log_view.show_rate = False
        pane.log_view.focus()

    def on_unmount(self) -> None:
        self.spool.close()


def test_paused_with_new_lines(snap_compare) -> None:
    async def pause_then_append(pilot) -> None:
        await pilot.pause()
        await pilot.press("up", "up", "up")
        pilot.app.spool.append(b"".join(b"late line %d\n" % i for i in range(7)))
        await pilot.pause(0.1)
        assert pilot.app.query_one(LogView).pending_lines == 7

    assert snap_compare(SnapApp(), terminal_size=(80, 20), run_before=pause_then_append)


def test_search_highlights(snap_compare) -> None:
    async def search(pilot) -> None:
        await pilot.pause()
        await pilot.press("home", "number_sign", "slash", *"gitea", "enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.1)

    assert snap_compare(SnapApp(), terminal_size=(80, 20), run_before=search)
