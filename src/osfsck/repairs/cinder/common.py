"""What the Cinder repairs share: reading a volume as stored, the attachments that hold it,
and the rows Cinder changes beside the volume when it detaches or resets one.

Each repair's updates are conditional on the rows they change (conditional_update); the
attachments that hold the volume are a guard beyond those rows: they decide the status a
volume may take, so they are read into the before-image (each with its attach_status)
and read again, in the apply transaction, before anything is written.
"""

from __future__ import annotations

from sqlalchemy import column, false, not_, or_, select, table

from osfsck.clients.db import FLAG
from osfsck.model.facts.cinder import ATTACHMENT_GONE
from osfsck.repairs.base import RepairError
from osfsck.repairs.conditional_update import ConditionalUpdate, read_row, read_rows, same

CINDER = "cinder"
VOLUME_COLUMNS = ("status", "attach_status", "migration_status", "deleted", "updated_at")
# cinder/db/api.py ATTACH_STATUS_MAP: the volume status that goes with an attach_status
ATTACH_STATUS_MAP = {"attached": "in-use", "detached": "available"}

# `deleted` is a Boolean (clients/db.FLAG: read as 0/1 on PostgreSQL too, compared with false())
_attachments = table(
    "volume_attachment", column("id"), column("volume_id"), column("attach_status"), column("deleted", FLAG)
)
_admin_metadata = table(
    "volume_admin_metadata",
    column("id"),
    column("volume_id"),
    column("key"),
    column("deleted", FLAG),
    column("deleted_at"),
)


def holders(conn, volume_id: str, excluding: str | None = None) -> list[list[str]]:
    """[id, attach_status] of the live attachments that hold the volume, sorted
    (`excluding` left out)."""
    a = _attachments
    stmt = select(a.c.id, a.c.attach_status).where(
        a.c.volume_id == volume_id,
        or_(a.c.deleted.is_(None), a.c.deleted == false()),
        or_(a.c.attach_status.is_(None), a.c.attach_status.notin_(sorted(ATTACHMENT_GONE))),
    )
    if excluding is not None:
        stmt = stmt.where(a.c.id != excluding)
    return sorted([r[0], r[1]] for r in conn.execute(stmt))


def statuses_after_detach(conn, volume_id: str, excluding: str) -> tuple[str, str]:
    """(status, attach_status) of the volume once attachment `excluding` is gone, as
    cinder.db.api._get_statuses_from_attachments decides them: the first attach_status,
    alphabetically, of its other live attachments that are not error_* ("attached" before
    "attaching", "detaching", "reserved"), "detached" when there is none; the status
    ATTACH_STATUS_MAP gives it, else the same word."""
    a = _attachments
    first = conn.execute(
        select(a.c.attach_status)
        .where(
            a.c.volume_id == volume_id,
            a.c.deleted == false(),
            a.c.id != excluding,
            not_(a.c.attach_status.startswith("error_")),
        )
        .order_by(a.c.attach_status.asc())
        .limit(1)
    ).scalar()
    attach_status = first or "detached"
    return ATTACH_STATUS_MAP.get(attach_status, attach_status), attach_status


def attached_mode_gone(conn, volume_id: str, now: str) -> list[dict]:
    """The update Volume.finish_detach and os-reset_status make with
    volume_admin_metadata_delete(..., 'attached_mode'): the volume's live `attached_mode`
    admin metadata row soft-deleted (deleted, deleted_at; updated_at kept)."""
    m = _admin_metadata
    found = conn.execute(
        select(m.c.id, m.c.deleted, m.c.deleted_at).where(
            m.c.volume_id == volume_id, m.c["key"] == "attached_mode", m.c.deleted == false()
        )
    ).all()
    return [
        {
            "table": "volume_admin_metadata",
            "key": {"id": id_},
            "expect": {"deleted": deleted, "deleted_at": deleted_at},
            "values": {"deleted": 1, "deleted_at": now},
        }
        for id_, deleted, deleted_at in found
    ]


def cleanup_worker(conn, volume_id: str) -> list[dict]:
    """The row os-reset_status deletes for real with worker_destroy(resource_type='VOLUME',
    resource_id=id) ("the cleanup worker ... renders useless"): a cinder-volume that
    restarts would otherwise clean the volume up again from its old status."""
    return [
        {"table": "workers", "key": {"id": r["id"]}, "row": r}
        for r in read_rows(conn, "workers", {"resource_type": "VOLUME", "resource_id": volume_id})
        if not r["deleted"]
    ]


def read_volume(conn, volume_id: str) -> dict:
    row = read_row(conn, "volumes", {"id": volume_id}, VOLUME_COLUMNS)
    if row is None:
        raise RepairError(f"Cinder has no volume {volume_id} any more; nothing changed")
    return row


def unchanged(volume_id: str, row: dict, seen: dict) -> None:
    """Refuse unless the volume row is still what the finding saw (status, update time)."""
    if row["deleted"] or row["status"] != seen["status"] or not same(row["updated_at"], seen.get("updated_at")):
        raise RepairError(
            f"volume {volume_id} changed since the check saw it ({seen['status']}, updated "
            f"{seen.get('updated_at')}; now {'deleted' if row['deleted'] else row['status']}, updated "
            f"{row['updated_at']}); nothing changed"
        )


class CinderUpdate(ConditionalUpdate):
    """A conditional update of Cinder rows whose before-image also names the attachments
    holding `volume_id` (apart from `excluding`): apply refuses if they changed."""

    def guard(self, conn, before: dict) -> None:
        now = holders(conn, before["volume_id"], before.get("excluding"))
        if now != before["holders"]:
            raise RepairError(
                f"the attachments of volume {before['volume_id']} changed since they were read "
                f"({_listed(before['holders'])} -> {_listed(now)}); nothing changed"
            )


def _listed(attachments: list) -> str:
    return ", ".join(f"{id_} {status}" for id_, status in attachments) or "none"
