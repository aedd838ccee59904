"""Record in Cinder the host that really holds an attachment's connection."""

from __future__ import annotations

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.cinder.common import CINDER
from osfsck.repairs.conditional_update import ConditionalUpdate, now_stored


class FixAttachmentHost(ConditionalUpdate):
    """When two witnesses agree against Cinder (Nova runs the instance on host H, and the
    only session to the volume's target is on H), set the attachment's attached_host to H,
    conditional on the attachment still being live, attached and naming the host seen.
    The connection itself already works from H; this corrects the bookkeeping a later
    detach or multi-attach decision reads.  Without a session witness (RBD, or sessions
    elsewhere) the runbook applies: `nova-manage volume_attachment refresh` rebuilds the
    connector from the real host.  Cinder writes attached_host with db
    volume_attachment_update (a query update, so updated_at becomes now by the ORM's
    onupdate), and so does this repair."""

    name = "fix-attachment-host"
    safety = Safety.UNSAFE
    writes = (
        "Cinder database: UPDATE volume_attachment SET attached_host=?, updated_at=now WHERE id=? AND "
        "deleted=0 AND attach_status='attached' AND attached_host=<seen>"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        a, inst = finding.evidence["attachment"], finding.evidence["instance"]
        holders = finding.evidence.get("session_hosts") or []
        if holders != [inst["host"]]:
            return (
                "no second witness: sessions to the target are on "
                f"{', '.join(holders) or 'no host'}, not only on {inst['host']}"
            )
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"record {inst['host']} (not {a['attached_host']}) as the host of attachment {a['id']}",
            params={
                "db": CINDER,
                "table": "volume_attachment",
                "key": {"id": a["id"]},
                "expect": {"deleted": 0, "attach_status": "attached", "attached_host": a["attached_host"]},
                "values": {"attached_host": inst["host"], "updated_at": now_stored()},
            },
        )
