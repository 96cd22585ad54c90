"""The console's footer: Textual's, recomposed once per burst of binding changes."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's :class:`~textual.widgets.Footer`, recomposed at most once per refresh.

    Textual's footer rebuilds all its keys after every change of the screen's bindings (each
    focus change, each ``refresh_bindings``), and each new key restyles itself twice; at start-up
    that came to 14 rebuilds, about a third of the event loop's time before the log streamed
    (profiled on ``redfix-tui --local log FILE``). Changes that come in one burst now share one
    rebuild, made after the next refresh with the bindings as they are then.
    """

    def __init__(self) -> None:
        super().__init__()
        self._rebuild_due = False

    def bindings_changed(self, screen: Screen) -> None:
        """Schedule one rebuild for the bindings' changes until it runs."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_due:
            self._rebuild_due = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_due = False
        await self.recompose()
