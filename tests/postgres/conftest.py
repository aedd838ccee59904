"""osfsck on a real PostgreSQL server: one private server per test session (per xdist
worker), and new databases on it loaded from the lab's PostgreSQL DDL of a release."""

import secrets

import pytest

from osfsck_lab import database
from tests.support import pg
from tests.support.databases import drop_databases

postgres_server = pg.postgres_server  # the session's PostgreSQL server


@pytest.fixture
def pg_db(postgres_server):
    """(db kind, release) -> the URL of a new database of that kind on the server, loaded
    with the release's DDL (its alembic rows included)."""
    prefix = f"p{secrets.token_hex(4)}"

    def make(db: str, release: str = pg.PG_RELEASE, name: str | None = None) -> str:
        url = database.database_urls(None, postgres_server.url, prefix, [name or db])[name or db]
        database.create(url, db, release)
        return url

    yield make
    drop_databases(postgres_server, prefix)
