"""The status bar: the node's connection state, the run in flight, disk free and the sweep timer.

The disk field warns when runs_root's file system, or the run archive's (shown apart when it is
another one), has less than :data:`LOW_DISK` free.

Node text (the host label, an error message, the stage of the run in flight) is shown through
:func:`redfix_tui.safe_text.clean`, into a Rich ``Text`` (never markup).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ..runs.state import NodeStatus
from ..safe_text import clean

LOW_DISK = 2 * 1024**3
"""Free bytes below which the disk field warns (reruns write results, JUnit, logs and archives)."""

STATE_STYLES = {
    "connecting": ("◌ connecting", "yellow"),
    "connected": ("● connected", "green"),
    "reconnecting": ("◌ reconnecting", "bold yellow"),
    "down": ("✘ down", "bold red"),
}


def human_bytes(size: int | None) -> str:
    """``38G``-style sizes (powers of 1024); ``?`` when unknown."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return (
                f"{value:.0f}{unit}" if unit in ("B", "K") or value >= 10 else f"{value:.1f}{unit}"
            )
        value /= 1024
    return "?"


def human_delta(delta: timedelta) -> str:
    """``2d 3h``, ``4h 10m``, ``12m``, ``40s``."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    if minutes:
        return f"{sign}{minutes}m"
    return f"{sign}{secs}s"


def disk_text(what: str, free: int | None) -> Text:
    """``disk 38G free``; below :data:`LOW_DISK`, ``disk 1.2G free ⚠ low`` in bold yellow."""
    low = free is not None and free < LOW_DISK
    return Text(
        f"{what} {human_bytes(free)} free{' ⚠ low' if low else ''}", "bold yellow" if low else ""
    )


class NodeStatusBar(Static):
    """One line about the node, refreshed by the screen and by its own one-second tick."""

    DEFAULT_CSS = """
    NodeStatusBar {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    NodeStatusBar.-down { background: $error 30%; }
    """

    connection: reactive[str] = reactive("connecting")
    """connecting / connected / reconnecting / down."""
    message: reactive[str] = reactive("")
    """Why the connection is in its state (shown when not connected)."""
    node_status: reactive[NodeStatus | None] = reactive(None)
    """The last refresh of the node's state."""
    host: reactive[str] = reactive("")
    """The node's label."""
    run_progress: reactive[str] = reactive("")
    """Where the rerun in flight is (``upgrade 0:42/1:10``), shown after it."""
    problem: reactive[str] = reactive("")
    """A node command that failed in the last refresh (the connection itself is fine)."""
    archive_free: reactive[int | None] = reactive(None)
    """Free bytes on the run archive's file system when it is not runs_root's (None: the same
    file system, or not read)."""

    def __init__(
        self, *, clock: Callable[[], datetime] | None = None, tick: bool = True, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._tick = tick

    def on_mount(self) -> None:
        """Tick once a second so elapsed times move between refreshes."""
        if self._tick:
            self.set_interval(1, self.refresh)

    def watch_connection(self, state: str) -> None:
        """Mark the bar when the node is down."""
        self.set_class(state == "down", "-down")

    def render(self) -> Text:
        """Compose the line."""
        now = self._clock()
        label, style = STATE_STYLES.get(self.connection, (self.connection, ""))
        text = Text()
        text.append(label, style=style)
        if self.host:
            text.append(f" {clean(self.host)}")
        status = self.node_status
        if self.connection != "connected" and self.message:
            text.append(f" — {clean(self.message)}", style="italic")
        if status is not None:
            text.append("  │ ")
            rerun = status.active_rerun
            if status.in_flight or rerun is not None:
                who = rerun.recipe if rerun else "run"
                pid = rerun.pid if rerun else status.in_flight[0].pid
                elapsed = status.elapsed(now)
                text.append(
                    f"▶ {clean(who)} pid {pid} {human_delta(elapsed or timedelta())}",
                    style="bold cyan",
                )
                if self.run_progress:
                    text.append(f" · {clean(self.run_progress)}", style="cyan")
            else:
                text.append("idle", style="green")
            text.append("  │ ")
            text.append_text(disk_text("disk", status.disk_free))
            if self.archive_free is not None:
                text.append(" · ")
                text.append_text(disk_text("archive", self.archive_free))
            if status.sweep_next is not None:
                text.append(f"  │ sweep in {human_delta(status.sweep_next - now)}")
            if status.stacks_error:
                text.append(f"  │ stacks n/a — {clean(status.stacks_error)}", style="yellow")
            if status.refreshed is not None:
                text.append(f"  │ ↻ {human_delta(now - status.refreshed)} ago", style="dim")
        if self.problem:
            text.append(f"  │ ⚠ {clean(self.problem)}", style="bold yellow")
        return text
