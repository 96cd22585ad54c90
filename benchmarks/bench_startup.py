"""Start-up: launch to first frame and to every recipe on the board, in real tmux.

Modes: ``demo`` (``redfix-tui --demo``, the in-process server) and ``openssh`` (the test suite's
OpenSSH sshd serving a cc-ci demo tree, on loopback and through the 60 ms-each-way latency
proxy). Baseline, measured in the same run the same way and interleaved: a minimal Textual app
(one Static) to its first frame. Prints medians over N runs, ratios and the load average.
Run: ``.venv/bin/python benchmarks/bench_startup.py [demo|openssh] [--runs N] [--tree DIR]``
(``--tree``: run the console from another source tree, e.g. an older commit's, for before/after).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.tmux import Tmux

WIDTH, HEIGHT = 160, 50
"""The terminal: wide enough for the board beside the log with every recipe's row (below 120
columns the board stacks above the log, a third of the height, and scrolls)."""
RECIPES = ("discourse", "mattermost-lts", "mumble", "bluesky-pds", "gitea", "keycloak")
MINIMAL = (
    "from textual.app import App\nfrom textual.widgets import Static\n"
    "class Minimal(App):\n    def compose(self):\n        yield Static('minimal-ready')\n"
    "Minimal().run()\n"
)


def measure(command: list[str], first, done, cwd: Path | None = None) -> tuple[float, float]:
    """Seconds from spawn to the first frame, and to the ``done`` screen."""
    start = time.monotonic()
    tmux = Tmux(command, width=WIDTH, height=HEIGHT, cwd=cwd)
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


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(runs: int = 5, tree: Path | None = None) -> None:
    """Measure and print (the demo mode)."""
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
                cwd=tree,
            )
            first.append(f)
            populated.append(p)
    b, f, p = (statistics.median(x) for x in (base, first, populated))
    print(f"runs: {runs} (medians, real tmux {WIDTH}x{HEIGHT}), load {load()}")
    print(f"minimal Textual app, first frame:   {b * 1000:7.0f} ms  (baseline 1.00x)")
    print(f"redfix-tui --demo, first frame:     {f * 1000:7.0f} ms  ({f / b:.2f}x)")
    print(f"redfix-tui --demo, six recipes:     {p * 1000:7.0f} ms  ({p / b:.2f}x)")


@dataclasses.dataclass
class OpenSSHNode:
    """A demo tree served by the test suite's sshd, and console configs that reach it."""

    root: Path
    direct: Path
    """The config file for loopback."""
    proxied: Path
    """The config file for the latency proxy (60 ms each way)."""
    recipes: tuple[str, ...]
    tree: object
    node_config: object


def _changed(config: object, section: str, known: set[str] | None) -> dict[str, object]:
    """A config section's values that differ from the defaults, only the ``known`` keys (an
    older console knows only some)."""
    from redfix_tui.config import Config

    ours = dataclasses.asdict(getattr(config, section))
    base = dataclasses.asdict(getattr(Config(), section))
    return {
        k: v
        for k, v in ours.items()
        if v != base.get(k) and v is not None and (known is None or f"{section}.{k}" in known)
    }


