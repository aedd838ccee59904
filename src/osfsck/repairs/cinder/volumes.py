"""Reset a volume's status to what the other places show, as `cinder reset-state` does."""

from __future__ import annotations

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import RepairError
from osfsck.repairs.cinder.common import CINDER, CinderUpdate, holders, read_volume, unchanged
from osfsck.repairs.conditional_update import now_stored

# the attach_status that goes with a status; "error" leaves it as it is
ATTACH_STATUS = {"in-use": "attached", "available": "detached"}


class _VolumeReset(CinderUpdate):
    """The volume row only, as os-reset_status writes it (updated_at becomes now, as the
    ORM's onupdate sets it there), conditional on the status and updated_at the check saw,
    and refused when the attachments holding the volume contradict the new status."""

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
        return RepairPlan(self.name, self.safety, finding, finding.subject,
                          action=f"set volume {vol['id']} {status} (was {vol['status']}) in Cinder",
                          params={"volume_id": vol["id"], "status": status, "seen": vol})

    def before_image(self, plan: RepairPlan, ctx) -> dict:
        p = plan.params
        vid, status = p["volume_id"], p["status"]
        with ctx.database(CINDER).connect() as conn:
            vol = read_volume(conn, vid)
            held = holders(conn, vid)
        unchanged(vid, vol, p["seen"])
        # what os-reset_status itself refuses (in-use without attachments), and the reverse
        if (status == "in-use") != bool(held) and status in ATTACH_STATUS:
            raise RepairError(f"volume {vid} is held by {len(held)} live attachment(s): it cannot be {status}; "
                              "nothing changed")
        values = {"status": status, "updated_at": now_stored()}
        if status in ATTACH_STATUS:
            values["attach_status"] = ATTACH_STATUS[status]
        return {"db": CINDER, "volume_id": vid, "holders": held,
                "rows": [{"table": "volumes", "key": {"id": vid},
                          "expect": {"deleted": vol["deleted"], **{k: vol[k] for k in values}}, "values": values}]}


class ResetVolumeStatus(_VolumeReset):
    """An `in-use` volume that no attachment holds and no live instance maps becomes
    `available`/`detached`: `cinder reset-state --state available --attach-status detached`."""

    name = "reset-volume-status"
    safety = Safety.UNSAFE
    writes = ("Cinder database: UPDATE volumes SET status='available', attach_status='detached', updated_at=now "
              "WHERE id=? AND status='in-use' AND updated_at=<seen> (only while no live attachment holds it)")

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
    writes = ("Cinder database: UPDATE volumes SET status=<target>, attach_status=<attached|detached>, "
              "updated_at=now WHERE id=? AND status=<seen> AND updated_at=<seen>")

    def target(self, finding: Finding) -> str:
        target = finding.evidence.get("target_status")
        if target is None:
            raise ValueError("the other places do not agree on the volume's state: a person decides "
                             "(stuck-volume-runbook)")
        return target
