"""SVG snapshots of the log pane: paused with new lines waiting, search highlights, and the time
gutter with the freshness title (an injected clock)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from redfix_tui.app import styles_dir
from redfix_tui.logs.clock import ArrivalTimes
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

    CSS_PATH = [styles_dir() / "app.tcss"]  # the console's stylesheet (scrollbars)

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


T0 = 1_781_826_000.0
"""2026-06-18T23:40:00Z: the injected clock's start (snapshots hold no real clock)."""


class TimedSnapApp(SnapApp):
    """The same log, its chunks stamped by an injected clock a few seconds to minutes apart."""

    def __init__(self) -> None:
        App.__init__(self)
        self.now = T0
        self.spool = LogSpool()
        self.spool.arrivals = ArrivalTimes(lambda: self.now)
        for index, line in enumerate(CONTENT.splitlines(keepends=True)):
            self.now += 95 if b"stage:" in line else 7 + index % 3
            self.spool.append(line)
        self.now += 3  # the last byte came 3 s ago


def test_time_gutter_and_freshness_80x24(snap_compare) -> None:
    async def times(pilot) -> None:
        view = pilot.app.query_one(LogView)
        pane = pilot.app.query_one(LogPane)
        await pilot.press("t")
        await pilot.app.workers.wait_for_complete()
        await pilot.press("home")
        pane.refresh_freshness()
        await pilot.pause(0.1)
        assert view.show_times and len(view.stages.stages) == 2

    assert snap_compare(TimedSnapApp(), terminal_size=(80, 24), run_before=times)
