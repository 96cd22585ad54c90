"""The command line: version, help, init, and one clear line (no traceback) for user errors."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from redfix_tui import __version__
from redfix_tui.config import Config


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "redfix_tui", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **(env or {})},
        timeout=60,
    )


def test_version_and_help(tmp_path: Path) -> None:
    assert run_cli("--version", cwd=tmp_path).stdout.strip() == f"redfix-tui {__version__}"
    help_text = run_cli("--help", cwd=tmp_path).stdout
    for option in ("--demo", "--config", "--host", "--journal", "--phase"):
        assert option in help_text


def test_init_writes_every_key_once(tmp_path: Path) -> None:
    result = run_cli("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert tomllib.loads((tmp_path / "redfix.toml").read_text()) == Config().to_dict()
    again = run_cli("init", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.startswith("redfix-tui: ") and "already exists" in again.stderr
    assert "Traceback" not in again.stderr
    custom = run_cli("init", "conf/x.toml", cwd=tmp_path)
    assert custom.returncode == 0 and (tmp_path / "conf" / "x.toml").is_file()


def test_bad_config_is_one_line_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('[node]\nport = "twenty-two"\n')
    result = run_cli("--config", "bad.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "bad.toml: [node.port] expected an integer" in result.stderr
    missing = run_cli("--config", "nope.toml", "journal", "list", cwd=tmp_path)
    assert missing.returncode == 2 and "no such config file" in missing.stderr


def test_journal_subcommand_uses_config_lookup(tmp_path: Path) -> None:
    (tmp_path / "redfix.toml").write_text('[journal]\npath = "J.md"\nphase = "p1"\n')
    added = subprocess.run(
        [sys.executable, "-m", "redfix_tui", "journal", "add", "--title", "First", "-"],
        input="Body text.\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    text = (tmp_path / "J.md").read_text()
    assert text.startswith("# JOURNAL — phase `p1`")
    assert "— First\n" in text and "Body text." in text
    listed = run_cli("journal", "list", cwd=tmp_path)
    assert "— First" in listed.stdout


def test_junit_subcommand(tmp_path: Path) -> None:
    from redfix_tui.demo.tree import build_demo_node

    node = build_demo_node(tmp_path / "node")
    manual = node.runs_root / "manual"
    result = run_cli("junit", str(manual), cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # a test failed
    assert "test_restore_returns_state" in result.stdout
    assert 'relation "ci_marker" does not exist' in result.stdout
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite/>')
    assert run_cli("junit", str(bad), cwd=tmp_path).returncode == 2


LATE = ["--phase", "late", "--title", "After", "-"]


def test_global_options_after_the_journal_subcommand(tmp_path: Path) -> None:
    journal = tmp_path / "J.md"
    added = subprocess.run(
        [sys.executable, "-m", "redfix_tui", "journal", "add", "--journal", str(journal), *LATE],
        input="Body.\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    assert journal.read_text().startswith("# JOURNAL — phase `late`\n")
    listed = run_cli("journal", "list", f"--journal={journal}", cwd=tmp_path)
    assert listed.returncode == 0 and listed.stdout.endswith("— After\n")
    (tmp_path / "c.toml").write_text('[journal]\npath = "other.md"\n')
    via_config = run_cli("journal", "list", "--config", "c.toml", cwd=tmp_path)
    assert via_config.returncode == 1 and "other.md does not exist" in via_config.stderr
    later_wins = run_cli(
        "--journal", "nope.md", "journal", "list", "--journal", str(journal), cwd=tmp_path
    )
    assert later_wins.returncode == 0 and "— After" in later_wins.stdout


def test_invalid_utf8_body_file_and_stdin_behave_alike(tmp_path: Path) -> None:
    journal = tmp_path / "J.md"
    raw = b"caf\xe9 latin-1\n"
    (tmp_path / "body.md").write_bytes(raw)
    base = [sys.executable, "-m", "redfix_tui", "--journal", str(journal), "journal", "add"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LC_ALL": "C.UTF-8"}
    from_file = subprocess.run(
        [*base, "--title", "T", "--body-file", "body.md"],
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    from_stdin = subprocess.run(
        [*base, "--title", "T", "-"],
        input=raw,
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    for result, source in ((from_file, b"body.md"), (from_stdin, b"standard input")):
        assert result.returncode == 1
        assert result.stderr.count(b"\n") == 1 and b"Traceback" not in result.stderr
        assert (
            b"the body from " + source + b" is not UTF-8 (byte 0xe9 at offset 3)" in result.stderr
        )
    assert from_file.stderr.replace(b"body.md", b"standard input") == from_stdin.stderr
    assert not journal.exists()


def test_hoisted_options_for_log_and_double_dash() -> None:
    from redfix_tui.cli import build_parser, hoist_global_options

    args = build_parser().parse_args(["log", "cc-ci:/tmp/x.log", "--phase", "p2", "--config=c"])
    hoist_global_options(args)
    assert (args.args, args.phase, args.config, args.journal) == (
        ["cc-ci:/tmp/x.log"],
        "p2",
        "c",
        None,
    )
    args = build_parser().parse_args(["journal", "add", "--title", "t", "--", "--journal", "J"])
    hoist_global_options(args)
    assert args.journal is None and args.args == ["add", "--title", "t", "--", "--journal", "J"]
