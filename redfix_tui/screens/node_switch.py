"""The main screen's node switching: several nodes in the config, one in use at a time.

A mixin for :class:`~redfix_tui.screens.main.MainScreen`. Switching closes the connection, clears
what the board, log and JUnit panes showed of the old node, and loads the new one.
"""

from __future__ import annotations

from textual import work
from textual.binding import Binding

from ..config import ConfigError
from ..widgets.choice_dialog import ChoiceDialog
from ..widgets.recipe_board import RecipeBoard
from ..widgets.status_bar import NodeStatusBar


class NodeSwitchMixin:
    """``N`` picks another configured node."""

    NODE_BINDINGS = [
        Binding("N", "switch_node", "Node", id="main.switch_node"),
    ]

    def action_switch_node(self) -> None:
        """Offer the configured nodes (a one-node config says so)."""
        session = self.session  # type: ignore[attr-defined]
        names = session.config.node_names()
        if session.demo_dir is not None or len(names) < 2:
            self.notify(  # type: ignore[attr-defined]
                "only one node is configured (add [nodes.NAME] tables to the config)",
                severity="warning",
            )
            return
        nodes = []
        for name in names:
            node = session.config.node_config(name)
            where = f"{node.username + '@' if node.username else ''}{node.host}"
            nodes.append((name, f"{name}  ({where}{f':{node.port}' if node.port else ''})"))
        current = session.node_name or session.config.node.host
        dialog = ChoiceDialog("Work on node", nodes, current)
        self.app.push_screen(dialog, self._switch_to)  # type: ignore[attr-defined]

    @work(group="node-switch", exclusive=True, exit_on_error=False)
    async def _switch_to(self, name: str | None) -> None:
        session = self.session  # type: ignore[attr-defined]
        if name is None or name == (session.node_name or session.config.node.host):
            return
        try:
            await session.switch_node(name)
        except ConfigError as exc:
            self.notify(str(exc), severity="error")  # type: ignore[attr-defined]
            return
        self.reset_for_node()
        self.notify(f"now on node {name}", title="Node")  # type: ignore[attr-defined]
        self.start_session()  # type: ignore[attr-defined]

    def reset_for_node(self) -> None:
        """Forget everything shown about the previous node."""
        self.statuses = []  # type: ignore[attr-defined]
        self.node_status = None  # type: ignore[attr-defined]
        self.rerun_state = None  # type: ignore[attr-defined]
        self._following = None  # type: ignore[attr-defined]
        self._junit_remote = None  # type: ignore[attr-defined]
        board = self.query_one(RecipeBoard)  # type: ignore[attr-defined]
        board._announced = None
        board.node_label = self.session.host_label  # type: ignore[attr-defined]
        board.show([], {})
        board.set_progress({})
        bar = self.query_one(NodeStatusBar)  # type: ignore[attr-defined]
        bar.node_status = None
        bar.connection = "connecting"
        bar.host = self.session.host_label  # type: ignore[attr-defined]
