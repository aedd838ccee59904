"""One MariaDB and one PostgreSQL server per test session (per xdist worker), started on first use."""

import pytest

from osfsck_lab.mariadb import MariaDB
from tests.support import pg

postgres_server = pg.postgres_server  # the session's PostgreSQL server


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory):
    with MariaDB(tmp_path_factory.mktemp("mariadb"), ("--innodb-buffer-pool-size=64M",)) as server:
        yield server
