"""Which schema a service's database has: its version table, read before its facts.

`alembic_version` decides when it exists and has rows, else `migrate_version` (the
sqlalchemy-migrate table of releases before alembic, which Designate keeps beside
alembic's for ever), else nothing is known (model/schema_versions.py judges what was
read).  Which of the two tables exist is asked of the database's catalogue first (one
query), never found out by a SELECT that fails: on PostgreSQL a failed statement aborts
the transaction, and every later SELECT of the source on that connection would fail.
"""

from __future__ import annotations

from sqlalchemy import column, inspect, select, table

from osfsck.model.schema_versions import ALEMBIC_TABLE, MIGRATE_TABLE, Placed, SchemaRead, place
from osfsck.model.snapshot import Snapshot

# a value of a version table kept in the snapshot: a hostile or damaged database's may be
# anything, of any length (osfsck's revisions are 9 to 12 characters)
LONGEST = 200
# what `osfsck permissions` adds to each database's grants: the version table it has
# (MySQL grants SELECT only on a table that exists, and lists only the tables granted)
VERSION_TABLES = f"{ALEMBIC_TABLE} (or {MIGRATE_TABLE} where it has no {ALEMBIC_TABLE}: the schema version)"


class UnknownSchema(Exception):
    """A database whose schema osfsck does not know: nothing is read from it, and its
    scope is partial with this one line after the database's label (so every check
    relying on it is inconclusive)."""


def read_schema(conn, database: str, scope: str) -> SchemaRead:
    """What `conn`'s version tables say, as read (see the module's docstring)."""
    names = set(inspect(conn).get_table_names())
    if ALEMBIC_TABLE in names:
        rows = conn.execute(select(column("version_num")).select_from(table(ALEMBIC_TABLE))).all()
        if rows or MIGRATE_TABLE not in names:
            return SchemaRead(scope, database, ALEMBIC_TABLE, tuple(sorted(_text(v) for (v,) in rows)))
    if MIGRATE_TABLE in names:
        rows = conn.execute(select(column("repository_id"), column("version")).select_from(table(MIGRATE_TABLE))).all()
        return SchemaRead(scope, database, MIGRATE_TABLE, tuple(sorted(f"{_text(r)}:{_text(v)}" for r, v in rows)))
    return SchemaRead(scope, database, "")


def known_schema(conn, database: str, scope: str, sink: Snapshot) -> Placed:
    """Read the schema of `conn` (kind `database`, coverage scope `scope`) into `sink`
    and judge it; UnknownSchema when osfsck does not know it."""
    read = read_schema(conn, database, scope)
    sink.schemas[scope] = read
    placed = place(read)
    if not placed.known:
        raise UnknownSchema(f"{placed.problem}, so it is not read")
    return placed


def schema_said(schema: Placed | None) -> str:
    """What a failed read's line adds about a schema osfsck knows: a SELECT that fails on
    an old release's schema names it (" (its schema: Queens)")."""
    return f" (its schema: {schema.text})" if schema is not None else ""


def _text(value: object) -> str:
    """A version table's value as text: bytes that are not UTF-8 in hex, cut to LONGEST."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = "0x" + raw.hex()
    text = "NULL" if value is None else str(value)
    return text if len(text) <= LONGEST else text[: LONGEST - 3] + "..."
