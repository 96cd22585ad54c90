"""Configuration: a TOML file naming the node, its paths and command templates.

Read with :mod:`tomllib`, written with :mod:`tomli_w`. Every key has a default taken from the
cc-ci layout in DESIGN.md, so an empty file (or none at all) describes cc-ci. Unknown keys and
wrong types are reported with the file, the key and what was expected.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from .shellcmd import RECIPE_RE, placeholders


class ConfigError(Exception):
    """A configuration problem, worded for the operator (file, key, what was expected)."""


@dataclass
class NodeConfig:
    """How to reach the node over SSH."""

    host: str = "cc-ci"
    """Host name or an alias from ~/.ssh/config."""
    port: int = 0
    """0 means: from ~/.ssh/config, else 22."""
    username: str = ""
    """Empty means: from ~/.ssh/config, else the local user."""
    known_hosts: str = ""
    """Empty means ~/.ssh/known_hosts (and the ssh config). Verification is never switched off."""
    client_keys: list[str] = field(default_factory=list)
    """Private key files; empty means ssh config IdentityFile, the defaults and the agent."""
    ssh_config: str = ""
    """OpenSSH client config to honour; empty means ~/.ssh/config (Host, User, Port, ProxyJump)."""
    connect_timeout: float = 10.0
    keepalive_interval: float = 15.0


@dataclass
class PathsConfig:
    """Where things live on the node."""

    harness: str = "/etc/cc-ci"
    runs_root: str = "/var/lib/cc-ci-runs"
    junit_subdir: str = "junit"
    warm_root: str = "/var/lib/ci-warm"
    rerun_log: str = "/tmp/redfix-{recipe}.log"
    rerun_state: str = "/tmp/redfix-{recipe}.rerun"
    manual_run_id: str = "manual"
    archive: str = "~/.local/share/redfix-tui/runs/{recipe}/{start}"
    """Where the detached rerun wrapper archives each isolation run on the node: must end in
    ``/{recipe}/{start}`` (start: UTC ``YYYYMMDDTHHMMSSZ``); ``~/`` is the SSH user's home."""


@dataclass
class CommandsConfig:
    """Shell command templates run on the node.

    ``{harness}``, ``{runs_root}`` and ``{warm_root}`` (and ``{recipe}`` in ``latest_tag``;
    ``{recipe}``, ``{tag}`` and ``{log}`` in ``checkout`` and ``rerun``) are replaced by
    validated, shell-quoted values (see :data:`TEMPLATE_PLACEHOLDERS`); any other brace is left
    alone.
    """

    recipes: str = "find {harness}/tests/ -mindepth 1 -maxdepth 1 -xtype d -printf '%f\\0'"
    """Lists the recipes, NUL-separated (newline-separated output is accepted too)."""
    latest_tag: str = (
        'git -C "$HOME/.abra/recipes/"{recipe} tag --sort=-v:refname 2>/dev/null | head -n 1'
    )
    checkout: str = (
        'cd {harness} && python3 -c \'import sys; sys.path.insert(0, "runner"); import abra;'
        " abra.recipe_checkout(sys.argv[1], sys.argv[2])' {recipe} {tag}"
    )
    rerun: str = (
        "cd {harness} && RECIPE={recipe} CCCI_SKIP_FETCH=1 cc-ci-run runner/run_recipe_ci.py"
    )
    in_flight: str = "pgrep -af '[r]un_recipe_ci.py'"
    sweep_next: str = (
        "systemctl show -P NextElapseUSecRealtime --timestamp=unix nightly-sweep.timer"
    )
    disk_free: str = "df -P -B1 {runs_root}"
    stacks: str = "docker stack ls --format '{{.Name}}'"


@dataclass
class JournalConfig:
    """The phase journal kept on this machine."""

    path: str = "JOURNAL-redfix.md"
    phase: str = "redfix"


