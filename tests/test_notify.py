"""What the console announces (bell, terminal title) and how, under ``[notify]``."""

from __future__ import annotations

import pytest

from redfix_tui.config import ConfigError, NotifyConfig, config_from_dict, starter_toml
from redfix_tui.notify import BELL, Notifier, title_sequence, title_text


def test_rerun_end_names_the_first_failed_stage() -> None:
    notifier = Notifier(NotifyConfig())
    said = notifier.rerun_ended(
        "mattermost-lts", {"install": "passed", "restore": "failed", "custom": "error"}
    )
    assert said is not None
    assert said.title == "redfix: mattermost-lts ✘ restore"
    assert said.escapes() == "\x1b]2;redfix: mattermost-lts ✘ restore\x07" + BELL
    passed = notifier.rerun_ended("gitea", {"install": "passed"})
    assert passed is not None and passed.title == "redfix: gitea ✔ passed"
    stopped = notifier.rerun_ended("gitea", {"install": "passed"}, terminated=True)
    assert stopped is not None and stopped.title == "redfix: gitea ✘ stopped"


def test_connection_drop_is_announced_once() -> None:
    notifier = Notifier(NotifyConfig())
    assert notifier.connection("cc-ci", "connecting") is None
    assert notifier.connection("cc-ci", "connected") is None
    dropped = notifier.connection("cc-ci", "reconnecting", "connection reset")
    assert dropped is not None
    assert dropped.title == "redfix: cc-ci connection reconnecting (connection reset)"
    assert notifier.connection("cc-ci", "down") is None  # still down: said already
    assert notifier.connection("cc-ci", "connected") is None
    assert notifier.connection("cc-ci", "down") is not None
    # a reconnect attempt told before the loss is no reason to keep quiet
    assert notifier.connection("cc-ci", "connected") is None
    assert notifier.connection("cc-ci", "connecting") is None
    assert notifier.connection("cc-ci", "reconnecting") is not None


def test_settings_switch_bell_title_and_failure_lines() -> None:
    assert Notifier(NotifyConfig()).failure_line("cc-ci:/x.log", "FAILED t") is None  # default
    on = Notifier(NotifyConfig(failure_lines=True)).failure_line("cc-ci:/x.log", "FAILED t\n")
    assert on is not None and on.title == "redfix: cc-ci:/x.log ✘ FAILED t"
    quiet = Notifier(NotifyConfig(bell=False)).rerun_ended("gitea", {"install": "failed"})
    assert quiet is not None and not quiet.bell
    assert quiet.escapes() == title_sequence("redfix: gitea ✘ install")  # no bell after it
    untitled = Notifier(NotifyConfig(title=False)).rerun_ended("gitea", {})
    assert untitled is not None and untitled.escapes() == BELL
    assert Notifier(NotifyConfig(bell=False, title=False)).rerun_ended("gitea", {}) is None


def test_node_text_cannot_reach_the_terminal_raw() -> None:
    hostile = "gitea\x07\x1b]2;owned\x1b\\\x9b31m\u202e\x7fend\r\nx"
    text = title_text(hostile)
    assert not any(ord(c) < 32 or 127 <= ord(c) < 160 or c == "\u202e" for c in text)
    sequence = title_sequence(hostile)
    assert sequence.startswith("\x1b]2;") and sequence.endswith("\x07")
    inner = sequence[4:-1]
    assert "\x07" not in inner and "\x1b" not in inner
    assert len(title_text("x" * 1000)) == 120
    said = Notifier(NotifyConfig(failure_lines=True)).failure_line("h", hostile)
    assert said is not None and "\x1b" not in said.escapes()[4:-2]


def test_notify_section_is_validated_at_load() -> None:
    config = config_from_dict({"notify": {"bell": False, "failure_lines": True}})
    assert (config.notify.bell, config.notify.title, config.notify.failure_lines) == (
        False,
        True,
        True,
    )
    with pytest.raises(ConfigError, match=r"\[notify.bell\] expected a boolean"):
        config_from_dict({"notify": {"bell": "yes"}}, "f.toml")
    with pytest.raises(ConfigError, match=r"unknown key notify\.sound"):
        config_from_dict({"notify": {"sound": True}}, "f.toml")
    assert "[notify]" in starter_toml()
