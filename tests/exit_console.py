"""A console for the exit tests (run as a script): no node, and a session whose ``close()``
works, raises, hangs, or blocks the event loop (``sys.argv[1]``: ok/raise/hang/block)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from redfix_tui.app import create_app
from redfix_tui.config import Config
from redfix_tui.session import Session


class TroubledSession(Session):
    """A session whose close misbehaves as asked."""

    mode = "ok"

    async def close(self) -> None:
        """Close, or fail to, per :attr:`mode`."""
        if self.mode == "raise":
            raise RuntimeError("close exploded")
        if self.mode == "hang":
            await asyncio.Event().wait()
        if self.mode == "block":
            time.sleep(30)  # the event loop itself is stuck
        await super().close()


def main() -> None:
    """Run the console until it is signalled."""
    session = TroubledSession(Config(), Path(sys.argv[2]), "redfix")
    session.mode = sys.argv[1]
    create_app(session, load=False).run()


if __name__ == "__main__":
    main()
