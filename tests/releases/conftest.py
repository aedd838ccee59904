"""The release matrix's fixtures: the dialect under test (PostgreSQL skipped, with its
reason, until the product reads it), one MariaDB (and PostgreSQL) server per test session
(per xdist worker), and the scenario corpus of each (release, dialect), built once per
worker and shared by every test that reads it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from osfsck_lab.mariadb import MariaDB
from osfsck_lab.postgres import PostgreSQL, PostgreSQLError, bindir
from tests.releases import corpus, store

# A test server's durability is nothing: its data folder is in memory (/dev/shm), where
# CREATE TABLE takes a few ms, not the ~50 ms of the disk's syncs here (a release's seven
# databases: 1 s, not 30), with a small redo log; each release's databases are dropped
# once read.
MARIADB_OPTIONS = (
    "--innodb-buffer-pool-size=64M",
    "--innodb-log-file-size=16M",
    "--innodb-flush-log-at-trx-commit=0",
)
MEMORY = Path("/dev/shm")


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("mariadb", marks=pytest.mark.integration),
        pytest.param("postgresql", marks=pytest.mark.integration),
    ]
)
def dialect(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def matrix_mariadb(tmp_path_factory):
    folder = Path(tempfile.mkdtemp(prefix="osfsck-matrix-", dir=MEMORY if MEMORY.is_dir() else None))
    try:
        with MariaDB(folder, MARIADB_OPTIONS) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def matrix_postgresql():
    try:
        bindir()
    except PostgreSQLError as e:
        pytest.skip(str(e))
    # the server runs as user postgres, who cannot pass pytest's private (0700) folders
    folder = Path(tempfile.mkdtemp(prefix="osfsck-pg-"))
    folder.chmod(0o755)
    try:
        with PostgreSQL(folder / "server") as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def built(request, tmp_path_factory):
    """(release, dialect) -> corpus.Built, made on first use (a failure is kept too, and
    reported in full by the first test of that pair, in one line by the others)."""
    made: dict[tuple[str, str], corpus.Built | BaseException] = {}
    backends: dict[str, object] = {}

    def backend(dialect: str):
        if dialect not in backends:
            if dialect == "sqlite":
                backends[dialect] = store.SqliteFiles(tmp_path_factory.mktemp("matrix-sqlite"))
            else:
                server = request.getfixturevalue(f"matrix_{dialect}")
                backends[dialect] = store.ServerDatabases(dialect, server.url, "rm")
        return backends[dialect]

    def get(release: str, dialect: str) -> corpus.Built:
        key = (release, dialect)
        if key not in made:
            try:
                made[key] = corpus.build(release, backend(dialect))
            except Exception as e:
                made[key] = e
                raise  # its traceback once; the pair's other tests say so in one line
        if isinstance(made[key], BaseException):
            pytest.fail(f"the corpus of {release} on {dialect} could not be built: {made[key]!r}", pytrace=False)
        return made[key]

    return get
