"""Remove a stale Cinder attachment the way Cinder's own attachment delete does."""

from __future__ import annotations

from typing import Any

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, RepairError
from osfsck.repairs.cinder.common import (
    CINDER,
    CinderUpdate,
    attached_mode_gone,
    holders,
    read_volume,
    statuses_after_detach,
)
from osfsck.repairs.conditional_update import now_stored, read_row

ATTACHMENT_COLUMNS = ("volume_id", "deleted", "deleted_at", "attach_status", "detach_time")


class DeleteVolumeAttachment(CinderUpdate):
    """What `cinder attachment-delete` leaves in the database (volume/api.py
    attachment_delete -> Volume.finish_detach -> db volume_detached and
    volume_admin_metadata_delete): the attachment soft-deleted (VolumeAttachment.
    delete_values: deleted, deleted_at, attach_status `detached`, detach_time; updated_at
    kept); the volume's status and attach_status re-derived from its other attachments
    (`statuses_after_detach`: available/detached when none is left), except that a volume
    being uploaded or migrated keeps its status, which that operation sets when it ends;
    the volume's updated_at kept, as volume_detached keeps it (`'updated_at':
    volume.updated_at`); and its `attached_mode` admin metadata soft-deleted.  Cinder's API
    cannot do it here: it would first ask cinder-volume to terminate a connection to an
    instance that is gone.
    """

    name = "delete-volume-attachment"
    safety = Safety.UNSAFE
    writes = (
        "Cinder database, one transaction: UPDATE volume_attachment SET deleted=1, deleted_at=now, "
        "attach_status='detached', detach_time=now WHERE id=? AND deleted=0 AND attach_status=<seen>; "
        "UPDATE volumes SET status=?, attach_status=? (from its other attachments) WHERE id=? AND status=<seen>; "
        "UPDATE volume_admin_metadata SET deleted=1, deleted_at=now WHERE volume_id=? AND key='attached_mode'"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        if finding.subject.kind != "volume-attachment":
            return f"{self.name} removes attachments; this {finding.subject.kind} has none"
        att, vol = finding.evidence["attachment"], finding.evidence.get("volume")
        if vol is None:
            return f"Cinder has no volume {att['volume_id']} for this attachment: a person must look"
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=(
                f"soft-delete Cinder attachment {att['id']} of volume {att['volume_id']} (instance "
                f"{att['instance_uuid']}) and set the volume's status from its other attachments, as Cinder "
                "does"
            ),
            params={
                "attachment_id": att["id"],
                "volume_id": att["volume_id"],
                "attach_status": att["attach_status"],
                "volume_status": vol["status"],
            },
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        aid, vid = p["attachment_id"], p["volume_id"]
        now = now_stored()
        with ctx.database(CINDER).connect() as conn:
            att = read_row(conn, "volume_attachment", {"id": aid}, ATTACHMENT_COLUMNS)
            if att is None or att["deleted"] or att["attach_status"] != p["attach_status"] or att["volume_id"] != vid:
                raise RepairError(
                    f"attachment {aid} is no longer the live {p['attach_status']} attachment of "
                    f"{vid} that was seen; nothing changed"
                )
            vol = read_volume(conn, vid)
            if vol["deleted"] or vol["status"] != p["volume_status"]:
                raise RepairError(f"volume {vid} is now {vol['status']}, not {p['volume_status']}; nothing changed")
            others = holders(conn, vid, excluding=aid)
            status, attach_status = statuses_after_detach(conn, vid, aid)
            metadata = attached_mode_gone(conn, vid, now)
        rows = [
            {
                "table": "volume_attachment",
                "key": {"id": aid},
                "expect": {k: att[k] for k in ("deleted", "deleted_at", "attach_status", "detach_time")},
                "values": {"deleted": 1, "deleted_at": now, "attach_status": "detached", "detach_time": now},
            }
        ]
        values = {"attach_status": attach_status}
        if (
            attach_status != "detached"
            or (not vol["migration_status"] and vol["status"] != "uploading")
            or vol["migration_status"] in ("success", "error")
        ):
            values["status"] = status
        values = {k: v for k, v in values.items() if vol[k] != v}
        if values:
            rows.append(
                {
                    "table": "volumes",
                    "key": {"id": vid},
                    "expect": {
                        "deleted": vol["deleted"],
                        "migration_status": vol["migration_status"],
                        **{k: vol[k] for k in values},
                    },
                    "values": values,
                }
            )
        return {"db": CINDER, "volume_id": vid, "excluding": aid, "holders": others, "rows": rows + metadata}
