"""What Cinder and Neutron count for their quota usage, as SELECTs with GROUP BY.

Both the database sources (every project at once) and the quota repairs (one project,
inside their locking transaction) count with these statements, so a repair recounts
exactly what the check compared.  Each SELECT returns the fields of its fact in order
(osfsck.model.facts.quota.CinderCounted / NeutronCounted).

Cinder (cinder/db/api.py, `_volume_data_get_for_project`, `_snapshot_data_get_for_project`,
`_backup_data_get_for_project`, `_group_data_get_for_project`): COUNT(id) and SUM(size)
of the project's rows with deleted = false; volumes and snapshots also with use_quota
true (temporary volumes of migrations and backups are not counted); a per-type resource
filters on the volume's volume_type_id, a snapshot through its volume (the
`Snapshot.volume` join).  Sums are cast to integers: MySQL returns SUM as DECIMAL, and
PostgreSQL as NUMERIC.  Those Boolean columns are compared with false()/true(), never
with 0/1: on PostgreSQL they are real booleans (clients/db.FLAG).

Neutron (neutron/quota/resource.py, TrackedResource.count_used): COUNT of the tracked
model's rows with that project_id; no soft delete.
"""

from __future__ import annotations

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    case,
    cast,
    column,
    false,
    func,
    literal,
    null,
    or_,
    select,
    table,
    true,
    union_all,
)

from osfsck.clients.db import FLAG
from osfsck.model.facts.quota import NEUTRON_TRACKED

CINDER_SCOPE = "cinder"
NEUTRON_SCOPE = "neutron"

_volumes = table(
    "volumes",
    column("id", String),
    column("project_id", String),
    column("volume_type_id", String),
    column("size", Integer),
    column("use_quota", FLAG),
    column("deleted", FLAG),
    column("updated_at", DateTime),
    column("deleted_at", DateTime),
)
_snapshots = table(
    "snapshots",
    column("id", String),
    column("volume_id", String),
    column("project_id", String),
    column("volume_size", Integer),
    column("use_quota", FLAG),
    column("deleted", FLAG),
    column("updated_at", DateTime),
    column("deleted_at", DateTime),
)
_backups = table(
    "backups",
    column("id", String),
    column("project_id", String),
    column("size", Integer),
    column("deleted", FLAG),
    column("updated_at", DateTime),
    column("deleted_at", DateTime),
)
_groups = table(
    "groups",
    column("id", String),
    column("project_id", String),
    column("deleted", FLAG),
    column("updated_at", DateTime),
    column("deleted_at", DateTime),
)


def _sum_if(cond, value):
    return cast(func.coalesce(func.sum(case((cond, value), else_=0)), 0), Integer)


def _of(project, project_id: str | tuple[str, ...]):
    """The condition "the row is `project_id`'s" (or one of several projects': an OR of
    equalities, as db.stream renders plain bound parameters, not an expanding IN)."""
    if isinstance(project_id, str):
        return project == project_id
    return or_(*(project == p for p in project_id))


def _group(table_name: str, t, project, type_col, counted, size, project_id):
    stmt = select(
        literal(CINDER_SCOPE),
        literal(table_name),
        project,
        type_col,
        _sum_if(counted, 1),
        _sum_if(counted, func.coalesce(size, 0)) if size is not None else literal(0),
        func.max(t.c.updated_at),
        func.max(t.c.deleted_at),
    )
    if project_id is not None:
        stmt = stmt.where(_of(project, project_id))
    return stmt


def cinder_counted(project_id: str | tuple[str, ...] | None = None):
    """One row per (table, project, volume type): (scope, table, project_id,
    volume_type_id, count, gigabytes, last_updated, last_deleted); of one project, or of
    several (a run scoped with --project), or of all."""
    v, s, b, g = _volumes, _snapshots, _backups, _groups
    live_v = (v.c.deleted == false()) & (v.c.use_quota == true())
    vols = _group("volumes", v, v.c.project_id, v.c.volume_type_id, live_v, v.c.size, project_id).group_by(
        v.c.project_id, v.c.volume_type_id
    )
    # the type of a snapshot is its volume's (Cinder joins Snapshot.volume to filter by type)
    sv = _volumes.alias("snapshot_volume")
    live_s = (s.c.deleted == false()) & (s.c.use_quota == true())
    snaps = (
        _group("snapshots", s, s.c.project_id, sv.c.volume_type_id, live_s, s.c.volume_size, project_id)
        .select_from(s.outerjoin(sv, sv.c.id == s.c.volume_id))
        .group_by(s.c.project_id, sv.c.volume_type_id)
    )
    backups = _group(
        "backups", b, b.c.project_id, cast(null(), String), b.c.deleted == false(), b.c.size, project_id
    ).group_by(b.c.project_id)
    groups = _group(
        "groups", g, g.c.project_id, cast(null(), String), g.c.deleted == false(), None, project_id
    ).group_by(g.c.project_id)
    return union_all(vols, snaps, backups, groups)


def neutron_counted(project_id: str | tuple[str, ...] | None = None, resources=None):
    """One row per (tracked resource, project): (scope, resource, project_id, count); of
    one project, several, or all."""
    parts = []
    for resource, table_name in NEUTRON_TRACKED.items():
        if resources is not None and resource not in resources:
            continue
        t = table(table_name, column("project_id", String))
        stmt = select(literal(NEUTRON_SCOPE), literal(resource), t.c.project_id, cast(func.count(), Integer))
        if project_id is not None:
            stmt = stmt.where(_of(t.c.project_id, project_id))
        parts.append(stmt.group_by(t.c.project_id))
    return union_all(*parts)
