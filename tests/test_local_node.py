"""LocalNode: the node interface on this machine, and the board, tail, reruns and JUnit loading
run against BOTH transports (local processes and SSH to the in-process demo server) on the same
cc-ci-shaped demo tree."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from redfix_tui.config import Config, config_from_dict
from redfix_tui.demo.tree import DemoNode
from redfix_tui.junit.load import load_run, load_run_from_bytes
from redfix_tui.junit.remote import fetch_run
from redfix_tui.local_node import LocalNode
from redfix_tui.logs.spool import LogSpool
from redfix_tui.logs.tail import (
    CONNECTED,
    MARK_REPLACED,
    MARK_TRUNCATED,
    RECONNECTING,
    RETRYING,
    Backoff,
    RemoteTail,
)
from redfix_tui.node import NodeConnection, NodeError
from redfix_tui.recipes import RecipeSource
from redfix_tui.runs.control import RunControl
from redfix_tui.runs.state import RerunRefused
from tests.demo_session import FAST, local_site, serve_demo, wait_finished, wait_for

# -- LocalNode on its own ---------------------------------------------------------------------


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalNode]:
    """A LocalNode starting its commands in ``tmp_path``."""
    node = LocalNode(cwd=tmp_path)
    yield node
    await node.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (reaped by its parent soon).
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


async def test_connected_at_once_and_labelled_local(tmp_path: Path) -> None:
    node = LocalNode(cwd=tmp_path)
    states: list[tuple[str, str]] = []
    node.add_listener(lambda state, message: states.append((state, message)))
    assert not node.is_connected
    await node.connect()
    await node.connect()
    assert node.is_connected and node.connects == 1
    assert states == [("connected", f"running commands locally on {node.host_label}")]
    assert node.host_label.endswith(" (local)") and os.uname().nodename in node.host_label
    assert LocalNode(label="cc-ci").host_label == "cc-ci (local)"
    await node.close()
    assert not node.is_connected and states[-1] == ("closed", "")


async def test_run_is_sh_in_home_with_no_stdin(local: LocalNode, tmp_path: Path) -> None:
    result = await local.run("pwd; echo out; echo err >&2; cat; exit 3")
    assert result.stdout == f"{tmp_path}\nout\n" and result.stderr == "err\n"
    assert result.exit_status == 3 and not result.ok
    # sh semantics as over ssh: quoting, pipes, globs, $HOME-style expansion.
    (tmp_path / "a b.txt").write_text("x\n")
    result = await local.run("for f in *.txt; do printf '[%s]' \"$f\"; done | tr a A")
    assert result.stdout == "[A b.txt]" and result.ok
    # Its own session: no controlling terminal, so it can never read the console's keys.
    sid = (await local.run("ps -o sid= -p $$")).stdout.strip()
    assert int(sid) != os.getsid(0)


async def test_failing_command_is_kind_command_never_lost(local: LocalNode) -> None:
    with pytest.raises(NodeError) as info:
        await local.run("echo 'no such thing here' >&2; exit 4", check=True)
    assert info.value.kind == "command" and not info.value.transport
    assert (
        info.value.message == "`echo 'no such thing here' >&2; exit 4` failed: no such thing here"
    )
    with pytest.raises(NodeError, match="exit status 1") as info:
        await local.run("false", check=True)
    assert info.value.kind == "command"
    result = await local.run("kill -TERM $$")
    assert result.exit_status == 143  # killed by a signal: 128 + N, as a shell says


async def test_timeout_stops_the_whole_group(local: LocalNode, tmp_path: Path) -> None:
    pidfile = tmp_path / "child"
    with pytest.raises(NodeError, match=r"took longer than 0.3s") as info:
        await local.run(f"sleep 30 & echo $! > {pidfile}; wait", timeout=0.3)
    assert info.value.kind == "command"
    child = int(pidfile.read_text())
    await wait_for(_async(lambda: not _alive(child)), timeout=5)
    assert local.processes == set()


def _async(check: Callable[[], bool]):
    async def run() -> bool:
        return check()

    return run


async def test_stream_chunks_status_and_stderr(local: LocalNode) -> None:
    chunks = [c async for c in local.stream("seq 1 100000; echo warn >&2; exit 5", chunk_size=4096)]
    data = b"".join(chunks)
    assert data == b"".join(b"%d\n" % i for i in range(1, 100001))
    assert len(chunks) > 1 and all(len(c) <= 4096 for c in chunks)
    assert local.last_exit_status == 5 and local.last_stderr == "warn\n"
    merged = b"".join([c async for c in local.stream("echo a; echo b >&2", merge_stderr=True)])
    assert sorted(merged.split()) == [b"a", b"b"]
    # Raw bytes: invalid UTF-8 passes through untouched.
    raw = b"".join([c async for c in local.stream("printf '\\377\\000x'")])
    assert raw == b"\xff\x00x"


async def test_stream_left_early_stops_its_group(local: LocalNode, tmp_path: Path) -> None:
    pidfile = tmp_path / "child"
    stream = local.stream(f"sleep 60 & echo $! > {pidfile}; yes")
    async with contextlib.aclosing(stream):
        async for _chunk in stream:
            break
    child = int(pidfile.read_text())
    await wait_for(_async(lambda: not _alive(child)), timeout=5)
    assert local.processes == set()


async def test_read_file(local: LocalNode, tmp_path: Path) -> None:
    (tmp_path / "f.bin").write_bytes(b"\xff" * 10 + b"tail")
    assert await local.read_file(str(tmp_path / "f.bin")) == b"\xff" * 10 + b"tail"
    assert await local.read_file("f.bin", limit=3) == b"\xff\xff\xff"  # relative: from home
    with pytest.raises(NodeError) as info:
        await local.read_file("/nonexistent/results.json")
    assert info.value.kind == "command"
    assert info.value.message == "cannot read /nonexistent/results.json: No such file or directory"
    with pytest.raises(NodeError, match="Is a directory"):
        await local.read_file(str(tmp_path))


async def test_the_log_follower_runs_with_the_consoles_own_python(tmp_path: Path) -> None:
    """A local tail needs no python3 on the PATH (nor its wrappers): the follower is run by
    the console's interpreter, with its exactly-once checks (not the plain tail -F)."""
    log = tmp_path / "run.log"
    log.write_bytes(b"one\ntwo\n")
    node = LocalNode(cwd=tmp_path, env={"PATH": str(tmp_path / "no-bin")})
    assert node.python == sys.executable
    spool = LogSpool()
    tail = RemoteTail(node, str(log), spool)
    assert tail.tail_command().startswith(f"exec {sys.executable} -c ")
    task = asyncio.create_task(tail.run())
    try:
        await wait_for(_async(lambda: spool.complete_lines == 2), timeout=20)
        assert tail.state.status == CONNECTED and not tail.plain
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await node.close()
    assert [spool.read_line(i) for i in range(2)] == ["one", "two"]
    spool.close()