def known_keys(tree: Path | None) -> set[str] | None:
    """The config keys the console in ``tree`` knows (None: this tree's, all of them)."""
    if tree is None:
        return None
    import json
    import subprocess

    script = (
        "import dataclasses, json\nfrom redfix_tui.config import Config\nc = Config()\n"
        "print(json.dumps([f'{s}.{f.name}' for s in ('node', 'paths', 'commands') "
        "for f in dataclasses.fields(getattr(c, s))]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tree, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout))


@contextmanager
def openssh_node(
    workdir: Path, delay: float = 0.06, known: set[str] | None = None
) -> Iterator[OpenSSHNode]:
    """Start sshd and a latency proxy in front of it, serving a cc-ci demo tree."""
    import tomli_w

    from redfix_tui.demo.server import new_client_key
    from redfix_tui.demo.tree import build_demo_node
    from tests.conftest import SSHFiles
    from tests.sshd import LatencyProxy, start_sshd
    from tests.test_runs_openssh import openssh_config

    workdir.mkdir(parents=True, exist_ok=True)
    key, public = new_client_key()
    client_key = workdir / "client_key"
    key.write_private_key(str(client_key))
    client_key.chmod(0o600)
    known_hosts = workdir / "known_hosts"
    ssh_config = workdir / "ssh_config"
    ssh_config.write_text("")
    files = SSHFiles(client_key, known_hosts, ssh_config, public)
    tree = build_demo_node(workdir / "node", python=sys.executable, speed=0.1)
    sshd = start_sshd(workdir / "sshd", public)
    proxy = LatencyProxy(sshd.port, delay=delay).start()
    try:
        key_line = sshd.known_hosts_line().split(" ", 1)[1]
        known_hosts.write_text(sshd.known_hosts_line() + f"[127.0.0.1]:{proxy.port} {key_line}")
        paths, configs = [], []
        for name, port in (("direct", sshd.port), ("proxied", proxy.port)):
            config = openssh_config(tree, files, port)
            data = {
                "node": _changed(config, "node", known),
                "paths": _changed(config, "paths", known),
                "commands": _changed(config, "commands", known),
                "journal": {"path": str(workdir / "JOURNAL-redfix.md")},
                "board": {"tracker": str(workdir / "tracker.toml")},
            }
            path = workdir / f"{name}.toml"
            path.write_text(tomli_w.dumps(data))
            paths.append(path)
            configs.append(config)
        yield OpenSSHNode(workdir, paths[0], paths[1], tuple(tree.recipes), tree, configs[0].node)
    finally:
        proxy.close()
        sshd.stop()


def main_openssh(runs: int = 5, tree: Path | None = None) -> None:
    """Launch → every recipe on the board over OpenSSH, loopback and via the latency proxy;
    with ``tree``, that tree's console is measured too, interleaved in the same runs."""
    consoles: list[tuple[str, Path | None]] = [("this tree", None)]
    if tree is not None:
        consoles.append(("--tree", tree))
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        nodes = {
            label: stack.enter_context(openssh_node(Path(tmp) / f"n{i}", known=known_keys(where)))
            for i, (label, where) in enumerate(consoles)
        }
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL)
        times: dict[str, list[float]] = {}

        for _ in range(runs):
            t, _ = measure(
                [sys.executable, str(minimal)], lambda s: "minimal-ready" in s, lambda s: True
            )
            times.setdefault("base", []).append(t)
            for label, where in consoles:
                node = nodes[label]
                for name, config in (("direct", node.direct), ("proxied", node.proxied)):
                    f, p = measure(
                        [sys.executable, "-m", "redfix_tui", "--config", str(config)],
                        lambda s: "Recipes" in s,
                        lambda s, node=node: all(r[:12] in s for r in node.recipes),
                        cwd=where,
                    )
                    times.setdefault(f"{label} {name}", []).append(p)
                    times.setdefault(f"{label} first {name}", []).append(f)
    med = {k: statistics.median(v) for k, v in times.items()}
    b = med["base"]
    print(f"runs: {runs} (medians, interleaved, real tmux {WIDTH}x{HEIGHT}), load {load()}")
    print(f"minimal Textual app, first frame:          {b * 1000:7.0f} ms  (baseline 1.00x)")
    for label, where in consoles:
        print(f"{label}{f' ({where})' if where else ''}:")
        for name, what, target in (
            ("direct", "OpenSSH loopback", 1200),
            ("proxied", "OpenSSH +60 ms each way", 1600),
        ):
            f, p = med[f"{label} first {name}"], med[f"{label} {name}"]
            print(f"  {what + ', first frame:':40} {f * 1000:7.0f} ms  ({f / b:.2f}x)")
            print(
                f"  {what + ', every recipe:':40} {p * 1000:7.0f} ms  ({p / b:.2f}x)"
                f"  target <= {target} ms"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=("demo", "openssh"), default="demo")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tree", type=Path, help="run the console from this source tree")
    args = parser.parse_args()
    tree = args.tree.resolve() if args.tree else None
    (main_openssh if args.mode == "openssh" else main)(args.runs, tree)
