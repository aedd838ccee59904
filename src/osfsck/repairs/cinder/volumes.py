"""Reset a volume's status to what the other places show, as `cinder reset-state` does."""

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
    cleanup_worker,
    holders,
    read_volume,
    unchanged,
)
from osfsck.repairs.conditional_update import now_stored

# the attach_status that goes with a status; "error" leaves it as it is
ATTACH_STATUS = {"in-use": "attached", "available": "detached"}


class _VolumeReset(CinderUpdate):
    """What os-reset_status writes (api/contrib/admin_actions.py _reset_status): the volume
    row by db volume_update (status, attach_status; updated_at now, the ORM's onupdate), the
    volume's cleanup worker row deleted (worker_destroy), and when the volume becomes
    detached its `attached_mode` admin metadata soft-deleted (_clean_volume_attachment;
    the attachments it would detach there are none: a reset that contradicts the live
    attachments is refused).  Conditional on the status and updated_at the check saw."""

    def target(self, finding: Finding) -> str:
        """The status to set, or raise ValueError with the reason there is none."""
        raise NotImplementedError

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        if finding.subject.kind != "volume":
            return f"{self.name} resets volumes, not a {finding.subject.kind}"
        try:
            status = self.target(finding)
        except ValueError as e:
            return str(e)
        vol = finding.evidence["volume"]
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"set volume {vol['id']} {status} (was {vol['status']}) in Cinder",
            params={"volume_id": vol["id"], "status": status, "seen": vol},
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        vid, status = p["volume_id"], p["status"]
        now = now_stored()
        with ctx.database(CINDER).connect() as conn:
            vol = read_volume(conn, vid)
            held = holders(conn, vid)
            workers = cleanup_worker(conn, vid)
            metadata = attached_mode_gone(conn, vid, now) if ATTACH_STATUS.get(status) == "detached" else []
        unchanged(vid, vol, p["seen"])
        # what os-reset_status itself refuses (in-use without attachments), and the reverse
        if (status == "in-use") != bool(held) and status in ATTACH_STATUS:
            raise RepairError(
                f"volume {vid} is held by {len(held)} live attachment(s): it cannot be {status}; nothing changed"
            )
        values = {"status": status, "updated_at": now}
        if status in ATTACH_STATUS:
            values["attach_status"] = ATTACH_STATUS[status]
        return {
            "db": CINDER,
            "volume_id": vid,
            "holders": held,
            "deletes": workers,
            "rows": [
                {
                    "table": "volumes",
                    "key": {"id": vid},
                    "expect": {"deleted": vol["deleted"], **{k: vol[k] for k in values}},
                    "values": values,
                },
                *metadata,
            ],
        }


class ResetVolumeStatus(_VolumeReset):
    """An `in-use` volume that no attachment holds and no live instance maps becomes
    `available`/`detached`: `cinder reset-state --state available --attach-status detached`."""

    name = "reset-volume-status"
    safety = Safety.UNSAFE
    writes = (
        "Cinder database, one transaction: UPDATE volumes SET status='available', attach_status='detached', "
        "updated_at=now WHERE id=? AND status='in-use' AND updated_at=<seen> (only while no live attachment "
        "holds it); DELETE FROM workers WHERE resource_type='VOLUME' AND resource_id=? AND <as seen>; "
        "UPDATE volume_admin_metadata SET deleted=1, deleted_at=now WHERE volume_id=? AND key='attached_mode'"
    )

    def target(self, finding: Finding) -> str:
        if finding.evidence["volume"]["status"] != "in-use":
            raise ValueError(f"the volume is {finding.evidence['volume']['status']}, not in-use")
        return "available"


class ResetVolumeState(_VolumeReset):
    """A volume stuck in a transitional status takes the status the other places agree on
    (VL103's target_status): in-use or available after a lost attach or detach, error
    after a create that cinder-volume abandoned, as its init_host would set it."""

    name = "reset-volume-state"
    safety = Safety.UNSAFE
    writes = (
        "Cinder database, one transaction: UPDATE volumes SET status=<target>, attach_status=<attached|"
        "detached>, updated_at=now WHERE id=? AND status=<seen> AND updated_at=<seen>; DELETE FROM workers WHERE "
        "resource_type='VOLUME' AND resource_id=? AND <as seen>; when detached, UPDATE volume_admin_metadata "
        "SET deleted=1, deleted_at=now WHERE volume_id=? AND key='attached_mode'"
    )

    def target(self, finding: Finding) -> str:
        target = finding.evidence.get("target_status")
        if target is None:
            raise ValueError(
                "the other places do not agree on the volume's state: a person decides (stuck-volume-runbook)"
            )
        return target
