"""What the console needs of a node, whichever way it is reached.

:class:`~redfix_tui.node.NodeConnection` (asyncssh, for cc-ci and the demo) and
:class:`~redfix_tui.local_node.LocalNode` (``host = "local"``: the node is this machine) both
provide it; the core (recipes, runs, the ledger, the log tail, JUnit fetching) is written against
this protocol only, so a type checker holds both transports to the same interface.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .node import CommandResult


class Node(Protocol):
    """A node: run commands, stream output, read files, and report the connection's state."""

    last_exit_status: int | None
    """The exit status of the last stream that ended normally."""
    last_stderr: str
    """What that stream wrote to stderr (capped)."""

    @property
    def host_label(self) -> str:
        """A short name for borders, evidence and the status bar."""
        ...

    @property
    def is_connected(self) -> bool:
        """True while the node can be reached (the SSH transport is up)."""
        ...

    @property
    def auth_stopped(self) -> bool:
        """True once authentication was refused often enough that retrying needs the user."""
        ...

    def reset(self) -> None:
        """Allow another connection attempt after an authentication stop (ctrl+r)."""

    def add_listener(self, listener: Callable[[str, str], None]) -> None:
        """Call ``listener(state, message)`` on every connection state change."""

    async def connect(self) -> None:
        """Connect (a no-op when connected); raise :class:`~redfix_tui.node.NodeError`."""

    async def close(self) -> None:
        """Close the connection (or stop the local commands)."""

    async def run(
        self, command: str, *, check: bool = False, timeout: float | None = 60.0
    ) -> CommandResult:
        """Run a shell command and collect its output."""
        ...

    def stream(
        self, command: str, *, chunk_size: int = 65536, merge_stderr: bool = False
    ) -> AsyncGenerator[bytes, None]:
        """Yield a command's stdout as raw byte chunks until it ends."""
        ...

    async def read_file(self, path: str, *, limit: int = 64 * 1024 * 1024) -> bytes:
        """Read up to ``limit`` bytes of a file on the node."""
        ...
