"""Create the lab's databases from the real DDL and fill them (SQLite, MariaDB, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable
from itertools import chain, islice
from pathlib import Path

from sqlalchemy import Boolean, Integer, column, create_engine, insert, inspect, table, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from osfsck_lab import schemas

CHUNK = 5000
DIALECTS = {"sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql", "postgresql": "postgresql"}

# Columns the lab writes that older releases' schemas lack: (table, column) -> the first
# release whose migrations add it (the alembic revision).  insert_rows leaves such a column
# out where the table has none; any other unknown column is an error.
ADDED_IN = {
    # nova 28.0.0, migration 1acf2c98e646_add_compute_id_to_instance (also on shadow_*)
    ("instances", "compute_id"): "2023.2",
    ("shadow_instances", "compute_id"): "2023.2",
    ("migrations", "dest_compute_id"): "2023.2",
}


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


def dialect(url: str) -> str:
    """The schema dialect of a URL: "sqlite", "mysql" (MariaDB) or "postgresql"."""
    backend = make_url(url).get_backend_name()
    if backend not in DIALECTS:
        raise LabDatabaseError(f"unsupported database {backend!r}: use sqlite, mysql or postgresql")
    return DIALECTS[backend]


def engine(url: str, **kw) -> Engine:
    """An engine without a pool; a plain `postgresql://` goes through psycopg 3, as osfsck's does."""
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return create_engine(u, poolclass=NullPool, **kw)


