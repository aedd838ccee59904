"""Database backends for the repair tests: SQLite files, and a real MariaDB and a real
PostgreSQL on loopback (each started once for the session, stopped by its PID).

On PostgreSQL a test parametrized by release runs on pg.PG_RELEASE only: the newest release
whose six databases all exist there (Neutron dropped PostgreSQL in 2025.1); the release
matrix itself is SQLite's and MariaDB's."""

import secrets

import pytest

from osfsck_lab import schemas
from tests.support import pg
from tests.support.databases import drop_databases, mariadb_in

postgres_server = pg.postgres_server  # the session's PostgreSQL server


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory):
    with mariadb_in(tmp_path_factory.mktemp("mariadb")) as server:
        yield server


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("mariadb", marks=pytest.mark.integration),
        pytest.param("postgresql", marks=pytest.mark.integration),
    ]
)
def new_db(request, tmp_path):
    """name -> the URL of a new database of that name on the backend under test."""
    if request.param == "sqlite":
        yield lambda name: f"sqlite:///{tmp_path / name}.sqlite"
        return
    server = request.getfixturevalue("mariadb" if request.param == "mariadb" else "postgres_server")
    prefix = f"r{secrets.token_hex(4)}"
    yield lambda name: f"{server.url}{prefix}_{name}"
    drop_databases(server, prefix)


def pytest_collection_modifyitems(config, items):
    other = set(schemas.releases()) - {pg.PG_RELEASE}
    elsewhere = {
        id(item)
        for item in items
        if getattr(item, "callspec", None) is not None
        and item.callspec.params.get("new_db") == "postgresql"
        and other & set(map(str, item.callspec.params.values()))
    }
    if elsewhere:
        config.hook.pytest_deselected(items=[item for item in items if id(item) in elsewhere])
        items[:] = [item for item in items if id(item) not in elsewhere]
