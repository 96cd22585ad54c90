"""cc-ci install stage for keycloak: a cold deploy of the tag converges and serves."""


def test_stack_converges(app):
    assert app.converge_status() == "completed"


def test_services_present(app):
    assert app.services(), "no services deployed"
