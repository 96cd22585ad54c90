"""Start-up: ``redfix-tui --demo`` to first frame and to a populated recipe list, in real tmux.

Baseline, measured in the same run the same way: a minimal Textual app (one Static) to its first
frame. Prints medians over N runs and ratios. Run: ``.venv/bin/python benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.tmux import Tmux

RECIPES = ("discourse", "mattermost-lts", "mumble", "bluesky-pds", "gitea", "keycloak")
MINIMAL = (
    "from textual.app import App\nfrom textual.widgets import Static\n"
    "class Minimal(App):\n    def compose(self):\n        yield Static('minimal-ready')\n"
    "Minimal().run()\n"
)


def measure(command: list[str], first, done) -> tuple[float, float]:
    """Seconds from spawn to the first frame, and to the ``done`` screen."""
    start = time.monotonic()
    tmux = Tmux(command, width=80, height=24)
    try:
        tmux.wait_for(first, timeout=30, interval=0.005)
        t_first = time.monotonic() - start
        tmux.wait_for(done, timeout=30, interval=0.005)
        t_done = time.monotonic() - start
        tmux.send("q")
    finally:
        time.sleep(0.2)
        tmux.kill()
    return t_first, t_done


def main(runs: int = 5) -> None:
    """Measure and print."""
    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL)
        base, first, populated = [], [], []
        for _ in range(runs):
            t, _ = measure(
                [sys.executable, str(minimal)], lambda s: "minimal-ready" in s, lambda s: True
            )
            base.append(t)
            f, p = measure(
                [
                    sys.executable,
                    "-m",
                    "redfix_tui",
                    "--demo",
                    "--demo-dir",
                    tempfile.mkdtemp(dir=tmp),
                ],
                lambda s: "Recipes" in s,
                lambda s: all(r[:12] in s for r in RECIPES),
            )
            first.append(f)
            populated.append(p)
    b, f, p = (statistics.median(x) for x in (base, first, populated))
    print(f"runs: {runs} (medians, real tmux 80x24)")
    print(f"minimal Textual app, first frame:   {b * 1000:7.0f} ms  (baseline 1.00x)")
    print(f"redfix-tui --demo, first frame:     {f * 1000:7.0f} ms  ({f / b:.2f}x)")
    print(f"redfix-tui --demo, six recipes:     {p * 1000:7.0f} ms  ({p / b:.2f}x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