async def test_missing_start_directory_is_a_setting(tmp_path: Path) -> None:
    node = LocalNode(cwd=tmp_path / "gone")
    states: list[str] = []
    node.add_listener(lambda state, message: states.append(state))
    with pytest.raises(NodeError, match="is not a directory") as info:
        await node.run("true")
    assert info.value.kind == "config" and states == ["down"]


# -- the same integration tests over both transports ---------------------------------------


@dataclass
class Site:
    """A demo tree reachable through one transport, and a way to open a fresh node on it."""

    kind: str
    tree: DemoNode
    config: Config
    open: Callable[[], LocalNode | NodeConnection]
    drop: Callable[[LocalNode | NodeConnection], object]
    """Break the node's running commands, as a dropped connection would."""


async def _kill_local(node: LocalNode | NodeConnection) -> None:
    assert isinstance(node, LocalNode) and node.processes
    for process in list(node.processes):
        os.killpg(process.pid, 9)


@pytest.fixture(params=["local", "ssh"])
async def site(request, tmp_path: Path) -> AsyncIterator[Site]:
    """The demo tree through LocalNode, or through SSH (the in-process demo server)."""
    if request.param == "local":
        tree, config, env = local_site(tmp_path / "demo" / "node")
        yield Site(
            "local",
            tree,
            config,
            lambda: LocalNode(config.node, env=env, cwd=tree.root),
            _kill_local,
        )
        return
    served, config = await serve_demo(tmp_path / "demo")

    async def drop(_node: object) -> None:
        await served.server.drop_connections()

    yield Site("ssh", served.node, config, lambda: NodeConnection(config.node), drop)
    await served.close()


