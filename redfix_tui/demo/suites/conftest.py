"""cc-ci harness fixtures, as shipped with the redfix-tui demo node.

The real harness talks to a freshly deployed app; this one replays what cc-ci recorded for each
recipe, so every stage passes or fails deterministically with the assertion the sweep saw.
``CCCI_DEMO_UNDER_LOAD=1`` replays the loaded canonical sweep (several recipes at once).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

UNDER_LOAD = os.environ.get("CCCI_DEMO_UNDER_LOAD") == "1"


class UndefinedTable(Exception):
    """What psycopg raises for a missing relation."""

    __module__ = "psycopg.errors"


class HandshakeTimeout(TimeoutError):
    """The mumble client probe gave up waiting for the server."""

    __module__ = "ccci.probes.mumble"


@dataclass
class Snapshot:
    """A backupbot (restic) snapshot."""

    id: str
    files: list[str]
    tables: dict[str, list[tuple]]


@dataclass
class Recorded:
    """What one recipe's deployment looked like on cc-ci."""

    domain: str
    services: dict[str, str]
    routes: dict[str, tuple[int, str]] = field(default_factory=dict)
    config: dict[str, dict[str, str]] = field(default_factory=dict)
    backup_files: list[str] = field(default_factory=list)
    restore_replays_dump: bool = True
    handshake_ok: bool = True


RECORDED: dict[str, Recorded] = {
    "discourse": Recorded(
        domain="discourse.ci.coopcloud.tech",
        services={
            "app": "bitnamilegacy/discourse:3.5.0",
            "db": "bitnamilegacy/postgresql:13.18.0",
            "redis": "bitnamilegacy/redis:7.4.2",
            "sidekiq": "bitnamilegacy/discourse:3.5.0",
        },
        routes={"/srv/status": (200, "ok")},
        backup_files=["/bitnami/discourse/backup.sql", "/bitnami/discourse/public/uploads"],
    ),
    "mattermost-lts": Recorded(
        domain="mattermost-lts.ci.coopcloud.tech",
        services={"app": "mattermost/mattermost-team-edition:10.11.15", "postgres": "postgres:15"},
        routes={"/api/v4/system/ping": (200, '{"status":"OK"}')},
        backup_files=[
            "/var/lib/postgresql/data/",
            "/var/lib/postgresql/data/postgres-backup.sql",
            "/mattermost/data",
        ],
        restore_replays_dump=False,
    ),
    "mumble": Recorded(
        domain="mumble.ci.coopcloud.tech",
        services={"app": "mumblevoip/mumble-server:v1.6.870-0", "web": "nginx:1.27"},
        routes={"/": (200, "mumble-web")},
        backup_files=["/data/mumble-server.sqlite"],
        handshake_ok=not UNDER_LOAD,
    ),
    "bluesky-pds": Recorded(
        domain="pds.ci.coopcloud.tech",
        services={"app": "ghcr.io/bluesky-social/pds:0.4.158"},
        routes={
            "/xrpc/_health": (200, '{"version":"0.4.158"}'),
            "handle:/.well-known/atproto-did": (404, "404 page not found"),
        },
        backup_files=["/pds/account.sqlite", "/pds/blocks"],
    ),
    "gitea": Recorded(
        domain="gitea.ci.coopcloud.tech",
        services={"app": "gitea/gitea:1.24.5-rootless", "db": "mariadb:11.4"},
        routes={"/api/v1/version": (200, '{"version":"1.24.5"}')},
        config={"server": {"ROOT_URL": "http://localhost:3000/", "DOMAIN": "localhost"}},
        backup_files=["/var/lib/gitea", "/var/lib/mysql/backup.sql"],
    ),
    "keycloak": Recorded(
        domain="keycloak.ci.coopcloud.tech",
        services={"app": "quay.io/keycloak/keycloak:26.3.2", "db": "postgres:16"},
        routes={"/realms/master/.well-known/openid-configuration": (200, '{"issuer":"..."}')},
        backup_files=["/opt/keycloak/data/import"],
    ),
}


class App:
    """The deployed app under test (replayed)."""

    def __init__(self, recipe: str) -> None:
        self.recipe = recipe
        self.rec = RECORDED[recipe]
        self.domain = self.rec.domain
        self.stack = self.domain.replace(".", "_")
        self.tables: dict[str, list[tuple]] = {}

    def __repr__(self) -> str:
        return f"<App {self.recipe} at {self.domain}>"

    def converge_status(self) -> str:
        """Return docker's UpdateStatus for every service of the stack."""
        for service in self.rec.services:
            print(f"docker service inspect {self.stack}_{service}: UpdateStatus=completed")
        return "completed"

    def services(self) -> list[str]:
        """Return the compose services of the deployed head."""
        return sorted(self.rec.services)

    def image(self, service: str) -> str:
        """Return the image a service runs."""
        return self.rec.services[service]

    def get(self, path: str, host: str = "") -> tuple[int, str]:
        """GET ``path`` on the app (or on another host it should serve)."""
        key = f"handle:{path}" if host else path
        status, body = self.rec.routes.get(key, (200, ""))
        print(f"GET https://{host or self.domain}{path} -> {status} ({len(body)} bytes)")
        return status, body

    def read_config(self, name: str) -> dict[str, dict[str, str]]:
        """Read an ini file from the app container."""
        print(f"abra app cp {self.domain} app:{name} -")
        return self.rec.config

    def psql(self, sql: str) -> list[tuple]:
        """Run SQL in the app's database (a tiny replay of what cc-ci's probe does)."""
        print(f"psql> {sql}")
        words = sql.replace(";", " ").split()
        if words[0] == "CREATE":
            self.tables[words[2]] = [("redfix",)]
            return []
        if words[0] == "DROP":
            self.tables.pop(words[2], None)
            return []
        table = words[words.index("FROM") + 1]
        if table not in self.tables:
            raise UndefinedTable(
                f'relation "{table}" does not exist\nLINE 1: {sql}\n'
                + " " * (sql.index(table) + 8)
                + "^"
            )
        return self.tables[table]

    def backup(self) -> Snapshot:
        """Run ``abra app backup create`` and return the new snapshot."""
        snap = Snapshot("b0495d36", list(self.rec.backup_files), dict(self.tables))
        print(f"abra app backup create {self.domain}: snapshot {snap.id} saved")
        return snap

    def restore(self, snap: Snapshot) -> None:
        """Run ``abra app restore`` from ``snap``."""
        print(f"abra app restore {self.domain} {snap.id}: Restoring Snapshot {snap.id} at /")
        if self.rec.restore_replays_dump:
            self.tables = dict(snap.tables)
        else:
            print("no backupbot.restore.post-hook on any service; nothing replays the dump")

    def mumble_connect(self, user: str, timeout: float = 30.0) -> list[str]:
        """Connect a mumble client and return the channels it was told about."""
        print(f"mumble probe: connecting as {user} to {self.domain}:64738")
        print("mumble probe: Version/Authenticate sent, CryptSetup received")
        if not self.rec.handshake_ok:
            print("mumble probe: ServerSync pending; murmur cpu 312%, loadavg 14.21")
            raise HandshakeTimeout(
                f"no ServerSync/ChannelState within {timeout}s (handshake stalled after CryptSetup)"
            )
        print("mumble probe: ServerSync received, 2 ChannelState, 1 UserState")
        return ["Root", "ci-lobby"]


@pytest.fixture
def app(request: pytest.FixtureRequest) -> App:
    """The recipe's deployed app; the recipe is the test file's directory name."""
    return App(request.path.parent.name)
