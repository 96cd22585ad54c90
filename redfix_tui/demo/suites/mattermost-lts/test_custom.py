"""cc-ci custom checks for mattermost-lts."""


def test_api_ping(app):
    status, body = app.get("/api/v4/system/ping")
    assert status == 200
    assert '"status":"OK"' in body
