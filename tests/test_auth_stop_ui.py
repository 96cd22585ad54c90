"""The console stops after refused authentications and says so; ctrl+r tries again."""

from __future__ import annotations

import getpass
from pathlib import Path

from redfix_tui.app import create_app
from redfix_tui.demo.server import new_client_key
from redfix_tui.session import Session
from tests.demo_session import serve_demo
from tests.pilot_helpers import board, until


async def test_refused_key_stops_then_ctrl_r_retries(tmp_path: Path) -> None:
    demo, config = await serve_demo(tmp_path / "node")
    key_file = Path(config.node.client_keys[0])
    right_key = key_file.read_bytes()
    wrong, _ = new_client_key()
    wrong.write_private_key(str(key_file))
    config.board.refresh_seconds = 0.5
    try:
        session = Session(config, tmp_path / "J.md", "redfix")
        session.open_log = "/tmp/redfix-none.log"  # a tail retrying too, as in the console
        app = create_app(session)
        expected = (
            f"✘ down {session.host_label} — authentication refused for "
            f"{getpass.getuser()}@{session.node.host} — fix the key, then ctrl+r to retry"
        )

        def bar() -> str:
            return str(app.screen.query_one("NodeStatusBar").render())

        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: session.node.auth_stopped)
            await pilot.pause(4.0)  # refresh ticks and the tail's retries meanwhile
            assert session.node.connects == 3
            assert bar().startswith(expected), bar()
            key_file.write_bytes(right_key)
            await pilot.press("ctrl+r")
            await until(pilot, lambda: board(app).row_count == 6)
            assert bar().startswith(f"● connected {session.host_label}")
            assert session.node.connects == 4
    finally:
        await demo.close()


async def test_unknown_host_key_of_a_name_is_one_line_in_the_status_bar(tmp_path: Path) -> None:
    """The host as a name (``localhost``) with an unknown key: the console says so and what to
    do, instead of sitting at 'connecting' after a ValueError."""
    demo, config = await serve_demo(tmp_path / "node")
    known_hosts = Path(config.node.known_hosts)
    known_hosts.write_text("")
    config.node.host = "localhost"
    try:
        session = Session(config, tmp_path / "J.md", "redfix")
        session.open_log = "/tmp/redfix-none.log"
        app = create_app(session)
        async with app.run_test(size=(200, 30)) as pilot:
            bar = app.screen.query_one("NodeStatusBar")
            await until(pilot, lambda: "✘ down" in str(bar.render()))
            text = str(bar.render())
            label = session.host_label
            assert text.startswith(
                f"✘ down {label} — host key of {label} is not in {known_hosts}: check the "
                f"fingerprint out of band, then ssh-keyscan -p {demo.server.port} localhost >> "
            ), text
    finally:
        await demo.close()
