"""One MariaDB and one PostgreSQL server per test session (per xdist worker), started on first use."""

import shutil
import tempfile
from pathlib import Path

import pytest

from osfsck_lab.mariadb import MariaDB
from osfsck_lab.postgres import PostgreSQL, PostgreSQLError, bindir


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory):
    with MariaDB(tmp_path_factory.mktemp("mariadb"), ("--innodb-buffer-pool-size=64M",)) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server():
    try:
        bindir()
    except PostgreSQLError as e:
        pytest.skip(str(e))
    # pytest's own temporary folders are private (0700): the server, as user postgres, could
    # not reach one, so it gets a folder of its own that others may pass through.
    folder = Path(tempfile.mkdtemp(prefix="osfsck-pg-"))
    folder.chmod(0o755)
    try:
        with PostgreSQL(folder / "server") as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)
