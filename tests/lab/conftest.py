"""One MariaDB and one PostgreSQL server per test session (per xdist worker), started on first use."""

import pytest

from tests.support import pg
from tests.support.databases import mariadb_in

postgres_server = pg.postgres_server  # the session's PostgreSQL server


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory):
    with mariadb_in(tmp_path_factory.mktemp("mariadb")) as server:
        yield server