@pytest.fixture
async def node(site: Site) -> AsyncIterator[LocalNode | NodeConnection]:
    """An open node on the site."""
    opened = site.open()
    await opened.connect()
    yield opened
    await opened.close()


async def test_board_and_status(site: Site, node) -> None:
    statuses = {s.name: s for s in await RecipeSource(node, site.config).load()}
    assert sorted(statuses) == sorted(site.tree.recipes)
    discourse = statuses["discourse"]
    assert discourse.latest_tag == "0.8.1+3.5.0"
    assert discourse.canonical is not None and discourse.canonical.version == "0.8.0+3.4.6"
    assert discourse.sweep is not None and discourse.sweep.stages["upgrade"] == "failed"
    matt = statuses["mattermost-lts"].isolation
    assert matt is not None and matt.run_id == "manual" and matt.stages["restore"] == "failed"
    status = await RunControl(node, site.config).status()
    assert status.problems == [] and not status.busy
    assert status.stacks == ["traefik_ci_coopcloud_tech"]
    assert status.disk_free and status.sweep_next is not None


async def test_junit_loading(site: Site, node) -> None:
    paths = site.config.paths
    run_id = "sweep-20260617T0300Z-discourse"
    fetched = await fetch_run(node, paths.runs_root, paths.junit_subdir, run_id)
    assert fetched.files and fetched.results_json is not None
    remote = load_run_from_bytes(run_id, fetched.files, fetched.results_json)
    direct = load_run(site.tree.runs_root / run_id)
    assert remote.stages == direct.stages and "upgrade" in remote.stages
    assert remote.stage_status("upgrade") == direct.stage_status("upgrade") == "failed"
    assert remote.counts == direct.counts and remote.counts.total > 0
    cases = sorted((c.name, c.status) for _f, c in remote.iter_cases())
    assert cases == sorted((c.name, c.status) for _f, c in direct.iter_cases())


async def test_rerun_survives_the_console_and_reattaches(site: Site, node) -> None:
    runs = RunControl(node, site.config)
    state = await runs.start("discourse", "0.8.1+3.5.0")
    assert state.pid > 1 and state.exit_status is None

    async def active() -> bool:
        return (await runs.status()).active_rerun is not None

    await wait_for(active)
    with pytest.raises(RerunRefused, match="in flight"):
        await runs.start("mumble", "1.0.0+v1.6.870-0")
    # Detached: its own session, not the console's (nor the launcher's).
    sid = (await node.run(f"ps -o sid= -p {state.pid}")).stdout.strip()
    assert int(sid) == state.pid

    await node.close()  # "close the console": the run goes on
    again = site.open()
    try:
        runs = RunControl(again, site.config)
        status = await runs.status()
        assert status.active_rerun is not None and status.active_rerun.pid == state.pid
        spool = LogSpool()
        tail = RemoteTail(again, state.log, spool)
        task = asyncio.ensure_future(tail.run())

        def text() -> str:
            return "\n".join(spool.read_lines(0, spool.line_count))

        async def verdict() -> bool:
            return "==== verdict: FAIL discourse" in text()

        try:
            await wait_for(verdict, timeout=60)
        finally:
            tail.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert text().index("recipe=discourse") < text().index("==== stage: install ====")
        assert text().count("==== verdict: FAIL discourse") == 1
        spool.close()
        final = await wait_finished(runs, "discourse")
        assert final.exit_status == 1
        outcome = await runs.outcome(final)
        assert outcome.source == "results.json" and outcome.teardown_clean is True
        assert outcome.stages["upgrade"] == "failed"
    finally:
        await again.close()


