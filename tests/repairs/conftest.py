"""Database backends for the repair tests: SQLite files, and a real MariaDB on loopback
(started once for the session, stopped by its PID)."""

import secrets

import pytest

from osfsck_lab.mariadb import MariaDB


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory):
    server = MariaDB(tmp_path_factory.mktemp("mariadb"), ("--innodb-buffer-pool-size=64M",))
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.integration)])
def new_db(request, tmp_path):
    """name -> the URL of a new database of that name on the backend under test."""
    if request.param == "sqlite":
        return lambda name: f"sqlite:///{tmp_path / name}.sqlite"
    server = request.getfixturevalue("mariadb")
    prefix = f"r{secrets.token_hex(4)}"
    return lambda name: f"{server.url}{prefix}_{name}"
