"""The one SELECT of the Designate source: every A/AAAA/PTR record of a live zone, with
its recordset's name, type and TTL and its zone's name (designate/storage/sqlalchemy/
tables.py).  Ids are CHAR(32) hex there; sources/stored_rows.py dashes them."""

from __future__ import annotations

from sqlalchemy import DateTime, Integer, String, cast, column, literal, or_, select, table

from osfsck.model.facts.dns import DESIGNATE_SCOPE, DesignateRecord

zones = table("zones", column("id", String), column("name", String), column("deleted", String))
recordsets = table(
    "recordsets", column("id", String), column("name", String), column("type", String), column("ttl", Integer)
)
records = table(
    "records",
    column("id", String),
    column("recordset_id", String),
    column("zone_id", String),
    column("data", String),
    column("managed_resource_type", String),
    column("managed_resource_id", String),
    column("managed_plugin_name", String),
    column("managed_extra", String),
    column("status", String),
    column("action", String),
    column("created_at", DateTime),
    column("updated_at", DateTime),
)


def designate_records():
    r, rs, z = records, recordsets, zones
    return (
        select(
            literal(DESIGNATE_SCOPE),
            r.c.id,
            r.c.recordset_id,
            r.c.zone_id,
            z.c.name,
            rs.c.name,
            rs.c.type,
            rs.c.ttl,
            r.c.data,
            r.c.managed_resource_type,
            r.c.managed_resource_id,
            r.c.managed_plugin_name,
            r.c.managed_extra,
            r.c.status,
            r.c.action,
            r.c.created_at,
            r.c.updated_at,
        )
        .select_from(r.join(rs, r.c.recordset_id == rs.c.id).join(z, r.c.zone_id == z.c.id))
        # a live zone's `deleted` is the string '0'; a deleted one's is its id.  The type is
        # compared as text: on PostgreSQL it is an ENUM, which no VARCHAR parameter equals
        .where(z.c.deleted == "0", or_(*(cast(rs.c.type, String) == t for t in ("A", "AAAA", "PTR"))))
    )


KINDS = {DesignateRecord: designate_records}
