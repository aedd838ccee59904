"""Delete a stale INACTIVE port binding, as Nova's cleanup after a live migration does
(`DELETE /v2.0/ports/{id}/bindings/{host}`)."""

from __future__ import annotations

from typing import Any

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, RepairError
from osfsck.repairs.conditional_update import read_rows
from osfsck.repairs.neutron.common import NEUTRON, NeutronUpdate, revision_bump


class DeletePortBinding(NeutronUpdate):
    """What ML2's delete_port_binding removes: the INACTIVE `ml2_port_bindings` row of the
    port on that host and its `ml2_port_binding_levels` rows, in one transaction, each
    conditional on every column as read (so on the host and status seen).  The port's
    revision is bumped so OVN's maintenance task rewrites the logical switch port's
    options (requested-chassis) without the stale host.  An ACTIVE binding is never
    touched.  Undo re-inserts the rows as they were.
    """

    name = "delete-port-binding"
    safety = Safety.UNSAFE
    writes = (
        "Neutron database, one transaction: DELETE FROM ml2_port_binding_levels and ml2_port_bindings "
        "WHERE port_id=? AND host=? AND <every column as seen, status 'INACTIVE'>; UPDATE standardattributes "
        "SET revision_number=revision_number+1, updated_at=now for the port"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        b = finding.evidence.get("binding")
        if finding.subject.kind != "port-binding" or not b:
            return f"{self.name} deletes port bindings; this {finding.subject.kind} is none"
        if b["status"] != "INACTIVE":
            return f"the binding of port {b['port_id']} on {b['host']} is {b['status']}: only INACTIVE ones are deleted"
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"delete the INACTIVE binding of port {b['port_id']} on host {b['host']} in Neutron",
            params={"port_id": b["port_id"], "host": b["host"], "status": b["status"]},
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        key = {"port_id": p["port_id"], "host": p["host"]}
        with ctx.database(NEUTRON).connect() as conn:
            found = read_rows(conn, "ml2_port_bindings", key)
            if not found or found[0]["status"] != p["status"]:
                now = found[0]["status"] if found else "gone"
                raise RepairError(
                    f"the binding of port {p['port_id']} on {p['host']} is no longer {p['status']} "
                    f"(now {now}); nothing changed"
                )
            levels = read_rows(conn, "ml2_port_binding_levels", key)
            bump = revision_bump(conn, "ports", p["port_id"])
        deletes = [
            {"table": "ml2_port_binding_levels", "key": {**key, "level": r["level"]}, "row": r}
            for r in sorted(levels, key=lambda r: r["level"])
        ]
        deletes.append({"table": "ml2_port_bindings", "key": key, "row": found[0]})
        return {"db": NEUTRON, "deletes": deletes, "rows": [bump]}

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        self.write(ctx, before)
        b = before["deletes"][-1]["row"]
        return (
            f"deleted the {b['status']} binding of port {b['port_id']} on {b['host']} "
            f"({len(before['deletes']) - 1} binding level(s)) in {before['db']}; port revision bumped"
        )
