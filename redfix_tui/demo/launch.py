"""Start the embedded demo: build the simulated node, serve it over SSH, pin its host key."""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..config import Config, config_from_dict
from .server import LocalShellServer, new_client_key
from .tree import DemoNode, build_demo_node


@dataclass
class DemoNodeServer:
    """A running demo node: its tree, its SSH server and the client-side files that reach it."""

    node: DemoNode
    server: LocalShellServer
    client_key: Path
    known_hosts: Path
    ssh_config: Path

    def apply(self, config: Config) -> None:
        """Point ``config`` at this demo node (paths, command overrides, SSH settings)."""
        overrides = config_from_dict(self.node.config_overrides(), "<demo>")
        config.paths = overrides.paths
        config.commands = overrides.commands
        config.board.recipes = []
        config.node.host = "127.0.0.1"
        config.node.port = self.server.port
        config.node.username = getpass.getuser()
        config.node.known_hosts = str(self.known_hosts)
        config.node.client_keys = [str(self.client_key)]
        config.node.ssh_config = str(self.ssh_config)

    async def close(self) -> None:
        """Stop the SSH server (detached demo reruns end on their own)."""
        await self.server.close()


async def start_demo_node(workdir: Path, *, speed: float | None = None) -> DemoNodeServer:
    """Build the simulated cc-ci under ``workdir`` and serve it on 127.0.0.1 (ephemeral port)."""
    workdir.mkdir(parents=True, exist_ok=True)
    if speed is None:
        speed = float(os.environ.get("REDFIX_DEMO_SPEED", "1") or 1)
    root = workdir / "node"
    if (root / "etc" / "cc-ci" / "runner" / "run_recipe_ci.py").is_file():
        node = DemoNode(root.resolve())  # reopened: keep its runs, logs and a rerun in flight
    else:
        node = build_demo_node(root, python=sys.executable, speed=speed)
    client_dir = workdir / "client"
    client_dir.mkdir(exist_ok=True)
    key, public = new_client_key()
    client_key = client_dir / "id_ed25519"
    key.write_private_key(str(client_key))
    client_key.chmod(0o600)
    env = {
        "PATH": f"{node.root / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(node.root / "home"),
        "LANG": "C.UTF-8",
        "REDFIX_DEMO_SPEED": str(speed),
    }
    server = LocalShellServer(client_public_key=public, cwd=node.root, env=env)
    await server.start()
    known_hosts = client_dir / "known_hosts"
    known_hosts.write_text(server.known_hosts_line())
    ssh_config = client_dir / "ssh_config"
    ssh_config.write_text("")
    return DemoNodeServer(node, server, client_key, known_hosts, ssh_config)
