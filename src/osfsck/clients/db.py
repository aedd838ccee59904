"""Database engines for every backend Nova supports, with streaming reads."""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path

from sqlalchemy import Boolean, Integer, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from osfsck.clients.extras import install_hint
from osfsck.model.secrets import redact_url

STREAM_BATCH = 10_000


class DatabaseError(Exception):
    """One line, with the URL's password hidden."""


def _mysql_driver() -> str:
    # mysqlclient (C) reads result sets 5-10x faster than PyMySQL (research/scale.md A.5)
    return "mysqldb" if importlib.util.find_spec("MySQLdb") else "pymysql"


IO_TIMEOUT = 120  # seconds; MySQL sends a big result's rows continuously, so a wait this long is a dead peer
# PostgreSQL drivers osfsck takes a URL's driver name for: psycopg (3), the postgres extra's.
# Nova, Cinder and Neutron name psycopg2 in their connection URLs (oslo.db's examples), and
# a cell's URL is taken as Nova stores it in cell_mappings.
PG_DRIVERS = ("postgresql", "postgresql+psycopg2", "postgresql+psycopg")


class _PgFlag(TypeDecorator):
    impl = Boolean
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value if value is None else bool(value)

    def process_result_value(self, value, dialect):
        return value if value is None else int(value)


# A column the services declare Boolean: an integer 0/1 on MySQL (TINYINT(1)) and SQLite,
# a real `boolean` on PostgreSQL, where it is read as 0/1 too (a fact, a snapshot or a
# journal is the same whatever the backend) and written from 0/1 (PostgreSQL compares no
# boolean with an integer).  Compare one with sqlalchemy's true()/false(): a streamed
# SELECT's parameters are not converted (`stream`).
FLAG = Integer().with_variant(_PgFlag(), "postgresql")


def make_engine(url: str, *, readonly: bool = True, connect_timeout: int = 10) -> Engine:
    """An engine for `url`.  `mysql://` picks the C driver when installed.  A SQLite file
    must exist (SQLite would silently create an empty one) and is opened read-only
    unless `readonly` is False."""
    shown = redact_url(url)
    try:
        u = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"not a database URL: {shown}") from None
    # NullPool closes every connection it is given back, which ends any transaction; its
    # reset (a rollback) first would only fail again, loudly, on a connection that broke
    kwargs: dict = {"poolclass": NullPool, "pool_reset_on_return": None}
    if u.get_backend_name() == "mysql":
        if u.drivername == "mysql":
            u = u.set(drivername=f"mysql+{_mysql_driver()}")
        q = dict(u.query)
        q.setdefault("charset", "utf8mb4")
        u = u.set(query=q)
        # a server that stops sending mid-result (a black-holed network, a frozen node)
        # must make its scope partial, not hang the run: no socket read waits longer than
        # this (the URL's ?read_timeout=N / ?write_timeout=N win)
        kwargs["connect_args"] = {
            "connect_timeout": connect_timeout,
            **{k: IO_TIMEOUT for k in ("read_timeout", "write_timeout") if k not in q},
        }
    elif u.get_backend_name() == "postgresql":
        if u.drivername in PG_DRIVERS:
            # psycopg 3, the postgres extra's (SQLAlchemy 2.0 would default to psycopg2, 2.1 to psycopg)
            u = u.set(drivername="postgresql+psycopg")
        q = dict(u.query)
        read_timeout = _seconds(q.pop("read_timeout", IO_TIMEOUT), shown)
        u = u.set(query=q)
        # libpq has no read timeout: a peer gone silent (a black-holed network, a frozen
        # node) is found by TCP keepalives when nothing is in flight, and by tcp_user_timeout
        # when what was sent stays unacknowledged (the URL's own libpq settings win)
        kwargs["connect_args"] = {
            k: v
            for k, v in {
                "connect_timeout": connect_timeout,
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 10,
                "keepalives_count": 3,
                "tcp_user_timeout": IO_TIMEOUT * 1000,
            }.items()
            if k not in q
        }
    elif u.get_backend_name() == "sqlite":
        path = u.database
        if not path or path == ":memory:":
            raise DatabaseError(f"{shown}: an in-memory SQLite database has nothing to check")
        if not Path(path).is_file():
            raise DatabaseError(f"{shown}: no such SQLite database file")
        if readonly:
            u = u.set(database=f"file:{Path(path).resolve()}?mode=ro", query={"uri": "true"})
        kwargs["connect_args"] = {"timeout": connect_timeout}
    try:
        engine = create_engine(u, **kwargs)
    except ImportError as e:  # the URL's driver: mysqlclient, psycopg2 are extras
        raise DatabaseError(f"{shown}: {install_hint(e.name or '') or first_line(e)}") from None
    except (NoSuchModuleError, ArgumentError) as e:
        raise DatabaseError(f"{shown}: {first_line(e)}") from None
    if u.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _):  # pragma: no cover - trivial
            dbapi_conn.execute("PRAGMA busy_timeout = 10000")

    elif u.drivername == "postgresql+psycopg":

        @event.listens_for(engine, "do_connect")
        def _timed(dialect, conn_rec, cargs, cparams):
            conn = _timed_connection().connect(*cargs, **cparams)
            conn.read_timeout = read_timeout
            return conn

    return engine


