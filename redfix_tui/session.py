"""A console session: the config, the node connection and the core services built on it.

Textual-free, so the CLI, the app and the tests share one way of wiring things together. A demo
session starts its simulated node (an in-process SSH server) inside the caller's event loop and
then connects to it exactly as to cc-ci.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config, NodeConfig

if TYPE_CHECKING:  # asyncssh is imported on first use, after the first frame is drawn
    from .local_node import LocalNode
    from .node import NodeConnection
    from .recipes import RecipeSource
    from .runs.control import RunControl


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass
class Session:
    """Everything the console needs, independent of any screen."""

    config: Config
    journal_path: Path
    phase: str
    host_override: str | None = None
    node_name: str | None = None
    """Which configured node to use (``None``: ``[node]``); see :meth:`switch_node`."""
    demo_dir: Path | None = None
    """When set, :meth:`start` builds and serves a simulated node in this directory."""
    clock: Callable[[], datetime] = utc_now
    demo: Any = None
    """The running demo (a :class:`redfix_tui.demo.launch.DemoNodeServer`) once started."""
    open_log: str | None = None
    """A remote log path to open instead of the selected recipe's rerun log."""

    _services: tuple[NodeConnection | LocalNode, RecipeSource, RunControl] | None = field(
        default=None, init=False, repr=False
    )

    @property
    def local(self) -> bool:
        """True when the node is this machine (``host = "local"`` or ``--local``): commands
        run as local processes, without SSH."""
        if self.demo_dir is not None:
            return False
        from .local_node import is_local

        return is_local(self.host_override or self.node_config().host)

    def _wire(self) -> tuple[NodeConnection | LocalNode, RecipeSource, RunControl]:
        from .recipes import RecipeSource
        from .runs.control import RunControl

        node: NodeConnection | LocalNode
        if self.local:
            from .local_node import LocalNode

            node = LocalNode(self.node_config(), label=self.node_name)
        else:
            from .node import NodeConnection

            label = "demo" if self.demo_dir is not None else None
            node = NodeConnection(
                self.node_config(), host_override=self.host_override, label=label or self.node_name
            )
        self._services = (node, RecipeSource(node, self.config), RunControl(node, self.config))
        return self._services

    @property
    def node(self) -> NodeConnection | LocalNode:
        """The node connection (created on first use)."""
        return (self._services or self._wire())[0]

    @property
    def recipes(self) -> RecipeSource:
        """Recipe status from the node."""
        return (self._services or self._wire())[1]

    @property
    def runs(self) -> RunControl:
        """Reruns and the node's state."""
        return (self._services or self._wire())[2]

    def node_config(self) -> NodeConfig:
        """The settings of the node in use."""
        return self.config.node_config(self.node_name) if self.node_name else self.config.node

    @property
    def host_label(self) -> str:
        """The node's label, without touching the network."""
        if self.demo_dir is not None:
            return "demo"
        if self.local:
            from .local_node import local_label

            return f"{self.node_name} (local)" if self.node_name else local_label()
        if self.node_name:
            return self.node_name
        node = self.node_config()
        host = self.host_override or node.host
        return f"{host}:{node.port}" if node.port else host

    async def switch_node(self, name: str) -> None:
        """Use the configured node ``name`` from now on (closing the current connection)."""
        self.config.node_config(name)  # raises ConfigError for an unknown name
        if self._services is not None:
            await self.node.close()
        self._services = None
        self.node_name = None if name == self.config.node.host else name
        self.host_override = None

    @property
    def tracker_path(self) -> Path:
        """The M1 tracker TOML: the config's, else ``tracker.toml`` beside the journal."""
        if self.config.board.tracker:
            return Path(self.config.board.tracker).expanduser()
        return self.journal_path.with_name(f"{self.journal_path.stem}.tracker.toml")

    async def start(self) -> None:
        """Start the demo node if this is a demo session (the connection opens lazily)."""
        if self.demo_dir is not None and self.demo is None:
            from .demo.launch import start_demo_node

            self.demo = await start_demo_node(self.demo_dir)
            self.demo.apply(self.config)
            self._wire()

    async def close(self) -> None:
        """Close the connection and stop the demo node."""
        if self._services is not None:
            await self.node.close()
        if self.demo is not None:
            await self.demo.close()
