"""Host-key diagnosis against OpenSSH sshd: names and addresses alike, the known_hosts in use.

Every case is one clear line naming the file actually used, never a traceback, never a hang;
a CHANGED key is never met with advice to add it.
"""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path

import asyncssh
import pytest

from redfix_tui.config import NodeConfig
from redfix_tui.node import NodeConnection, NodeError
from tests.conftest import SSHFiles

pytestmark = pytest.mark.sshd

ALIAS = "fake-cc-ci"


def _other_key_text() -> str:
    """A host key that is not the sshd's (``kind base64``)."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    return (
        key.export_public_key().decode().split()[0]
        + " "
        + key.export_public_key().decode().split()[1]
    )


def _setup(
    tmp_path: Path, monkeypatch, sshd, files: SSHFiles, host_as: str, source: str, key: str
) -> tuple[NodeConfig, Path]:
    """Build the case's files; return the config and the known_hosts file that must be named."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    host = {"alias": ALIAS, "name": "localhost", "address": "127.0.0.1"}[host_as]
    pattern = f"[localhost]:{sshd.port}" if host_as == "name" else f"[127.0.0.1]:{sshd.port}"
    noise = f"[10.9.9.9]:{sshd.port} {_other_key_text()}\n"  # another host's entry on line 1
    content = noise + (f"{pattern} {key}\n" if key else "")
    ssh_config = tmp_path / "ssh_config"
    lines = []
    if host_as == "alias":
        lines.append(f"Host {ALIAS}\n  HostName 127.0.0.1\n  Port {sshd.port}\n")
    config = NodeConfig(
        host=host,
        port=0 if host_as == "alias" else sshd.port,
        username=getpass.getuser(),
        client_keys=[str(files.client_key)],
        ssh_config=str(ssh_config),
        connect_timeout=5.0,
    )
    if source == "config":
        used = tmp_path / "redfix_known_hosts"
        config.known_hosts = str(used)
        # ~/.ssh/known_hosts pins the right key: it must not be the file consulted.
        (home / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line())
    elif source == "home":
        used = home / ".ssh" / "known_hosts"
    else:
        used = tmp_path / "elsewhere" / "user_known_hosts"
        used.parent.mkdir()
        lines.append(f"Host *\n  UserKnownHostsFile {used}\n")
        (home / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line())
    used.write_text(content)
    ssh_config.write_text("".join(lines))
    return config, used


CASES = [
    (state, host_as, source)
    for state in ("unknown", "changed")
    for host_as in ("alias", "name", "address")
    for source in ("config", "home", "user_known_hosts_file")
]


@pytest.mark.parametrize(("state", "host_as", "source"), CASES)
async def test_host_key_diagnosis(
    state: str, host_as: str, source: str, sshd, ssh_files: SSHFiles, tmp_path, monkeypatch
) -> None:
    key = _other_key_text() if state == "changed" else ""
    config, used = _setup(tmp_path, monkeypatch, sshd, ssh_files, host_as, source, key)
    connection = NodeConnection(config)
    states: list[tuple[str, str]] = []
    connection.add_listener(lambda state, message: states.append((state, message)))
    with pytest.raises(NodeError) as info:
        await asyncio.wait_for(connection.connect(), 15)
    message = info.value.message
    assert info.value.kind == "hostkey"
    assert "\n" not in message
    assert message.startswith(f"host key of {connection.host_label} ")
    if state == "unknown":
        assert f" is not in {used}: check the fingerprint out of band, then " in message
        scanned = "localhost" if host_as == "name" else "127.0.0.1"  # the HostName, not the alias
        keyscan = f"ssh-keyscan -p {sshd.port} {scanned} >> {used}"
        assert message.endswith(keyscan), message
    else:
        assert f" CHANGED (not the one in {used} line 2): possible attack; " in message
        assert "do not trust it without checking" in message
        assert "ssh-keyscan" not in message and "ssh-keygen" not in message
    assert states[-1] == ("down", message)


async def test_the_right_key_in_user_known_hosts_file_connects(
    sshd, ssh_files: SSHFiles, tmp_path, monkeypatch
) -> None:
    config, used = _setup(
        tmp_path, monkeypatch, sshd, ssh_files, "alias", "user_known_hosts_file", ""
    )
    used.write_text(sshd.known_hosts_line())
    connection = NodeConnection(config)
    try:
        assert (await connection.run("echo pinned")).stdout == "pinned\n"
    finally:
        await connection.close()


async def test_unknown_key_and_no_known_hosts_file_at_all(
    sshd, ssh_files: SSHFiles, tmp_path, monkeypatch
) -> None:
    config, used = _setup(tmp_path, monkeypatch, sshd, ssh_files, "name", "home", "")
    used.unlink()
    with pytest.raises(NodeError, match="does not exist yet") as info:
        await NodeConnection(config).connect()
    assert f"is not in {used} (the file does not exist yet): check the fingerprint" in str(
        info.value
    )


@pytest.mark.parametrize("missing", ["client_keys", "known_hosts", "ssh_config"])
async def test_a_missing_file_is_named(missing: str, ssh_files: SSHFiles, tmp_path) -> None:
    gone = str(tmp_path / "no" / f"such-{missing}")
    config = NodeConfig(
        host="127.0.0.1",
        port=9,  # nothing listens: the files are checked before the network is touched
        username=getpass.getuser(),
        known_hosts=str(ssh_files.known_hosts),
        client_keys=[str(ssh_files.client_key)],
        ssh_config=str(ssh_files.ssh_config),
    )
    setattr(config, missing, [gone] if missing == "client_keys" else gone)
    connection = NodeConnection(config)
    with pytest.raises(NodeError) as info:
        await connection.connect()
    what = {"client_keys": "identity file", "known_hosts": "known_hosts file"}.get(
        missing, "ssh config"
    )
    assert info.value.message == (
        f"{what} {gone} does not exist (set in [node] {missing}): fix the path or create it"
    )
    assert info.value.kind == "config"
    assert connection.connects == 0


async def test_changed_key_in_a_hashed_known_hosts(
    sshd, ssh_files: SSHFiles, tmp_path, monkeypatch
) -> None:
    """Debian hashes known_hosts (HashKnownHosts yes): the changed entry is still found."""
    import subprocess

    config, used = _setup(tmp_path, monkeypatch, sshd, ssh_files, "name", "home", _other_key_text())
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(used)], check=True, capture_output=True)
    assert "localhost" not in used.read_text()
    with pytest.raises(NodeError) as info:
        await NodeConnection(config).connect()
    assert f"CHANGED (not the one in {used} line 2): possible attack" in info.value.message
