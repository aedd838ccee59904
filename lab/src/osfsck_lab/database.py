"""Create the lab's Nova databases from the real DDL and fill them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import column, create_engine, insert, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from osfsck_lab import schemas

CHUNK = 5000


class LabDatabaseError(Exception):
    pass


def database_urls(out: Path, server_url: str | None, prefix: str, names: list[str]) -> dict[str, str]:
    """db name -> URL.  SQLite files under out/db, or databases `<prefix>_<name>` on a server."""
    if server_url is None:
        (out / "db").mkdir(parents=True, exist_ok=True)
        return {n: f"sqlite:///{(out / 'db' / f'{n}.sqlite').resolve()}" for n in names}
    base = make_url(server_url)
    return {n: base.set(database=f"{prefix}_{n}").render_as_string(hide_password=False) for n in names}


def plain_mysql(url: str) -> str:
    """`mysql+pymysql://...` -> `mysql://...`; other URLs unchanged."""
    u = make_url(url)
    if u.get_backend_name() == "mysql":
        u = u.set(drivername="mysql")
    return u.render_as_string(hide_password=False)


def create(url: str, db: str, release: str) -> None:
    """Create (or re-create) the database and load the real DDL of `db` ("nova_api" or "nova")."""
    u = make_url(url)
    dialect = "sqlite" if u.get_backend_name() == "sqlite" else "mysql"
    if dialect == "sqlite":
        Path(u.database).unlink(missing_ok=True)
    else:
        server = create_engine(u.set(database=""), poolclass=NullPool)  # URL.set ignores None
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{u.database}`"))
            conn.execute(text(f"CREATE DATABASE `{u.database}` CHARACTER SET utf8mb4"))
        server.dispose()
    engine = create_engine(u, poolclass=NullPool)
    with engine.begin() as conn:
        for stmt in schemas.ddl_statements(release, db, dialect):
            conn.exec_driver_sql(stmt)
    engine.dispose()


def insert_rows(url: str, table_name: str, rows: list[dict]) -> None:
    if not rows:
        return
    cols = sorted({k for r in rows for k in r})
    t = table(table_name, *(column(c) for c in cols))
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        for i in range(0, len(rows), CHUNK):
            conn.execute(insert(t), [{c: r.get(c) for c in cols} for r in rows[i : i + CHUNK]])
    engine.dispose()


def naive(t: dt.datetime) -> dt.datetime:
    return t.replace(microsecond=0)
