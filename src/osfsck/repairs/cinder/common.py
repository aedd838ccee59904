"""What the Cinder repairs share: reading a volume as stored, and the attachments that hold it.

Each repair's updates are conditional on the rows they change (conditional_update); the
attachments that hold the volume are a guard beyond those rows: they decide the status a
volume may take, so they are read into the before-image and read again, in the apply
transaction, before anything is written.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import column, or_, select, table

from osfsck.model.facts.cinder import ATTACHMENT_GONE
from osfsck.repairs.base import RepairError
from osfsck.repairs.conditional_update import ConditionalUpdate, read_row

CINDER = "cinder"
VOLUME_COLUMNS = ("status", "attach_status", "migration_status", "deleted", "updated_at")

_attachments = table("volume_attachment", column("id"), column("volume_id"), column("attach_status"),
                     column("deleted"))


def holders(conn, volume_id: str, excluding: str | None = None) -> list[str]:
    """Ids of the live attachments that hold the volume, sorted (`excluding` left out)."""
    a = _attachments
    stmt = select(a.c.id).where(a.c.volume_id == volume_id, or_(a.c.deleted.is_(None), a.c.deleted == 0),
                                or_(a.c.attach_status.is_(None), a.c.attach_status.notin_(sorted(ATTACHMENT_GONE))))
    if excluding is not None:
        stmt = stmt.where(a.c.id != excluding)
    return sorted(r[0] for r in conn.execute(stmt))


def read_volume(conn, volume_id: str) -> dict:
    row = read_row(conn, "volumes", {"id": volume_id}, VOLUME_COLUMNS)
    if row is None:
        raise RepairError(f"Cinder has no volume {volume_id} any more; nothing changed")
    return row


def same_time(stored_value, iso: str | None) -> bool:
    """A DATETIME as read back (text on SQLite, see conditional_update.stored) against the
    ISO text of the same instant in a finding's evidence."""
    if stored_value is None or iso is None:
        return stored_value is None and iso is None
    return dt.datetime.fromisoformat(str(stored_value)) == dt.datetime.fromisoformat(iso)


def unchanged(volume_id: str, row: dict, seen: dict) -> None:
    """Refuse unless the volume row is still what the finding saw (status, update time)."""
    if row["deleted"] or row["status"] != seen["status"] or not same_time(row["updated_at"], seen.get("updated_at")):
        raise RepairError(f"volume {volume_id} changed since the check saw it ({seen['status']}, updated "
                          f"{seen.get('updated_at')}; now {'deleted' if row['deleted'] else row['status']}, updated "
                          f"{row['updated_at']}); nothing changed")


class CinderUpdate(ConditionalUpdate):
    """A conditional update of Cinder rows whose before-image also names the attachments
    holding `volume_id` (apart from `excluding`): apply refuses if they changed."""

    def guard(self, conn, before: dict) -> None:
        now = holders(conn, before["volume_id"], before.get("excluding"))
        if now != before["holders"]:
            raise RepairError(f"the attachments of volume {before['volume_id']} changed since they were read "
                              f"({', '.join(before['holders']) or 'none'} -> {', '.join(now) or 'none'}); "
                              "nothing changed")
