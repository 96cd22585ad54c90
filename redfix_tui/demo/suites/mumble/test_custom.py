"""cc-ci custom checks for mumble: a real client handshake, not just an open port."""


def test_web_client_served(app):
    status, _ = app.get("/")
    assert status == 200


def test_handshake_completes_with_channel_presence(app):
    channels = app.mumble_connect("ci-probe", timeout=30.0)
    assert "ci-lobby" in channels
