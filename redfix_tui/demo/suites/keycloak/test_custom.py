"""cc-ci custom checks for keycloak."""


def test_master_realm_openid_configuration(app):
    status, body = app.get("/realms/master/.well-known/openid-configuration")
    assert status == 200
    assert "issuer" in body