@dataclass
class BoardConfig:
    """The recipe board and rerun guards."""

    recipes: list[str] = field(default_factory=list)
    """Recipes under investigation; empty means: the harness's tests/<recipe>/ directories."""
    refresh_seconds: float = 30.0
    sweep_guard_minutes: float = 120.0
    """Refuse a rerun when the sweep timer fires within this many minutes."""
    tracker: str = ""
    """M1 tracker TOML; empty means tracker.toml beside the journal."""
    keep_runs: int = 30
    """How many archived isolation runs the node keeps per recipe (the newest)."""


@dataclass
class NotifyConfig:
    """How the console tells the operator (terminal bell, terminal/tmux window title)."""

    bell: bool = True
    """Ring the terminal bell when a rerun ends or the connection drops."""
    title: bool = True
    """Set the terminal (tmux pane) title, e.g. ``redfix: mattermost-lts ✘ restore``."""
    failure_lines: bool = False
    """Also announce a failure line appearing in a followed log."""


@dataclass
class Config:
    """The whole configuration."""

    node: NodeConfig = field(default_factory=NodeConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    commands: CommandsConfig = field(default_factory=CommandsConfig)
    journal: JournalConfig = field(default_factory=JournalConfig)
    board: BoardConfig = field(default_factory=BoardConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    nodes: dict[str, NodeConfig] = field(default_factory=dict)
    """Further nodes by name (``[nodes.NAME]``, the keys of ``[node]``); ``[node]`` comes first."""
    source: str = ""
    """Where this configuration was read from ("" for built-in defaults)."""

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Return the configuration as TOML-ready tables (without ``source``)."""
        data: dict[str, dict[str, Any]] = {name: _table(getattr(self, name)) for name in _SECTIONS}
        data["nodes"] = {name: _table(node) for name, node in self.nodes.items()}
        return data

    def node_names(self) -> list[str]:
        """Every node's name: ``[node]``'s host first, then the ``[nodes.NAME]`` tables."""
        return [self.node.host, *(n for n in self.nodes if n != self.node.host)]

    def node_config(self, name: str) -> NodeConfig:
        """The settings of the node called ``name`` (``[node]``'s host or a ``[nodes]`` key)."""
        if name in self.nodes:
            return self.nodes[name]
        if name == self.node.host:
            return self.node
        raise ConfigError(f"no node called {name!r} (known: {', '.join(self.node_names())})")


_SECTIONS = {f.name: f for f in fields(Config) if f.name not in ("source", "nodes")}


def _table(section: Any) -> dict[str, Any]:
    return {f.name: getattr(section, f.name) for f in fields(section)}


def _fill_section(section: Any, name: str, value: Any, origin: str) -> None:
    """Set ``section``'s fields from the TOML table ``value`` (checking keys and types)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{origin}: [{name}] must be a table")
    known_keys = {f.name for f in fields(section)}
    for key, item in value.items():
        if key not in known_keys:
            raise ConfigError(
                f"{origin}: unknown key {name}.{key} (known: {', '.join(sorted(known_keys))})"
            )
        setattr(section, key, _coerce(origin, f"{name}.{key}", getattr(section, key), item))


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
    }.get(type(value), type(value).__name__)


def _coerce(origin: str, key: str, default: Any, value: Any) -> Any:
    """Check ``value`` against the type of ``default``; return it (ints widen to floats)."""
    if isinstance(default, bool) or isinstance(value, bool):
        ok = isinstance(value, bool) and isinstance(default, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float)
        value = float(value) if ok else value
    elif isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        expected = "a list of strings" if isinstance(default, list) else _type_name(default)
        raise ConfigError(f"{origin}: [{key}] expected {expected}, got {value!r}")
    return value


_BASE = ("harness", "runs_root", "warm_root")
TEMPLATE_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "commands.recipes": _BASE,
    "commands.latest_tag": (*_BASE, "recipe"),
    "commands.checkout": (*_BASE, "recipe", "tag", "log"),
    "commands.rerun": (*_BASE, "recipe", "tag", "log"),
    "commands.in_flight": _BASE,
    "commands.sweep_next": _BASE,
    "commands.disk_free": _BASE,
    "commands.stacks": _BASE,
    "paths.rerun_log": ("recipe",),
    "paths.rerun_state": ("recipe",),
}
"""The placeholders each template is filled with (what :mod:`.recipes` and :mod:`.runs` pass)."""
_RUN_ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"


def _check_number(origin: str, key: str, value: float, low: float, high: float, what: str) -> None:
    """Refuse a number outside ``low``..``high`` (NaN and infinities included)."""
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(f"{origin}: [{key}] expected {what}, got {value!r}")


def _check_text(origin: str, key: str, value: str, *, empty: bool = True) -> None:
    """Refuse control characters (and an empty value unless ``empty``)."""
    if not empty and not value.strip():
        raise ConfigError(f"{origin}: [{key}] must not be empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(f"{origin}: [{key}] must not hold control characters, got {value!r}")


def _check_node(origin: str, name: str, node: NodeConfig) -> None:
    """Port, timeouts and names of one node table."""
    _check_text(origin, f"{name}.host", node.host, empty=False)
    if any(c.isspace() for c in node.host):
        raise ConfigError(f"{origin}: [{name}.host] expected a host name, got {node.host!r}")
    _check_text(origin, f"{name}.username", node.username)
    if not 0 <= node.port <= 65535:
        raise ConfigError(
            f"{origin}: [{name}.port] expected a port from 1 to 65535 (0: from the ssh config), "
            f"got {node.port}"
        )
    _check_number(
        origin, f"{name}.connect_timeout", node.connect_timeout, 0.1, 3600, "seconds, 0.1 to 3600"
    )
    _check_number(
        origin,
        f"{name}.keepalive_interval",
        node.keepalive_interval,
        0.1,
        3600,
        "seconds, 0.1 to 3600",
    )


ARCHIVE_TAIL = "/{recipe}/{start}"
"""How ``[paths] archive`` ends: one directory per recipe, one per run under it."""


def _check_archive(origin: str, template: str) -> None:
    """``[paths] archive``: an absolute or ``~/`` path ending in ``/{recipe}/{start}``."""
    _check_text(origin, "paths.archive", template, empty=False)
    root = template.rstrip("/")
    if not root.endswith(ARCHIVE_TAIL) or "{" in root[: -len(ARCHIVE_TAIL)]:
        raise ConfigError(
            f"{origin}: [paths.archive] expected a directory ending in {ARCHIVE_TAIL} "
            f"(and no other placeholder), got {template!r}"
        )
    base = root[: -len(ARCHIVE_TAIL)]
    if not (base.startswith("/") or base.startswith("~/")) or base in ("/", "~/"):
        raise ConfigError(
            f"{origin}: [paths.archive] expected an absolute or ~/ path below / or ~, got "
            f"{template!r}"
        )
    if any(part in (".", "..") for part in base.split("/")[1:]):
        raise ConfigError(f"{origin}: [paths.archive] must not hold . or .. parts: {template!r}")


def validate_config(config: Config, origin: str = "<config>") -> Config:
    """Check values (not only types): ranges, templates' placeholders, names; return ``config``.

    Raises :class:`ConfigError` naming the file, the key and what was expected.
    """
    _check_node(origin, "node", config.node)
    for name, node in config.nodes.items():
        _check_node(origin, f"nodes.{name}", node)
    board = config.board
    _check_number(
        origin,
        "board.refresh_seconds",
        board.refresh_seconds,
        1,
        86400,
        "seconds between refreshes, 1 to 86400",
    )
    _check_number(
        origin,
        "board.sweep_guard_minutes",
        board.sweep_guard_minutes,
        0,
        10080,
        "minutes, 0 to 10080 (a week)",
    )
    for recipe in board.recipes:
        if not RECIPE_RE.fullmatch(recipe):
            raise ConfigError(
                f"{origin}: [board.recipes] {recipe!r} is not a recipe name "
                "(lower-case letters, digits, '.', '-', '_'; at most 63)"
            )
    for key, allowed in TEMPLATE_PLACEHOLDERS.items():
        section, _, field_name = key.partition(".")
        template = getattr(getattr(config, section), field_name)
        if extra := sorted(placeholders(template) - set(allowed)):
            given = " ".join(f"{{{p}}}" for p in allowed)
            raise ConfigError(
                f"{origin}: [{key}] uses {', '.join(f'{{{p}}}' for p in extra)}, which it is "
                f"not filled with (it may use {given})"
            )
    paths = config.paths
    for key in ("harness", "runs_root", "warm_root", "junit_subdir"):
        _check_text(origin, f"paths.{key}", getattr(paths, key), empty=False)
    for key in ("rerun_log", "rerun_state"):
        _check_text(origin, f"paths.{key}", getattr(paths, key), empty=False)
    _check_archive(origin, paths.archive)
    if not 1 <= board.keep_runs <= 10000:
        raise ConfigError(
            f"{origin}: [board.keep_runs] expected a number of runs, 1 to 10000, "
            f"got {board.keep_runs}"
        )
    run_id = paths.manual_run_id
    if not run_id or run_id.startswith(".") or any(c not in _RUN_ID_CHARS for c in run_id):
        raise ConfigError(
            f"{origin}: [paths.manual_run_id] expected a run directory name (letters, digits, "
            f"'.', '-', '_'), got {run_id!r}"
        )
    return config


def config_from_dict(data: dict[str, Any], origin: str = "<config>") -> Config:
    """Build a :class:`Config` from parsed TOML, reporting unknown keys, wrong types and values
    out of range (see :func:`validate_config`)."""
    config = Config(source=origin)
    for name, value in data.items():
        if name == "nodes":
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: [nodes] must hold [nodes.NAME] tables")
            for node_name, table in value.items():
                node = NodeConfig(host=node_name)
                _fill_section(node, f"nodes.{node_name}", table, origin)
                config.nodes[node_name] = node
            continue
        if name not in _SECTIONS:
            known = ", ".join(f"[{s}]" for s in [*_SECTIONS, "nodes.NAME"])
            raise ConfigError(f"{origin}: unknown table [{name}] (known: {known})")
        _fill_section(getattr(config, name), name, value, origin)
    return validate_config(config, origin)


def load_config(path: Path) -> Config:
    """Read and validate one TOML file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return config_from_dict(data, str(path))


def config_search_path(explicit: str | None = None) -> list[Path]:
    """Return the candidate config files in lookup order (explicit, env, ./, XDG)."""
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    if env := os.environ.get("REDFIX_TUI_CONFIG"):
        candidates.append(Path(env))
    candidates.append(Path("redfix.toml"))
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    candidates.append(Path(xdg) / "redfix-tui" / "config.toml")
    return candidates


def find_config(explicit: str | None = None) -> Config:
    """Load the first config found; ``--config`` and ``$REDFIX_TUI_CONFIG`` must exist if given."""
    named = explicit or os.environ.get("REDFIX_TUI_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        return load_config(path)
    for candidate in config_search_path()[-2:]:
        if candidate.is_file():
            return load_config(candidate)
    return Config()


def starter_toml() -> str:
    """Return a starter config holding every key at its default, with a header comment."""
    header = (
        "# redfix-tui configuration. Every key is shown at its default; see README.md.\n"
        "# Command templates: {harness} {runs_root} {warm_root} everywhere, {recipe} in\n"
        "# latest_tag, {recipe} {tag} {log} in checkout and rerun are replaced by validated,\n"
        "# shell-quoted values; rerun_log and rerun_state may use {recipe}.\n\n"
    )
    return header + tomli_w.dumps(Config().to_dict())


def write_starter(path: Path) -> None:
    """Write :func:`starter_toml` to ``path``, refusing to overwrite an existing file."""
    if path.exists():
        raise ConfigError(f"{path}: already exists; not overwriting")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(starter_toml(), encoding="utf-8")
