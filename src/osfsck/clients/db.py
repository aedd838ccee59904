"""Database engines for every backend Nova supports, with streaming reads."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from osfsck.model.secrets import redact_url

STREAM_BATCH = 10_000


class DatabaseError(Exception):
    """One line, with the URL's password hidden."""


def _mysql_driver() -> str:
    # mysqlclient (C) reads result sets 5-10x faster than PyMySQL (research/scale.md A.5)
    return "mysqldb" if importlib.util.find_spec("MySQLdb") else "pymysql"


def make_engine(url: str, *, readonly: bool = True, connect_timeout: int = 10) -> Engine:
    """An engine for `url`.  `mysql://` picks the C driver when installed.  A SQLite file
    must exist (SQLite would silently create an empty one) and is opened read-only
    unless `readonly` is False."""
    shown = redact_url(url)
    try:
        u = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"not a database URL: {shown}") from None
    kwargs: dict = {"poolclass": NullPool}
    if u.get_backend_name() == "mysql":
        if u.drivername == "mysql":
            u = u.set(drivername=f"mysql+{_mysql_driver()}")
        q = dict(u.query)
        q.setdefault("charset", "utf8mb4")
        u = u.set(query=q)
        kwargs["connect_args"] = {"connect_timeout": connect_timeout}
    elif u.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": connect_timeout}
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
    except (NoSuchModuleError, ImportError, ArgumentError) as e:
        raise DatabaseError(f"{shown}: {first_line(e)}") from None
    if u.get_backend_name() == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _):  # pragma: no cover - trivial
            dbapi_conn.execute("PRAGMA busy_timeout = 10000")
    return engine


def first_line(e: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's SQL echo and background links."""
    if isinstance(e, DBAPIError) and e.orig is not None:
        e = e.orig
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:300]


def describe(e: BaseException, url: str) -> str:
    return f"{redact_url(url)}: {first_line(e)}"


def stream(conn, stmt, batch: int = STREAM_BATCH):
    """Yield lists of rows with a server-side cursor, `batch` rows at a time."""
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)
    yield from result.partitions()


__all__ = ["DatabaseError", "SQLAlchemyError", "make_engine", "stream", "describe", "first_line"]
