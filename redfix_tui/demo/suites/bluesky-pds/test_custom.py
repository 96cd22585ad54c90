"""cc-ci custom checks for bluesky-pds: XRPC and handle routing through traefik."""


def test_xrpc_health(app):
    status, body = app.get("/xrpc/_health")
    assert status == 200, body


def test_handle_resolution_routed_to_pds(app):
    status, body = app.get("/.well-known/atproto-did", host=f"ci-probe.{app.domain}")
    assert status == 200, f"handle host not routed to the PDS: {body!r}"
