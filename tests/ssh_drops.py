"""Drop the connections an OpenSSH test sshd serves, as a network failure would."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.sshd import SSHD


def drop_sessions(server: SSHD) -> int:
    """Kill the sshd processes serving connections (not the listener), as a network drop would:
    every client connection ends; the commands they ran are left to die of a broken pipe."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
        names[int(entry.name)] = name
    found: list[int] = []
    todo = list(children.get(server.process.pid, []))
    while todo:
        pid = todo.pop()
        if names.get(pid, "").startswith("sshd"):
            found.append(pid)
        todo.extend(children.get(pid, []))
    alive = []
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue  # it ended by itself meanwhile
        alive.append(pid)
    return len(alive)
