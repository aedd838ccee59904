"""One SELECT per Cinder fact kind, the fact's fields in order (see nova_db/queries.py).
Only the columns needed; Cinder's Boolean columns are read as stored (0/1)."""

from __future__ import annotations

from sqlalchemy import DateTime, Integer, String, column, literal, select, table

from osfsck.model.facts.cinder import CINDER_SCOPE, CinderAttachment, CinderService, CinderVolume

volumes = table(
    "volumes", column("id", String), column("status", String), column("attach_status", String),
    column("migration_status", String), column("host", String), column("project_id", String),
    column("size", Integer), column("multiattach", Integer), column("use_quota", Integer),
    column("deleted", Integer), column("updated_at", DateTime),
)
volume_attachment = table(
    "volume_attachment", column("id", String), column("volume_id", String), column("instance_uuid", String),
    column("attached_host", String), column("attach_status", String), column("connection_info", String),
    column("deleted", Integer), column("updated_at", DateTime),
)
services = table(
    "services", column("host", String), column("binary", String), column("disabled", Integer),
    column("deleted", Integer), column("updated_at", DateTime),
)


def cinder_volumes():
    v = volumes
    return select(literal(CINDER_SCOPE), v.c.id, v.c.status, v.c.attach_status, v.c.migration_status,
                  v.c.host, v.c.project_id, v.c.size, v.c.multiattach, v.c.use_quota, v.c.deleted,
                  v.c.updated_at)


def cinder_attachments():
    a = volume_attachment
    return select(literal(CINDER_SCOPE), a.c.id, a.c.volume_id, a.c.instance_uuid, a.c.attached_host,
                  a.c.attach_status, a.c.connection_info, a.c.deleted, a.c.updated_at)


def cinder_services():
    s = services
    return select(literal(CINDER_SCOPE), s.c.host, s.c.binary, s.c.disabled, s.c.updated_at).where(s.c.deleted == 0)


KINDS = {CinderVolume: cinder_volumes, CinderAttachment: cinder_attachments, CinderService: cinder_services}
