"""KeyFooter: the keys of the focused widget, rebuilt once for a burst of binding changes."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from redfix_tui.widgets.key_footer import KeyFooter


class Pane(Static, can_focus=True):
    """A focusable pane with one key of its own."""

    def __init__(self, key: str, label: str, **kwargs) -> None:
        super().__init__(label, **kwargs)
        self._bindings.bind(key, "noop", label)

    def action_noop(self) -> None:
        """Nothing."""


class Two(App[None]):
    BINDINGS = [Binding("q", "quit", "Quit", id="test.quit")]

    def compose(self) -> ComposeResult:
        yield Pane("a", "Alpha", id="one")
        yield Pane("b", "Beta", id="two")
        yield KeyFooter()


async def test_a_burst_of_focus_changes_rebuilds_the_footer_once_with_the_last_keys() -> None:
    app = Two()
    async with app.run_test(size=(80, 10)) as pilot:
        footer = app.query_one(KeyFooter)
        one, two = app.query_one("#one"), app.query_one("#two")
        one.focus()
        await pilot.pause()
        await pilot.pause()
        labels = {key.description for key in footer.query(FooterKey)}
        assert "Alpha" in labels and "Beta" not in labels
        rebuilds: list[int] = []
        recompose = footer.recompose

        async def counting() -> None:
            rebuilds.append(1)
            await recompose()

        footer.recompose = counting  # type: ignore[method-assign]
        for _ in range(5):  # one burst: five changes of the bindings
            two.focus()
            one.focus()
        two.focus()
        await pilot.pause()
        await pilot.pause()
        labels = {key.description for key in footer.query(FooterKey)}
        assert "Beta" in labels and "Alpha" not in labels and "Quit" in labels
        assert 1 <= len(rebuilds) <= 2  # Textual's own Footer rebuilds once per change: 11
