"""cc-ci backup stage for bluesky-pds: backupbot creates a snapshot with the app's data."""


def test_backup_creates_snapshot(app):
    snap = app.backup()
    assert snap.id


def test_snapshot_not_empty(app):
    assert app.backup().files
