"""Read one database's kinds into a snapshot, all or nothing: the unit every database
source shares (a Nova cell, Cinder, ...)."""

from __future__ import annotations

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
from osfsck.sources.stored_rows import as_fact


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


def read_database(
    url: str, statements: dict, sink: Snapshot, scope: str, source: str, label: str, database: str
) -> SourceStatus:
    """Stream `statements` ({fact type: SELECT}) from `url` into `sink` and cover `scope`,
    after its schema version (`database`: its kind, model/schema_versions.DATABASES): a
    schema osfsck does not know is not read, and `scope` is partial with one line.
    Facts go to scratch lists first: a database that fails half-way adds nothing and is
    partial, with one line naming `label` and the driver's reason."""
    kinds = list(statements)
    got: list[tuple] = []
    schema = None
    try:
        engine = make_engine(url)
        at = utcnow()
        with engine.connect() as conn:
            schema = known_schema(conn, database, scope, sink)
            for kind, stmt in statements.items():
                facts: list = []
                for rows in stream(conn, stmt):
                    facts.extend(map(as_fact(kind), rows))
                got.append((kind, without_secrets(kind, facts)))
        engine.dispose()
    except UnknownSchema as e:
        return cover_all(sink, kinds, scope, source, False, f"{label}: {e.args[0]}")
    except (DatabaseError, SQLAlchemyError) as e:
        reason = e.args[0] if isinstance(e, DatabaseError) else describe(e, url)
        return cover_all(sink, kinds, scope, source, False, f"{label}: {reason}{schema_said(schema)}")
    for kind, facts in got:
        sink.add(kind.kind, facts)
    return cover_all(sink, kinds, scope, source, True, at=at)
