"""Config: defaults, lookup order, clear errors, the starter file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from redfix_tui.config import (
    Config,
    ConfigError,
    config_from_dict,
    find_config,
    load_config,
    starter_toml,
    write_starter,
)


def test_defaults_describe_cc_ci() -> None:
    config = Config()
    assert config.node.host == "cc-ci"
    assert config.paths.runs_root == "/var/lib/cc-ci-runs"
    assert config.paths.warm_root == "/var/lib/ci-warm"
    assert config.paths.rerun_log == "/tmp/redfix-{recipe}.log"
    assert config.commands.in_flight == "pgrep -af '[r]un_recipe_ci.py'"
    assert config.journal.phase == "redfix"


def test_starter_holds_every_key_and_reads_back(tmp_path: Path) -> None:
    data = tomllib.loads(starter_toml())
    assert data == Config().to_dict()
    target = tmp_path / "sub" / "redfix.toml"
    write_starter(target)
    assert load_config(target).to_dict() == Config().to_dict()
    with pytest.raises(ConfigError, match="already exists"):
        write_starter(target)


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[node]\nhots = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and "node.hots" in str(info.value)


def test_unknown_table_and_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown table \[nodez\]"):
        config_from_dict({"nodez": {}}, "f.toml")
    with pytest.raises(ConfigError, match=r"f.toml: \[node.port\] expected an integer, got 'x'"):
        config_from_dict({"node": {"port": "x"}}, "f.toml")
    with pytest.raises(ConfigError, match="expected a list of strings"):
        config_from_dict({"board": {"recipes": "gitea"}}, "f.toml")
    with pytest.raises(ConfigError, match="expected an integer"):
        config_from_dict({"node": {"port": True}}, "f.toml")


def test_int_widens_to_float() -> None:
    config = config_from_dict({"board": {"refresh_seconds": 5}})
    assert config.board.refresh_seconds == 5.0


def test_invalid_toml_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[node\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path)


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("REDFIX_TUI_CONFIG", raising=False)
    assert find_config().source == ""  # nothing anywhere: built-in defaults
    xdg = tmp_path / "xdg" / "redfix-tui" / "config.toml"
    xdg.parent.mkdir(parents=True)
    xdg.write_text('[node]\nhost = "from-xdg"\n')
    assert find_config().node.host == "from-xdg"
    (tmp_path / "redfix.toml").write_text('[node]\nhost = "from-cwd"\n')
    assert find_config().node.host == "from-cwd"
    env = tmp_path / "env.toml"
    env.write_text('[node]\nhost = "from-env"\n')
    monkeypatch.setenv("REDFIX_TUI_CONFIG", str(env))
    assert find_config().node.host == "from-env"
    explicit = tmp_path / "explicit.toml"
    explicit.write_text('[node]\nhost = "explicit"\n')
    assert find_config(str(explicit)).node.host == "explicit"
    with pytest.raises(ConfigError, match="no such config file"):
        find_config(str(tmp_path / "missing.toml"))


def test_several_nodes() -> None:
    config = config_from_dict(
        {
            "node": {"host": "cc-ci"},
            "nodes": {"cc-ci-2": {"port": 2222}, "lab": {"host": "10.0.0.9", "username": "ops"}},
        },
        "f.toml",
    )
    assert config.node_names() == ["cc-ci", "cc-ci-2", "lab"]
    assert config.node_config("cc-ci-2").host == "cc-ci-2"  # the name is the default host
    assert config.node_config("cc-ci-2").port == 2222
    assert config.node_config("lab").host == "10.0.0.9"
    assert config.node_config("cc-ci") is config.node
    with pytest.raises(ConfigError, match="no node called 'nope'"):
        config.node_config("nope")
    with pytest.raises(ConfigError, match=r"f.toml: unknown key nodes.lab.hots"):
        config_from_dict({"nodes": {"lab": {"hots": "x"}}}, "f.toml")
    assert tomllib.loads(starter_toml())["nodes"] == {}


@pytest.mark.parametrize(
    ("toml", "key", "expected"),
    [
        ("[board]\nrefresh_seconds = 0", "board.refresh_seconds", "seconds between refreshes"),
        ("[board]\nrefresh_seconds = -5", "board.refresh_seconds", "1 to 86400"),
        ("[board]\nrefresh_seconds = nan", "board.refresh_seconds", "1 to 86400"),
        ("[board]\nrefresh_seconds = inf", "board.refresh_seconds", "1 to 86400"),
        ("[board]\nsweep_guard_minutes = -1", "board.sweep_guard_minutes", "0 to 10080"),
        ("[board]\nsweep_guard_minutes = 1e300", "board.sweep_guard_minutes", "0 to 10080"),
        ("[node]\nport = 70000", "node.port", "a port from 1 to 65535"),
        ("[node]\nport = -1", "node.port", "a port from 1 to 65535"),
        ("[nodes.lab]\nport = 65536", "nodes.lab.port", "a port from 1 to 65535"),
        ("[node]\nconnect_timeout = 0", "node.connect_timeout", "seconds, 0.1 to 3600"),
        ("[node]\nconnect_timeout = -3", "node.connect_timeout", "seconds, 0.1 to 3600"),
        ("[node]\nkeepalive_interval = 0", "node.keepalive_interval", "seconds, 0.1 to 3600"),
        ('[node]\nhost = ""', "node.host", "must not be empty"),
        ('[node]\nhost = "a b"', "node.host", "expected a host name"),
        ('[paths]\nrerun_log = "/tmp/{recipe}-{tag}.log"', "paths.rerun_log", "uses {tag}"),
        ('[paths]\nrerun_state = "/tmp/{harness}.rerun"', "paths.rerun_state", "may use {recipe}"),
        ('[paths]\nrerun_log = "/tmp/x\\n.log"', "paths.rerun_log", "control characters"),
        ('[paths]\nmanual_run_id = "../x"', "paths.manual_run_id", "a run directory name"),
        ('[commands]\nrecipes = "ls {harness}/{recipe}"', "commands.recipes", "uses {recipe}"),
        ('[commands]\nlatest_tag = "git tag {tag}"', "commands.latest_tag", "uses {tag}"),
        ('[commands]\nstacks = "docker ps {log}"', "commands.stacks", "uses {log}"),
        ('[commands]\ndisk_free = "df {path} {run_id}"', "commands.disk_free", "{path}, {run_id}"),
        ('[board]\nrecipes = ["gitea", "Bad Name"]', "board.recipes", "'Bad Name' is not a recipe"),
        ('[board]\nrecipes = ["x; rm -rf /"]', "board.recipes", "not a recipe name"),
    ],
)
def test_values_are_checked_at_load(tmp_path: Path, toml: str, key: str, expected: str) -> None:
    path = tmp_path / "redfix.toml"
    path.write_text(toml + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: [{key}]"), message
    assert expected in message and "\n" not in message


def test_placeholders_each_template_is_filled_with_are_accepted() -> None:
    config = config_from_dict(
        {
            "node": {"port": 65535, "connect_timeout": 0.5},
            "nodes": {"lab": {"port": 1}},
            "paths": {"rerun_log": "/tmp/{recipe}.log", "rerun_state": "/tmp/fixed.rerun"},
            "commands": {
                "checkout": "cd {harness} && co {recipe} {tag} > {log}",
                "rerun": "{runs_root} {warm_root} {recipe} {tag} {log}",
                "latest_tag": "tags {recipe} {harness}",
                "recipes": "ls {harness}/tests {runs_root} {warm_root}",
                "stacks": "docker stack ls --format '{{.Name}}' | awk '{print $1}'",
            },
            "board": {
                "recipes": ["gitea", "a.b_c-1"],
                "refresh_seconds": 1,
                "sweep_guard_minutes": 0,
            },
        },
        "f.toml",
    )
    assert config.node.port == 65535 and config.board.refresh_seconds == 1.0
    assert config_from_dict({"node": {"port": 0}}).node.port == 0  # 0: from the ssh config
