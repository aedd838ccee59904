"""The lab's private PostgreSQL server (osfsck_lab/postgres.py)."""

import os

import pytest

from osfsck_lab.postgres import PostgreSQLError


@pytest.mark.integration
def test_it_answers_and_stops(postgres_server):
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={postgres_server.port} user=postgres dbname=postgres") as conn:
        assert conn.execute("SHOW fsync").fetchone() == ("off",)
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
    assert postgres_server.version.startswith("15.") and postgres_server.proc.poll() is None


@pytest.mark.skipif(os.getuid() != 0, reason="as root only: the server then runs as postgres")
def test_a_folder_postgres_cannot_reach_is_named(tmp_path):
    from osfsck_lab.postgres import PostgreSQL

    tmp_path.chmod(0o700)  # pytest's folders are private: the postgres user cannot pass
    with pytest.raises(PostgreSQLError, match="cannot reach this folder"):
        PostgreSQL(tmp_path / "pg")
    assert not any((tmp_path / "pg").iterdir())  # nothing was started or written there