def create(url: str, db: str, release: str) -> None:
    """Create (or re-create) the database and load the real DDL of `db` (one of schemas.DBS);
    on PostgreSQL as a copy of a template database of that DDL (`_pg_template`)."""
    u = make_url(url)
    kind = dialect(url)
    if kind == "sqlite":
        Path(u.database).unlink(missing_ok=True)
    elif kind == "mysql":
        server = engine(u.set(database=""))  # URL.set ignores None
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{u.database}`"))
            conn.execute(text(f"CREATE DATABASE `{u.database}` CHARACTER SET utf8mb4"))
        server.dispose()
    else:  # a copy of the template database of that DDL (CREATE DATABASE: outside a transaction)
        server = engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
        template = _pg_template(server, release, db)
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{u.database}" TEMPLATE "{template}"'))
        server.dispose()
        return
    _load(url, schemas.ddl_statements(release, db, kind))


def _load(url: str, statements: list[str]) -> None:
    target = engine(url)
    with target.begin() as conn:
        for stmt in statements:
            conn.exec_driver_sql(stmt)
    target.dispose()


def _pg_template(server: Engine, release: str, db: str) -> str:
    """The name of the database on the server that holds `db`'s PostgreSQL DDL of `release`,
    loaded on first use and kept: a nova cell's DDL takes ~2.5 s to load, a copy ~0.3 s.
    Its name has the DDL's digest, so a rebuilt schema gets a new one; two builds making it
    at once each load a database of their own, and the first renamed wins."""
    ddl = schemas.ddl_statements(release, db, "postgresql")
    digest = hashlib.sha256("\n".join(ddl).encode()).hexdigest()[:12]
    name = f"osfsck_template_{release.replace('.', '_')}_{db}_{digest}"
    with server.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            return name
        loading = f"{name}_{os.getpid()}"
        conn.execute(text(f'DROP DATABASE IF EXISTS "{loading}"'))
        conn.execute(text(f'CREATE DATABASE "{loading}"'))
    try:
        _load(server.url.set(database=loading).render_as_string(hide_password=False), ddl)
    except BaseException:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{loading}" WITH (FORCE)'))
        raise
    with server.connect() as conn:
        try:
            conn.execute(text(f'ALTER DATABASE "{loading}" RENAME TO "{name}"'))
        except DBAPIError:  # another build's is there now
            conn.execute(text(f'DROP DATABASE IF EXISTS "{loading}" WITH (FORCE)'))
    return name


def insert_rows(url: str, table_name: str, rows: Iterable[dict], columns: Iterable[str] | None = None) -> None:
    """Insert `rows` into the table (see Writer.insert)."""
    if isinstance(rows, list) and not rows:
        return
    with Writer(url) as w:
        w.insert(table_name, rows, columns)


class Writer:
    """One connection (and transaction) to a database, for inserts into several tables."""

    def __init__(self, url: str):
        self.url = url
        self._columns: dict = {}
        self._serial: dict = {}

    def __enter__(self) -> Writer:
        self._engine = engine(self.url)
        self._tx = self._engine.begin()
        self.conn = self._tx.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._tx.__exit__(*exc)
        finally:
            self._engine.dispose()

    def insert(self, table_name: str, rows: Iterable[dict], columns: Iterable[str] | None = None) -> None:
        """Insert `rows` into the table's columns, CHUNK rows at a time: a column the release's
        table lacks is left out if ADDED_IN names it (else LabDatabaseError).  The columns are
        `columns` (the rows' other keys ignored), else every key of the rows: of them all for
        a list, of the first CHUNK for any other iterable, which is never held whole (a later
        row with another key is then an error).  On PostgreSQL, whose booleans and integers
        do not mix, 0/1 go to boolean columns as False/True and False/True to integer columns
        as 0/1 (nova's `deleted` is an Integer, cinder's a Boolean); serial columns' sequences
        follow the values given."""
        whole = rows if isinstance(rows, list) else None
        batches = _batches(whole if whole is not None else iter(rows))
        first = next(batches, None)
        if not first:
            return
        keys = set(columns) if columns is not None else {k for r in (whole or first) for k in r}
        wanted = sorted(keys)
        have = self._table(table_name)
        unknown = [c for c in wanted if c not in have and (table_name, c) not in ADDED_IN]
        if unknown:
            raise LabDatabaseError(f"table {table_name} has no column {', '.join(unknown)}")
        cols = [c for c in wanted if c in have]
        cast = {}
        if self.conn.dialect.name == "postgresql":
            cast = {c: _pg_cast(have[c]) for c in cols if _pg_cast(have[c])}
        t = table(table_name, *(column(c) for c in cols))
        strict = columns is None and whole is None
        for batch in chain([first], batches):
            if strict and not all(keys.issuperset(r) for r in batch):
                raise LabDatabaseError(f"rows of table {table_name} with columns beyond {', '.join(wanted)}")
            chunk = [{c: r.get(c) for c in cols} for r in batch]
            for row in chunk if cast else ():
                for c, to in cast.items():
                    if row[c] is not None:
                        row[c] = to(row[c])
            self.conn.execute(insert(t), chunk)
        if self.conn.dialect.name == "postgresql":
            self._advance_sequences(table_name, cols)

    def _advance_sequences(self, table_name: str, cols: list[str]) -> None:
        """The sequence of a serial column the rows gave values of is moved past them, as it
        would be had the service inserted them (a later INSERT without an id, a service's or a
        repair's, would otherwise be given one of theirs)."""
        for c in cols:
            if c in self._serial[table_name]:
                self.conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table_name}', '{c}'), max(\"{c}\")) "
                        f'FROM "{table_name}" HAVING max("{c}") IS NOT NULL'
                    )
                )

    def _table(self, name: str) -> dict:
        if name not in self._columns:
            described = inspect(self.conn).get_columns(name)
            self._columns[name] = {c["name"]: c["type"] for c in described}
            self._serial[name] = {c["name"] for c in described if "nextval(" in str(c.get("default") or "")}
        return self._columns[name]


def _batches(rows):
    """CHUNK rows at a time: slices of a list, else as the iterator gives them."""
    if isinstance(rows, list):
        for i in range(0, len(rows), CHUNK):
            yield rows[i : i + CHUNK]
    else:
        while batch := list(islice(rows, CHUNK)):
            yield batch


def _pg_cast(kind):
    if isinstance(kind, Boolean):
        return bool
    if isinstance(kind, Integer):
        return lambda v: int(v) if isinstance(v, bool) else v
    return None


def naive(t: dt.datetime) -> dt.datetime:
    return t.replace(microsecond=0)