def _seconds(value, shown: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0
    if not 0 < seconds < math.inf:
        raise DatabaseError(f"{shown}: read_timeout must be a number of seconds above 0")
    return seconds


@functools.cache
def _timed_connection():
    """psycopg's connection, each of whose waits on the server (a query, a FETCH of a
    streamed result, a commit) ends after its `read_timeout` seconds, as MySQL's socket
    reads do: a server process that stops answering while its host's kernel keeps the
    connection open (a frozen backend, a proxy that holds) answers TCP keepalives, and
    would hold the run for ever.  The connection is closed then (its state is unknown) and
    the statement fails with one line."""
    import psycopg
    from psycopg import errors

    class TimedConnection(psycopg.Connection):
        read_timeout: float = IO_TIMEOUT

        def wait(self, gen, *args, **kwargs):
            if len(args) < 2:  # (interval, timeout): psycopg passes them by name
                kwargs.setdefault("timeout", self.read_timeout)
            try:
                return super().wait(gen, *args, **kwargs)
            except errors._WaitTimeout:  # psycopg's own, raised when that timeout expires
                self.pgconn.finish()
                raise psycopg.OperationalError(
                    f"no answer from the server within {self.read_timeout:g} s (read_timeout)"
                ) from None

        def rollback(self):
            # closed by a timeout: the server ends the transaction with the connection, and
            # the error that closed it is the one to report, not this rollback's
            if not self.closed:
                super().rollback()

    return TimedConnection


def first_line(e: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's SQL echo and background links."""
    if isinstance(e, DBAPIError) and e.orig is not None:
        e = e.orig
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:300]


def describe(e: BaseException, url: str) -> str:
    return f"{redact_url(url)}: {first_line(e)}"


def stream(conn, stmt, batch: int = STREAM_BATCH):
    """Yield lists of plain row tuples, `batch` rows at a time, from a server-side cursor.

    SQLAlchemy Core builds and compiles `stmt`; the rows come straight from the driver.
    SQLAlchemy's Result layer (a Row object per row) cost more than the driver itself on
    a million rows (tools/bench.py), so it is skipped.  The conversions it would make are
    applied here, only for the columns where the driver does not make them itself
    (SQLite keeps DATETIME as text); MySQL and PostgreSQL rows pass through untouched.
    """
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})  # IN (...) lists
    params = compiled.params
    if dialect.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = _server_side_cursor(conn.connection.dbapi_connection, dialect.driver)
    try:
        cursor.execute(str(compiled), params)
        convert = _row_converter([c.type for c in stmt.selected_columns], dialect, cursor.description)
        while True:
            rows = cursor.fetchmany(batch)
            if not rows:
                return
            yield rows if convert is None else [convert(r) for r in rows]
    except dialect.loaded_dbapi.Error as e:  # the driver's own errors, unwrapped here
        raise DatabaseError(describe(e, conn.engine.url.render_as_string(hide_password=False))) from None
    finally:
        try:
            cursor.close()
        except dialect.loaded_dbapi.Error:
            # a server-side cursor whose connection broke mid-result cannot discard the
            # rest (MySQLdb raises 2013 again): the error is already on its way, or all
            # rows were read
            pass


def _server_side_cursor(dbapi_conn, driver: str):
    """A cursor that streams: the MySQL drivers and psycopg2 otherwise buffer the whole
    result set in memory before returning the first row."""
    if driver == "mysqldb":
        import MySQLdb.cursors

        return dbapi_conn.cursor(MySQLdb.cursors.SSCursor)
    if driver == "pymysql":
        import pymysql.cursors

        return dbapi_conn.cursor(pymysql.cursors.SSCursor)
    if driver in ("psycopg", "psycopg2"):
        return dbapi_conn.cursor(name="osfsck_stream")  # a named cursor is server-side
    return dbapi_conn.cursor()  # sqlite3 steps through the result as it is fetched


def _row_converter(types, dialect, description):
    """None when the driver's values are final, else a function fixing one row.  Each
    column's processor is chosen by its type in the result's `description`, as SQLAlchemy
    does (PostgreSQL's numeric ones need it: a Float reads float8 as it is, NUMERIC as
    Decimal)."""
    coltypes = [d[1] for d in description] if description else [None] * len(types)
    steps = [(i, t.dialect_impl(dialect).result_processor(dialect, coltypes[i])) for i, t in enumerate(types)]
    steps = [(i, proc) for i, proc in steps if proc is not None]
    if not steps:
        return None

    def convert(row):
        row = list(row)
        for i, proc in steps:
            row[i] = proc(row[i])
        return row

    return convert


__all__ = ["FLAG", "DatabaseError", "SQLAlchemyError", "make_engine", "stream", "describe", "first_line"]
