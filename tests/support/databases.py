"""What a test leaves on a database server it shares with the rest of its session: its
databases are dropped after it, and a server the session started is removed with its
data folder when stopped.  A session makes hundreds of databases (10-20 MB each on
MariaDB's InnoDB, ~12 MB on PostgreSQL): kept to the end, they filled a CI machine's disk."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from osfsck_lab import database
from osfsck_lab.mariadb import MariaDB


def drop_databases(server, prefix: str) -> None:
    """Drop the databases named `<prefix>_...` (a test's) on `server` (MariaDB or PostgreSQL)."""
    url = make_url(server.url)
    postgres = url.get_backend_name() == "postgresql"
    engine = database.engine(
        url.set(database="postgres" if postgres else "").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with engine.connect() as conn:
            if postgres:
                listed = conn.execute(
                    text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": f"{prefix}\\_%"}
                )
            else:
                listed = conn.execute(text("SHOW DATABASES LIKE :p"), {"p": f"{prefix}\\_%"})
            for (name,) in listed.all():
                quoted = conn.dialect.identifier_preparer.quote_identifier(name)
                conn.execute(text(f"DROP DATABASE {quoted}" + (" WITH (FORCE)" if postgres else "")))
    finally:
        engine.dispose()


@contextmanager
def mariadb_in(folder: Path) -> Iterator[MariaDB]:
    """A MariaDB server of the tests' size in `folder`, which is removed once it stops."""
    server = MariaDB(folder, ("--innodb-buffer-pool-size=64M",))
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
