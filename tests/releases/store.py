"""The corpus's databases: made from the lab's stored DDL of one release (SQLite files
copied from a template file; on a server, the DDL loaded once per database), and filled
with rows (tests/releases/rows.py) as they are, foreign keys not enforced while writing: a
scenario tells states the services' constraints may refuse (a mapping of an instance no
cell has), and the sources must read what is there."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import JSON, Boolean, Enum, Integer, column, insert, inspect, table
from sqlalchemy.engine import make_url

from osfsck_lab import database, schemas

NEUTRAL_TIME = dt.datetime(2026, 1, 1)


class SqliteFiles:
    """Databases as SQLite files under `folder`: each (release, schema) loaded once into
    a template file, which every database of that schema copies."""

    name = "sqlite"

    def drop(self, urls) -> None:
        for url in urls:
            Path(make_url(url).database).unlink(missing_ok=True)

    def __init__(self, folder: Path):
        self.folder = folder
        self.templates: dict[tuple[str, str], Path] = {}

    def create(self, release: str, schema: str, name: str) -> str:
        key = (release, schema)
        if key not in self.templates:
            path = self.folder / "templates" / f"{release}-{schema}.sqlite"
            path.parent.mkdir(parents=True, exist_ok=True)
            _load(path, schemas.ddl_statements(release, schema, "sqlite"))
            self.templates[key] = path
        path = self.folder / f"{release}-{name}.sqlite"
        shutil.copyfile(self.templates[key], path)
        return f"sqlite:///{path}"


def _load(path: Path, statements: list[str]) -> None:
    """The DDL into a new SQLite file in one transaction, without waiting for the disk at
    each statement (as database.create does, ~25 ms a statement here: 3 s a database)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        for stmt in statements:
            conn.execute(stmt)
        conn.execute("COMMIT")
    finally:
        conn.close()


class ServerDatabases:
    """Databases `<prefix>_<release>_<name>` on a server (MariaDB, PostgreSQL), each loaded
    with its schema's DDL once."""

    def __init__(self, name: str, server_url: str, prefix: str):
        self.name = name
        self.base = make_url(server_url)
        self.prefix = prefix

    def create(self, release: str, schema: str, name: str) -> str:
        db = f"{self.prefix}_{release.replace('.', '_')}_{name}"
        url = self.base.set(database=db).render_as_string(hide_password=False)
        database.create(url, schema, release)
        return url

    def drop(self, urls) -> None:
        """Drop databases once read: the corpus keeps what was read, not the server's copy."""
        server = self.base.set(database="postgres" if self.base.get_backend_name() == "postgresql" else "")
        # DROP DATABASE cannot run inside a transaction block on PostgreSQL
        engine = database.engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for url in urls:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted(conn, make_url(url).database)}")
        engine.dispose()


def quoted(conn, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _neutral(col: dict):
    """A value for a NOT NULL column no source reads and no row gives."""
    kind = col["type"]
    if isinstance(kind, Enum) and kind.enums:
        return kind.enums[0]
    if isinstance(kind, JSON):
        return "{}"
    try:
        python = kind.python_type
    except NotImplementedError:
        return ""
    if python is bool:
        return False
    if python in (int, float) or python.__name__ == "Decimal":
        return 0
    if python in (dt.datetime, dt.date):
        return NEUTRAL_TIME
    return b"" if python is bytes else ""


def fill(url: str, tables: dict[str, list[dict]]) -> list[str]:
    """Insert each table's rows; return "<table>.<column>" of every column the rows give
    that this release's table lacks (left out; the matrix names them)."""
    lacking: list[str] = []
    engine = database.engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")  # a test's file: no wait for the disk
        elif conn.dialect.name == "mysql":
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        elif conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET session_replication_role = replica")
        look = inspect(conn)
        for name, rows in tables.items():
            if not rows:
                continue
            have = {c["name"]: c for c in look.get_columns(name)}
            key = look.get_pk_constraint(name)["constrained_columns"]
            given = sorted({k for r in rows for k in r})
            lacking += [f"{name}.{c}" for c in given if c not in have]
            neutral = {
                c: _neutral(info)
                for c, info in have.items()
                if not info["nullable"]
                and info.get("default") is None
                and c not in given
                # the integer primary key the database numbers itself
                and not (key == [c] and isinstance(info["type"], Integer))
            }
            cols = [c for c in given if c in have] + sorted(neutral)
            booleans = {c for c in cols if isinstance(have[c]["type"], Boolean)}
            integers = {c for c in cols if isinstance(have[c]["type"], Integer)}
            values = []
            for r in rows:
                row = {c: r.get(c, neutral.get(c)) for c in cols}
                if conn.dialect.name == "postgresql":  # its booleans and integers do not mix
                    for c in booleans & row.keys():
                        row[c] = None if row[c] is None else bool(row[c])
                    for c in integers & row.keys():
                        row[c] = int(row[c]) if isinstance(row[c], bool) else row[c]
                values.append(row)
            conn.execute(insert(table(name, *(column(c) for c in cols))), values)
    engine.dispose()
    return lacking
