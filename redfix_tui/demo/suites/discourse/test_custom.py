"""cc-ci custom checks for discourse."""


def test_srv_status_ok(app):
    status, body = app.get("/srv/status")
    assert (status, body) == (200, "ok")
