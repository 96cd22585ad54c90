"""cc-ci install stage for gitea: a cold deploy of the tag converges and serves."""


def test_stack_converges(app):
    assert app.converge_status() == "completed"


def test_services_present(app):
    assert app.services(), "no services deployed"


def test_app_ini_root_url_matches_domain(app):
    ini = app.read_config("/etc/gitea/app.ini")
    root_url = ini["server"]["ROOT_URL"]
    assert root_url == f"https://{app.domain}/", f"app.ini [server] ROOT_URL={root_url!r}"
