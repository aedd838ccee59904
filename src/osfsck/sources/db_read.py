"""Read one database's kinds into a snapshot, all or nothing: the unit every database
source shares (a Nova cell, Cinder, ...)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from sqlalchemy import Select, or_

from osfsck.clients.db import DatabaseError, SQLAlchemyError, describe, make_engine, stream
from osfsck.model.facts.base import FactType, kind_of
from osfsck.model.facts.quota import PER_PROJECT_KINDS
from osfsck.model.result import SourceStatus
from osfsck.model.scope import RunScope
from osfsck.model.secrets import redact_connection_info
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import cover_all, utcnow
from osfsck.sources.schema_version import UnknownSchema, known_schema, schema_said
from osfsck.sources.stored_rows import facts_of


def without_secrets(kind, facts: list) -> list:
    """Facts with the credentials in their connection_info redacted: Nova and Cinder store
    CHAP passwords there, and nothing osfsck keeps (snapshots, journals) may hold one."""
    if "connection_info" not in kind._fields:
        return facts
    i = kind._fields.index("connection_info")
    out = []
    for f in facts:
        clean = redact_connection_info(f[i])
        out.append(f if clean is f[i] else f._replace(connection_info=clean))
    return out


def narrowed(kind: FactType, statement: Any, within: RunScope | None) -> Any:
    """`statement` for `kind`, of the run's projects only where the kind is read per
    project (its checks judge each project on its own rows, so each stays complete); the
    counted kinds' unions take the projects themselves (`factory(projects)`)."""
    if within is None or not within.projects or kind not in PER_PROJECT_KINDS:
        return statement
    if isinstance(statement, Select):
        column = statement.selected_columns.project_id  # an OR of equalities: see quota_counts._of
        return statement.where(or_(*(column == p for p in within.projects)))
    raise ValueError(f"{kind_of(kind)}: a per-project kind whose SELECT cannot be narrowed")


# uuids per IN (...) of a part's SELECT: under every driver's limit on parameters (SQLite
# before 3.32 allows 999 in one statement)
BATCH = 500
# what a kind's read is: one SELECT; several (their rows joined, each fact once); or a
# function of what was read before it ({fact type: facts}) giving the SELECTs (a part of
# a shared database read in steps: the ports of the cells' instances, then their bindings)
Statements = Any


def batched(values: Iterable[str], size: int = BATCH) -> Iterator[list[str]]:
    """`values`, sorted, in lists of at most `size` (the IN lists of a part's SELECTs)."""
    items = sorted(values)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def read_database(
    url: str,
    statements: dict[FactType, Statements],
    sink: Snapshot,
    scope: str,
    source: str,
    label: str,
    database: str | None,
    parts: dict[FactType, str] | None = None,
    reason: str = "",
    shared: dict[str, dict] | None = None,
) -> SourceStatus:
    """Stream `statements` ({fact type: SELECT(s)}, see Statements) from `url` into `sink`
    and cover `scope` (`parts`: the kinds of which only a part was read, Coverage.part,
    said by `reason` on the status line), after its schema version (`database`: its kind,
    model/schema_versions.DATABASES): a schema osfsck does not know is not read, and
    `scope` is partial with one line (None: read already on this run's first connection to it).
    Facts go to scratch lists first: a database that fails half-way adds nothing and is
    partial, with one line naming `label` and the driver's reason.  `shared`: tables of
    values shared with other reads (stored_rows.facts_of), by name; the others are this read's."""
    kinds = list(statements)
    got: dict[FactType, list] = {}
    schema = None
    try:
        engine = make_engine(url)
        at = utcnow()
        with engine.connect() as conn:
            schema = known_schema(conn, database, scope, sink) if database else None
            tables = dict(shared or {})  # repeated values, one object each (stored_rows.facts_of)
            for kind, stmt in statements.items():
                stmts = stmt(got) if callable(stmt) else stmt
                several = isinstance(stmts, list)
                facts: list = []
                make = facts_of(kind, tables)
                for one in stmts if several else [stmts]:
                    for rows in stream(conn, one):
                        facts.extend(make(rows))
                got[kind] = without_secrets(kind, list(dict.fromkeys(facts)) if several else facts)
        engine.dispose()
    except UnknownSchema as e:
        return _cover(sink, kinds, parts or {}, scope, source, False, f"{label}: {e.args[0]}", None)
    except (DatabaseError, SQLAlchemyError) as e:
        why = e.args[0] if isinstance(e, DatabaseError) else describe(e, url)
        return _cover(sink, kinds, parts or {}, scope, source, False, f"{label}: {why}{schema_said(schema)}", None)
    for kind, facts in got.items():
        sink.add(kind.kind, facts)
    status = _cover(sink, kinds, parts or {}, scope, source, True, "", at)
    return replace(status, reason=reason) if reason else status


def _cover(sink, kinds, parts, scope, source, ok, reason, at) -> SourceStatus:
    status = cover_all(sink, [k for k in kinds if k not in parts], scope, source, ok, reason, at)
    for kind in kinds:
        if kind in parts:
            cover_all(sink, [kind], scope, source, ok, reason, at, part=parts[kind])
    return status
