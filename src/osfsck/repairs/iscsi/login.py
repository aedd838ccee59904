"""Log a host in again to the target of an attached volume that lost its session."""

from __future__ import annotations

from typing import Any

from osfsck.model.facts.hypervisor import IscsiNode
from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, Repair
from osfsck.repairs.iscsi.sessions import _agent


class LoginIscsiSession(Repair):
    """What os-brick's connect does once the node record exists: `iscsiadm -m node -T <iqn>
    -p <portal> --login`.  Planned only when the host still has the node record for that
    target and portal (os-brick wrote it at attach): without it the CHAP credentials are in
    Cinder's connection info, which osfsck does not copy to hosts, and the runbook applies
    (a hard reboot reconnects the volume).  Not undoable by itself: logging the session
    out again cuts the guest's disk, so undo logs out only a session whose disks no
    process holds (the agent checks), and keeps the node record that was there before."""

    name = "login-iscsi-session"
    safety = Safety.UNSAFE
    writes = "the hypervisor's open-iscsi state, through the host agent: iscsiadm -m node -T <iqn> -p <portal> --login"
    undoable = True

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        host = finding.subject.scope.split(":", 1)[1]
        portal = finding.evidence.get("portal")
        iqns = set(finding.evidence.get("target_iqns") or ())
        record = next(
            (n for n in snap.of(IscsiNode) if n.host == host and n.target_iqn in iqns and n.portal == portal), None
        )
        if record is None:
            return f"{host} has no node record for the target at {portal}: a person reconnects it (runbook)"
        if finding.evidence.get("lun_missing"):
            # the session is there, serving other LUNs of the target: a login would be
            # refused (ISCSI_ERR_SESS_EXISTS) and a logout would cut them; a rescan is a person's
            return f"{host} is logged in to {record.target_iqn} already; its LUN needs a rescan (runbook)"
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"log {host} in to {record.target_iqn} at {portal} (its node record exists)",
            params={"host": host, "target_iqn": record.target_iqn, "portal": portal},
        )

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        p = plan.params
        _agent(
            ctx,
            p["host"],
            "iscsi_login",
            target_iqn=p["target_iqn"],
            portal=p["portal"],
            create_record=False,
            settings={},
        )
        return f"{p['host']} logged in to {p['target_iqn']} at {p['portal']}"

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        p = entry["params"]
        _agent(ctx, p["host"], "iscsi_logout", target_iqn=p["target_iqn"], portal=p["portal"], keep_record=True)
        return f"{p['host']} logged out of {p['target_iqn']} at {p['portal']} again (node record kept)"
