"""Which SSH settings apply to the node, host-key checking against them, and clear diagnoses.

:func:`resolve_target` reads the OpenSSH client config the way ssh would (Host alias, HostName,
Port, User, UserKnownHostsFile, HostKeyAlias) and decides which known_hosts files are in use:
the redfix config's ``known_hosts``, else the ssh config's ``UserKnownHostsFile``, else
``~/.ssh/known_hosts`` (plus the global files that exist). Verification is never switched off:
``UserKnownHostsFile none`` falls back to ``~/.ssh/known_hosts``.

:class:`KnownHostsCheck` is handed to asyncssh as its ``known_hosts`` callable: asyncssh calls it
with the very host name, address and port it matches on, so the diagnosis of a refused key
(:meth:`KnownHostsCheck.explain`) is made on the same facts as the refusal: names and addresses
alike, never a ``ValueError`` from matching a name as an address.
"""

from __future__ import annotations

import getpass
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
DEFAULT_SSH_CONFIG = "~/.ssh/config"
GLOBAL_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"


class MissingFile(Exception):
    """A file named in the settings does not exist; ``message`` names it and where it is set."""

    def __init__(self, what: str, path: str, where: str) -> None:
        self.message = f"{what} {path} does not exist (set in {where}): fix the path or create it"
        super().__init__(self.message)
        self.path = path


@dataclass
class SSHTarget:
    """The node as ssh would reach it, after the ssh config is applied."""

    host: str
    """The host as the operator named it (an alias, a name or an address)."""
    hostname: str
    """Where the connection goes (the config's HostName, else ``host``)."""
    port: int
    user: str
    known_hosts: list[Path]
    """The user known_hosts files in use; the first is where a new key belongs."""
    known_hosts_source: str
    """Where the known_hosts choice comes from, for messages."""
    global_known_hosts: list[Path] = field(default_factory=list)
    config_paths: list[str] = field(default_factory=list)
    """The OpenSSH client config files read (handed on to asyncssh)."""
    ciphers: bool = False
    """True when the ssh config chooses the ciphers (``Ciphers``): then they are left alone."""

    @property
    def files(self) -> list[Path]:
        """Every known_hosts file consulted, user files first."""
        return self.known_hosts + self.global_known_hosts


def _expand(path: str) -> Path:
    return Path(os.path.expandvars(path)).expanduser()


def resolve_target(
    host: str,
    *,
    port: int = 0,
    username: str = "",
    known_hosts: str = "",
    ssh_config: str = "",
    client_keys: list[str] | tuple[str, ...] = (),
) -> SSHTarget:
    """Apply the ssh config to ``host``; raise :class:`MissingFile` for a named file that is
    not there and ``ValueError`` for a config asyncssh cannot parse."""
    from asyncssh.config import SSHClientConfig

    if ssh_config:
        paths = [str(_expand(ssh_config))]
        if not Path(paths[0]).is_file():
            raise MissingFile("ssh config", paths[0], "[node] ssh_config")
    else:
        default = _expand(DEFAULT_SSH_CONFIG)
        paths = [str(default)] if os.access(default, os.R_OK) else []
    for key in client_keys:
        if not _expand(key).is_file():
            raise MissingFile("identity file", str(_expand(key)), "[node] client_keys")
    local_user = getpass.getuser()
    config = SSHClientConfig.load(
        None, paths, False, False, False, local_user, username or (), host, port or ()
    )
    hostname = str(config.get("Hostname") or host)
    user = username or str(config.get("User") or local_user)
    real_port = port or int(str(config.get("Port") or 22))
    if known_hosts:
        files = [_expand(known_hosts)]
        if not files[0].is_file():
            raise MissingFile("known_hosts file", str(files[0]), "[node] known_hosts")
        source = "[node] known_hosts"
    else:
        listed: Any = config.get("UserKnownHostsFile", None)
        files = [_expand(str(p)) for p in listed or [] if str(p).lower() != "none"]
        source = "UserKnownHostsFile in the ssh config"
        if not files:
            files, source = [_expand(DEFAULT_KNOWN_HOSTS)], "the default"
    listed_global: Any = config.get("GlobalKnownHostsFile", None)
    global_files = [_expand(str(p)) for p in listed_global or [GLOBAL_KNOWN_HOSTS]]
    global_files = [p for p in global_files if p.is_file() and p not in files]
    return SSHTarget(
        host,
        hostname,
        real_port,
        user,
        files,
        source,
        global_files,
        config_paths=paths,
        ciphers=bool(config.get("Ciphers")),
    )


class KnownHostsCheck:
    """asyncssh's ``known_hosts`` callable over the target's files; remembers what it matched."""

    def __init__(self, target: SSHTarget) -> None:
        self.target = target
        self.host = ""
        self.addr = ""
        self.port: int | None = None
        self.trusted: list[Any] = []
        """The keys (host and CA keys) known_hosts holds for the node; empty: unknown node."""
        self.problem = ""
        """A known_hosts file that could not be read, in one line."""
        self.called = False

    def _load(self) -> Any:
        import asyncssh

        known = asyncssh.SSHKnownHosts()
        for path in self.target.files:
            try:
                known.load(path.read_text(errors="replace"))
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else str(exc)
                self.problem = self.problem or f"cannot read known_hosts {path}: {reason}"
        return known

    def __call__(self, host: str, addr: str, port: int | None) -> Any:
        """Match as asyncssh asks (``port`` is None for 22); never raises."""
        self.called = True
        self.host, self.addr, self.port = host, addr, port
        try:
            result = self._load().match(host, addr, port)
        except ValueError as exc:  # a malformed entry: nothing trusted, and say why
            self.problem = self.problem or f"cannot match {host} in known_hosts: {exc}"
            return ([], [], [], [], [], [], [])
        self.trusted = list(result[0]) + list(result[1])
        return result

    def find_line(self) -> tuple[Path, int] | None:
        """The file and 1-based line of the first entry holding a trusted key for the node."""
        import asyncssh

        wanted = {key.public_data for key in self.trusted}
        for path in self.target.files:
            try:
                lines = path.read_text(errors="replace").splitlines()
            except OSError:
                continue
            for number, line in enumerate(lines, 1):
                text = line.strip()
                if not text or text.startswith("#"):
                    continue
                try:
                    match = asyncssh.import_known_hosts(text).match(self.host, self.addr, self.port)
                except ValueError:
                    continue
                if any(key.public_data in wanted for key in list(match[0]) + list(match[1])):
                    return path, number
        return None

    def keyscan(self) -> str:
        """The ssh-keyscan command that appends the node's key to the first known_hosts file."""
        target = self.target
        port = f"-p {target.port} " if target.port != 22 else ""
        into = shlex.quote(str(target.known_hosts[0]))
        return f"ssh-keyscan {port}{shlex.quote(target.hostname)} >> {into}"

    def explain(self, who: str) -> str:
        """One line on why the node's host key was refused, and what to do (never 'just add
        it' for a changed key)."""
        if self.problem:
            return f"host key of {who} cannot be checked: {self.problem}"
        if self.trusted:
            where = self.find_line()
            place = f"{where[0]} line {where[1]}" if where else str(self.target.files[0])
            return (
                f"host key of {who} CHANGED (not the one in {place}): possible attack; "
                "do not trust it without checking"
            )
        first = self.target.known_hosts[0]
        absent = "" if first.exists() else " (the file does not exist yet)"
        return (
            f"host key of {who} is not in {first}{absent}: check the fingerprint out of band, "
            f"then {self.keyscan()}"
        )
