"""cc-ci restore stage for keycloak: a restore brings back what the backup saw."""


def test_restore_returns_state(app):
    app.psql("CREATE TABLE ci_marker (note text); INSERT INTO ci_marker VALUES ('redfix')")
    snap = app.backup()
    app.psql("DROP TABLE ci_marker")
    app.restore(snap)
    rows = app.psql("SELECT note FROM ci_marker")
    assert rows == [("redfix",)]


def test_healthy_after_restore(app):
    assert app.converge_status() == "completed"