async def test_tail_exactly_once_across_rotations_and_restarts(
    site: Site, node, tmp_path: Path
) -> None:
    """Six rotations (copytruncate and mv + create alternate), half noticed live by the
    follower, half at a restart of the follower (local: the follower killed; ssh: the
    connection dropped); every line once, in order, one marker per rotation."""
    log = tmp_path / "r.log"
    log.write_bytes(b"")
    spool = LogSpool()
    tail = RemoteTail(node, str(log), spool, backoff=Backoff(first=0.3, limit=0.3))
    written = 0

    def write(count: int) -> None:
        nonlocal written
        with log.open("ab") as f:
            f.write(b"".join(b"line %06d\n" % i for i in range(written + 1, written + count + 1)))
        written += count

    async def caught_up() -> bool:
        return spool.complete_lines - len(spool.marks) == written

    def rotate(kind: str) -> None:
        rotated = log.with_name("r.log.1")
        if kind == "copytruncate":
            rotated.write_bytes(log.read_bytes())
            with log.open("r+b") as f:
                f.truncate(0)
        else:
            os.replace(log, rotated)
            log.write_bytes(b"")

    task = asyncio.create_task(tail.run())
    expected = []
    try:
        write(40)
        await wait_for(caught_up)
        for i in range(6):
            kind = "copytruncate" if i % 2 == 0 else "mv"
            while_down = i in (0, 3, 4)
            write(40)
            await wait_for(caught_up)
            starts = tail.starts
            if while_down:
                await site.drop(node)
                await wait_for(_async(lambda: tail.state.status in (RECONNECTING, RETRYING)))
                rotate(kind)
                write(120)  # grows past the old offset before the follower is back
            else:
                rotate(kind)
                write(40)
            await wait_for(
                _async(lambda n=starts: tail.starts > n and tail.state.status == CONNECTED)
            )
            await wait_for(caught_up)
            expected.append(
                (
                    "resume" if while_down else "live",
                    MARK_TRUNCATED if kind == "copytruncate" else MARK_REPLACED,
                )
            )
        write(40)
        await wait_for(caught_up)
    finally:
        tail.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    lines = [spool.read_line(i) for i in range(spool.line_count)]
    numbers = [int(line.split()[1]) for i, line in enumerate(lines) if i not in spool.marks]
    spool.close()
    assert numbers == list(range(1, written + 1))
    assert [(how, mark) for how, mark in tail.noticed] == expected


async def test_close_kills_a_command_that_ignores_term(local: LocalNode) -> None:
    stream = local.stream("trap '' TERM; while :; do echo x; sleep 0.05; done")
    await anext(stream)
    (process,) = local.processes
    started = asyncio.get_running_loop().time()
    await local.close()
    assert asyncio.get_running_loop().time() - started < 1.0
    assert process.returncode == -9 and local.processes == set()
    await stream.aclose()


CONSOLE = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from tests.demo_session import local_site
from redfix_tui.local_node import LocalNode
from redfix_tui.runs.control import RunControl
from pathlib import Path

async def main():
    tree, config, env = local_site(Path(sys.argv[2]), speed=float(sys.argv[3]))
    node = LocalNode(config.node, env=env, cwd=tree.root)
    state = await RunControl(node, config).start("discourse", "0.8.1+3.5.0")
    print(state.pid, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_rerun_survives_a_hung_up_console(tmp_path: Path) -> None:
    """A console started from a terminal (its own process group here) that is hung up: SIGHUP
    to the console's whole group. The local rerun lives on and records its exit status."""
    root = tmp_path / "node"
    console = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CONSOLE,
        str(Path(__file__).resolve().parent.parent),
        str(root),
        str(FAST),
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert console.stdout is not None
    line = await asyncio.wait_for(console.stdout.readline(), 30)
    pid = int(line)
    os.killpg(console.pid, 1)  # the terminal hangs up
    assert await asyncio.wait_for(console.wait(), 10) == -1
    assert _alive(pid)
    tree = DemoNode(root)
    config = config_from_dict(tree.config_overrides(), "<test>")
    env = {**tree.env(), "LANG": "C.UTF-8", "REDFIX_DEMO_SPEED": str(FAST)}
    node = LocalNode(config.node, env=env, cwd=tree.root)
    try:
        final = await wait_finished(RunControl(node, config), "discourse", timeout=60)
        assert final.pid == pid and final.exit_status == 1  # ran to its end: the upgrade fails
    finally:
        await node.close()
