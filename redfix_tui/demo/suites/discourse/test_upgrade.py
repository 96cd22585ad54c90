"""cc-ci upgrade stage for discourse: canonical -> tag upgrade converges and keeps data."""


def test_upgrade_converges(app):
    assert app.converge_status() == "completed"


def test_data_survives_upgrade(app):
    app.psql("CREATE TABLE ci_upgrade_marker (note text)")
    assert app.psql("SELECT note FROM ci_upgrade_marker") == [("redfix",)]


# prevb overlay: PR-faithfulness checks for the bitnamilegacy -> official image migration.
def test_head_runs_official_image_not_bitnamilegacy(app):
    image = app.image("app")
    print(f"head app image: {image}")
    assert image == "discourse/discourse:3.5.3"


def test_sidekiq_service_dropped_by_head(app):
    services = app.services()
    assert "sidekiq" not in services
