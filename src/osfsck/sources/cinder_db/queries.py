"""One SELECT per Cinder fact kind, the fact's fields in order (see nova_db/queries.py).
Only the columns needed; Cinder's Boolean columns are read as 0/1 (clients/db.FLAG: a
real boolean on PostgreSQL) and compared with false(), never with 0."""

from __future__ import annotations

from sqlalchemy import DateTime, Integer, String, column, false, func, literal, or_, select, table

from osfsck.clients.db import FLAG
from osfsck.clients.quota_counts import cinder_counted
from osfsck.model.cell_slice import CellKeys, short_host
from osfsck.model.facts.cinder import CINDER_SCOPE, CinderAttachment, CinderService, CinderVolume, CinderVolumeType
from osfsck.model.facts.quota import CinderCounted, CinderQuotaUsage, CinderReservation
from osfsck.sources.db_read import BATCH, batched

volumes = table(
    "volumes",
    column("id", String),
    column("status", String),
    column("attach_status", String),
    column("migration_status", String),
    column("host", String),
    column("project_id", String),
    column("size", Integer),
    column("multiattach", FLAG),
    column("use_quota", FLAG),
    column("deleted", FLAG),
    column("updated_at", DateTime),
)
volume_attachment = table(
    "volume_attachment",
    column("id", String),
    column("volume_id", String),
    column("instance_uuid", String),
    column("attached_host", String),
    column("attach_status", String),
    column("connection_info", String),
    column("deleted", FLAG),
    column("updated_at", DateTime),
)
services = table(
    "services",
    column("host", String),
    column("binary", String),
    column("disabled", FLAG),
    column("deleted", FLAG),
    column("updated_at", DateTime),
)

volume_types = table("volume_types", column("id", String), column("name", String), column("deleted", FLAG))
quota_usages = table(
    "quota_usages",
    column("id", Integer),
    column("project_id", String),
    column("resource", String),
    column("in_use", Integer),
    column("reserved", Integer),
    column("deleted", FLAG),
    column("updated_at", DateTime),
    column("created_at", DateTime),
)
reservations = table(
    "reservations",
    column("id", Integer),
    column("uuid", String),
    column("usage_id", Integer),
    column("project_id", String),
    column("resource", String),
    column("delta", Integer),
    column("expire", DateTime),
    column("deleted", FLAG),
    column("created_at", DateTime),
)


def cinder_volumes():
    v = volumes
    return select(
        literal(CINDER_SCOPE),
        v.c.id,
        v.c.status,
        v.c.attach_status,
        v.c.migration_status,
        v.c.host,
        v.c.project_id,
        v.c.size,
        v.c.multiattach,
        v.c.use_quota,
        v.c.deleted,
        v.c.updated_at,
    )


def cinder_attachments():
    a = volume_attachment
    return select(
        literal(CINDER_SCOPE),
        a.c.id,
        a.c.volume_id,
        a.c.instance_uuid,
        a.c.attached_host,
        a.c.attach_status,
        a.c.connection_info,
        a.c.deleted,
        a.c.updated_at,
    )


def cinder_services():
    s = services
    return select(literal(CINDER_SCOPE), s.c.host, s.c.binary, s.c.disabled, s.c.updated_at).where(
        s.c.deleted == false()
    )


def cinder_volume_types():
    t = volume_types
    return select(literal(CINDER_SCOPE), t.c.id, t.c.name).where(t.c.deleted == false())


def cinder_quota_usages():
    u = quota_usages
    return select(
        literal(CINDER_SCOPE),
        u.c.id,
        u.c.project_id,
        u.c.resource,
        u.c.in_use,
        u.c.reserved,
        u.c.updated_at,
        u.c.created_at,
    ).where(u.c.deleted == false())


def cinder_reservations():
    r = reservations
    return select(
        literal(CINDER_SCOPE),
        r.c.id,
        r.c.uuid,
        r.c.usage_id,
        r.c.project_id,
        r.c.resource,
        r.c.delta,
        r.c.expire,
        r.c.created_at,
    ).where(r.c.deleted == false())


KINDS = {
    CinderVolume: cinder_volumes,
    CinderAttachment: cinder_attachments,
    CinderService: cinder_services,
    CinderVolumeType: cinder_volume_types,
    CinderQuotaUsage: cinder_quota_usages,
    CinderReservation: cinder_reservations,
    CinderCounted: cinder_counted,
}


def cells_part(keys: CellKeys, kinds) -> dict:
    """The SELECTs of volumes and attachments for a run of `keys.cells`
    (model/cell_slice.py): the volumes their block device mappings, their hosts' disks
    and the IQNs of the sessions no mapping names hold the id of; those attached to their
    instances, or named by an attachment of their mappings, or with an attachment whose
    connector is a host whose sessions were read, or naming one of those IQNs; then every
    attachment of those volumes.  Nothing unless both kinds are read."""
    if CinderVolume not in kinds or CinderAttachment not in kinds:
        return {}
    v, a = volumes, volume_attachment

    def by_attachments(conditions) -> list:
        return [cinder_volumes().where(v.c.id.in_(select(a.c.volume_id).where(c))) for c in conditions]

    # the connector as a host's short name or an FQDN of it (two parameters a host)
    hosts = batched({short_host(h) for h in keys.session_hosts}, BATCH // 2)
    first = [cinder_volumes().where(v.c.id.in_(ids)) for ids in batched(keys.named_volumes)]
    first += by_attachments(a.c.instance_uuid.in_(b) for b in batched(keys.instances))
    first += by_attachments(a.c.id.in_(b) for b in batched(keys.attachments))
    first += by_attachments(
        or_(func.lower(a.c.attached_host).in_(b), *(a.c.attached_host.istartswith(h + ".", autoescape=True) for h in b))
        for b in hosts
    )
    # a scan per batch, of the few targets no mapping names (the host's own, a leak)
    first += by_attachments(
        or_(*(a.c.connection_info.icontains(t, autoescape=True) for t in b)) for b in batched(keys.targets)
    )
    return {
        CinderVolume: first,
        CinderAttachment: lambda got: [
            cinder_attachments().where(a.c.volume_id.in_(ids)) for ids in batched({x.id for x in got[CinderVolume]})
        ],
    }
