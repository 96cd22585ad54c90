"""cc-ci upgrade stage for keycloak: canonical -> tag upgrade converges and keeps data."""


def test_upgrade_converges(app):
    assert app.converge_status() == "completed"


def test_data_survives_upgrade(app):
    app.psql("CREATE TABLE ci_upgrade_marker (note text)")
    assert app.psql("SELECT note FROM ci_upgrade_marker") == [("redfix",)]
