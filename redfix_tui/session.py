"""A console session: the config, the node connection and the core services built on it.

Textual-free, so the CLI, the app and the tests share one way of wiring things together. A demo
session starts its simulated node (an in-process SSH server) inside the caller's event loop and
then connects to it exactly as to cc-ci.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config, NodeConfig

if TYPE_CHECKING:  # imported on first use (the CLI imports asyncssh before the UI)
    from .local_node import LocalNode
    from .logs.tail import RemoteTail
    from .node import NodeConnection
    from .recipes import RecipeSource, RecipeStatus
    from .runs.control import RunControl
    from .runs.state import NodeStatus

TAIL_FIRST_S = 2.0
"""With ``log NODE:FILE``, the board's first read waits (at most this long) for the log's
follower to start on the node: the node starts one command at a time faster than two."""
BoardRead = tuple[list["RecipeStatus"], "NodeStatus"]
"""The board's first read: every recipe's status and the node's state."""


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
    _board_read: asyncio.Task[BoardRead] | None = field(default=None, init=False, repr=False)
    started_early: bool = field(default=False, init=False)
    """True once :meth:`start_early` began connecting (the app then need not)."""
    _early_tail: tuple[RemoteTail, asyncio.Task[None]] | None = field(
        default=None, init=False, repr=False
    )

    def start_early(self) -> None:
        """Connect and read the board's data now, in the background, before the console's UI
        is even imported (the CLI calls this first thing in its event loop): the handshake and
        the board's one remote command then run while Textual starts. The main screen's first
        refresh takes the result (:meth:`take_board_read`). With :attr:`open_log`, its tail
        starts too, before the board's read, and the log pane takes it over
        (:meth:`take_early_tail`). Not for the demo (its server starts with the screen)."""
        if not self.early or self.started_early:
            return
        self.started_early = True
        node = self.node
        early = getattr(node, "connect_early", None)
        if early is not None:
            early()
        tail: RemoteTail | None = None
        if self.open_log:  # `redfix-tui log NODE:FILE`: its bytes start coming in now too
            from .logs.spool import LogSpool
            from .logs.tail import RemoteTail

            tail = RemoteTail(node, self.open_log, LogSpool())
            tail_task = asyncio.get_running_loop().create_task(tail.run())
            tail_task.add_done_callback(_retrieve)
            self._early_tail = (tail, tail_task)
        task = asyncio.get_running_loop().create_task(self._read_board(tail))
        task.add_done_callback(_retrieve)
        self._board_read = task

    @property
    def early(self) -> bool:
        """Whether :meth:`start_early` starts anything: for a node over SSH or this machine
        (``--local``: its commands and the log's follower take a while to start too), not for
        the demo (its server starts with the screen)."""
        return self.demo_dir is None

    async def _read_board(self, tail: RemoteTail | None = None) -> BoardRead:
        await self.node.connect()
        if tail is not None:  # the log asked for goes first: its follower starts alone
            waited = 0.0
            while tail.state.status == "CONNECTING" and waited < TAIL_FIRST_S:
                await asyncio.sleep(0.02)
                waited += 0.02
        statuses, status = await asyncio.gather(self.recipes.load(), self.runs.status(self.clock()))
        return statuses, status

    def take_early_tail(self, path: str) -> tuple[RemoteTail, asyncio.Task[None]] | None:
        """The tail of ``path`` :meth:`start_early` began (and its running task), once; the
        taker owns both (its spool too). None for another path, or after it was taken."""
        early = self._early_tail
        if early is None or early[0].path != path:
            return None
        self._early_tail = None
        return early

    def take_board_read(self) -> asyncio.Task[BoardRead] | None:
        """The board read :meth:`start_early` began, once (None after that, or without it)."""
        task, self._board_read = self._board_read, None
        return task

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
        early = self.take_board_read()  # a read of the node left behind is not wanted
        if early is not None:
            early.cancel()
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
        early = self.take_board_read()
        if early is not None and not early.done():
            early.cancel()
        tail, self._early_tail = self._early_tail, None
        if tail is not None:  # never handed to a log view
            tail[1].cancel()
            with contextlib.suppress(asyncio.CancelledError):  # the cancellation just asked
                await tail[1]
            tail[0].spool.close()
        if self._services is not None:
            await self.node.close()
        if self.demo is not None:
            await self.demo.close()


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark an early task's failure as seen (its taker, if any, gets it too)."""
    if not task.cancelled():
        task.exception()
