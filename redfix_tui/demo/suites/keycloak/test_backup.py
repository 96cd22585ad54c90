"""cc-ci backup stage for keycloak: backupbot creates a snapshot with the app's data."""


def test_backup_creates_snapshot(app):
    snap = app.backup()
    assert snap.id


def test_snapshot_not_empty(app):
    assert app.backup().files


def test_snapshot_contains_db_dump(app):
    snap = app.backup()
    assert "/var/lib/postgresql/data/backup.sql" in snap.files, (
        f"snapshot {snap.id} has no database dump (backupbot.backup.path points at "
        "/opt/keycloak/data/import only)"
    )
