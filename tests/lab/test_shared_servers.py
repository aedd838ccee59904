"""What tests leave on the database servers their session shares (tests/support/databases.py):
a test's databases are dropped after it, and nothing else is; a server started for the
session leaves no data folder behind."""

import secrets

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from osfsck_lab import database
from tests.support.databases import drop_databases, mariadb_in

pytestmark = pytest.mark.integration


def listed(server) -> set[str]:
    url = make_url(server.url)
    postgres = url.get_backend_name() == "postgresql"
    engine = database.engine(url.set(database="postgres" if postgres else "").render_as_string(hide_password=False))
    with engine.connect() as conn:
        names = conn.execute(text("SELECT datname FROM pg_database" if postgres else "SHOW DATABASES")).scalars().all()
    engine.dispose()
    return set(names)


def create(server, name: str) -> None:
    engine = database.engine(
        server.url + ("postgres" if server.url.startswith("postgresql") else ""), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {conn.dialect.identifier_preparer.quote_identifier(name)}"))
    engine.dispose()


@pytest.mark.parametrize("kind", ["mariadb_server", "postgres_server"])
def test_a_tests_databases_are_dropped_and_no_other(request, kind):
    server = request.getfixturevalue(kind)
    prefix = f"d{secrets.token_hex(4)}"
    mine = {f"{prefix}_nova", f"{prefix}_nova_cell1"}
    # near misses: the prefix with more after it (which `_` read as a wildcard would take),
    # and inside another name
    others = {f"{prefix}x_nova", f"a{prefix}_nova"}
    for name in mine | others:
        create(server, name)
    try:
        drop_databases(server, prefix)
        assert listed(server) & (mine | others) == others
    finally:
        drop_databases(server, prefix + "x")
        drop_databases(server, "a" + prefix)
    assert not listed(server) & (mine | others)


def test_a_session_mariadb_leaves_no_data_folder(tmp_path):
    folder = tmp_path / "mariadb"
    with mariadb_in(folder) as server:
        create(server, "kept_while_running")
        assert (folder / "data" / "kept_while_running").is_dir()
    assert server.proc.poll() is not None
    assert not folder.exists()
