"""cc-ci custom checks for gitea."""


def test_api_version(app):
    status, body = app.get("/api/v1/version")
    assert status == 200
    assert "1.24" in body
