"""Connecting while Textual starts: the console's early attempt, shared by the first connect
(its error too), a listener added late told the state at once, and the app starting it before
its first screen, over a real (in-process) SSH server."""

from __future__ import annotations

from pathlib import Path

import pytest

from redfix_tui.app import create_app
from redfix_tui.config import Config
from redfix_tui.demo.server import LocalShellServer
from redfix_tui.node import NodeConnection, NodeError
from redfix_tui.session import Session
from tests.conftest import SSHFiles, node_config_for


async def test_first_connect_shares_the_early_attempt(
    ssh_server: LocalShellServer, ssh_files: SSHFiles
) -> None:
    connection = NodeConnection(node_config_for(ssh_files, ssh_server.port))
    connection.connect_early()
    connection.connect_early()  # one attempt, however often asked
    await connection.connect()
    assert connection.is_connected and connection.connects == 1
    states: list[tuple[str, str]] = []
    connection.add_listener(lambda state, message: states.append((state, message)))
    assert states == [("connected", f"connected to {connection.host_label}")]
    assert (await connection.run("echo hi")).stdout == "hi\n"
    await connection.close()


async def test_the_early_attempts_error_reaches_the_first_connect_once(
    ssh_server: LocalShellServer, ssh_files: SSHFiles
) -> None:
    ssh_files.known_hosts.write_text("")  # the server's key is unknown
    connection = NodeConnection(node_config_for(ssh_files, ssh_server.port))
    connection.connect_early()
    with pytest.raises(NodeError) as info:
        await connection.connect()
    assert info.value.kind == "hostkey" and connection.connects == 1
    states: list[str] = []
    connection.add_listener(lambda state, _message: states.append(state))
    assert states == ["down"]

    # The operator pins the key: the next attempt resolves known_hosts again and connects.
    ssh_files.known_hosts.write_text(ssh_server.known_hosts_line())
    await connection.connect()
    assert connection.is_connected and connection.connects == 2
    await connection.close()


async def test_a_missing_key_file_found_early_is_explained(
    ssh_server: LocalShellServer, ssh_files: SSHFiles, tmp_path: Path
) -> None:
    config = node_config_for(ssh_files, ssh_server.port)
    config.client_keys = [str(tmp_path / "no-such-key")]
    connection = NodeConnection(config)
    connection.connect_early()
    with pytest.raises(NodeError) as info:
        await connection.connect()
    assert info.value.kind == "config" and "no-such-key" in info.value.message


async def test_the_app_connects_before_its_first_screen(
    ssh_server: LocalShellServer, ssh_files: SSHFiles, tmp_path: Path
) -> None:
    config = Config()
    config.node = node_config_for(ssh_files, ssh_server.port)
    session = Session(config, tmp_path / "JOURNAL-redfix.md", "redfix")
    app = create_app(session)
    node = session.node
    screens_then: list[int] = []
    start = node.connect_early

    def recording() -> None:
        screens_then.append(len(app.screen_stack))
        start()

    node.connect_early = recording  # type: ignore[method-assign]
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert screens_then == [0]
        assert node.connects == 1
    assert node.connects == 1


async def test_the_board_read_begun_before_the_ui_fills_the_first_refresh(
    tmp_path: Path,
) -> None:
    """The CLI's order: connect and read the board in the loop, then build and run the app;
    the main screen's first refresh takes that read instead of reading again."""
    from tests.demo_session import serve_demo

    demo, config = await serve_demo(tmp_path / "node")
    try:
        session = Session(config, tmp_path / "JOURNAL-redfix.md", "redfix")
        assert session.early
        loads: list[int] = []
        load = session.recipes.load

        async def counting() -> list:
            loads.append(1)
            return await load()

        session.recipes.load = counting  # type: ignore[method-assign]
        session.start_early()
        session.start_early()  # once, however often asked
        assert session.started_early
        app = create_app(session)
        async with app.run_test(size=(160, 50)) as pilot:
            board = app.screen.query_one("RecipeBoard")

            async def filled() -> bool:
                await pilot.pause(0.05)
                return bool(board.statuses)  # type: ignore[attr-defined]

            from tests.demo_session import wait_for

            await wait_for(filled)
            assert set(board.statuses) >= {"discourse", "gitea"}  # type: ignore[attr-defined]
            assert loads == [1] and session.node.connects == 1
            assert session.take_board_read() is None  # taken by the first refresh
        await session.close()
    finally:
        await demo.close()


async def test_an_early_board_reads_failure_is_one_line_and_one_attempt(
    ssh_server: LocalShellServer, ssh_files: SSHFiles, tmp_path: Path
) -> None:
    ssh_files.known_hosts.write_text("")  # the server's key is unknown
    config = Config()
    config.node = node_config_for(ssh_files, ssh_server.port)
    session = Session(config, tmp_path / "JOURNAL-redfix.md", "redfix")
    session.start_early()
    app = create_app(session)
    async with app.run_test(size=(160, 50)) as pilot:
        bar = app.screen.query_one("NodeStatusBar")

        async def down() -> bool:
            await pilot.pause(0.05)
            return bar.connection == "down"  # type: ignore[attr-defined]

        from tests.demo_session import wait_for

        await wait_for(down)
        assert "host key" in bar.message  # type: ignore[attr-defined]
        assert session.node.connects == 1  # the screen did not try again behind it


async def test_log_node_file_starts_its_tail_before_the_ui_and_the_pane_takes_it_over(
    ssh_server: LocalShellServer, ssh_files: SSHFiles, tmp_path: Path
) -> None:
    """`redfix-tui log NODE:FILE`: the tail begun with the connection fills the spool the log
    pane then shows; one follower on the node, none started again by the pane."""
    log = tmp_path / "redfix-plausible.log"
    log.write_bytes(b"".join(b"upgrade step %d\n" % i for i in range(2000)))
    config = Config()
    config.node = node_config_for(ssh_files, ssh_server.port)
    session = Session(config, tmp_path / "JOURNAL-redfix.md", "redfix")
    session.open_log = str(log)
    session.start_early()
    early = session._early_tail
    assert early is not None
    app = create_app(session)
    async with app.run_test(size=(160, 50)) as pilot:
        from tests.demo_session import wait_for

        view = app.screen.query_one("LogView")

        async def shown() -> bool:
            await pilot.pause(0.05)
            spool = view.spool  # type: ignore[attr-defined]
            return spool is not None and spool.complete_lines == 2000

        await wait_for(shown)
        assert view.spool is early[0].spool  # type: ignore[attr-defined]
        assert session.take_early_tail(str(log)) is None  # taken by the pane
        followers = [c for c in ssh_server.commands if c.startswith("exec python3 -c ")]
        assert len(followers) == 1
        pane = app.screen.query_one("LogPane")
        assert pane._state.status == "CONNECTED"  # type: ignore[attr-defined]
    assert early[1].done()  # the pane's worker stopped the tail with the app
