"""Disassociate a floating IP from an orphan port, as `openstack floating ip unset --port`."""

from __future__ import annotations

from typing import Any

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, RepairError
from osfsck.repairs.conditional_update import read_row
from osfsck.repairs.neutron.common import NEUTRON, NeutronUpdate, revision_bump

FIP_COLUMNS = ("fixed_port_id", "fixed_ip_address", "router_id", "last_known_router_id", "status")


class DisassociateFloatingIp(NeutronUpdate):
    """What Neutron's L3 plugin writes when a floating IP loses its port
    (l3_db._update_fip_assoc with port_id None: fixed_port_id, fixed_ip_address and
    router_id cleared, last_known_router_id the previous router_id), then the status DOWN
    the OVN L3 driver sets once its NAT is gone (ovn_l3 service provider,
    update_floatingip_status).  Conditional on the association as the check saw it; the
    floating IP's revision is bumped (and updated_at set, as the revision plugin's bump
    does) so the OVN maintenance task removes its NAT row (neutron/common.py says why).

    With ML2/OVS the L3 agents learn of it at their next full sync (an agent restart);
    the API (`PUT /v2.0/floatingips/{id}` with `port_id: null`) notifies them at once and
    is the better way where it can be used.
    """

    name = "disassociate-floating-ip"
    safety = Safety.UNSAFE
    writes = (
        "Neutron database, one transaction: UPDATE floatingips SET fixed_port_id=NULL, fixed_ip_address=NULL, "
        "router_id=NULL, last_known_router_id=<router>, status='DOWN' WHERE id=? AND <association as seen>; "
        "UPDATE standardattributes SET revision_number=revision_number+1, updated_at=now (OVN re-syncs its NAT)"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        fip = finding.evidence.get("floating_ip")
        if finding.subject.kind != "floating-ip" or not fip or not fip.get("fixed_port_id"):
            return f"{self.name} disassociates floating IPs; this {finding.subject.kind} is none"
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=(
                f"disassociate floating IP {fip['floating_ip_address']} ({fip['id']}) from port "
                f"{fip['fixed_port_id']} ({fip['fixed_ip_address']}) in Neutron"
            ),
            params={
                "floating_ip_id": fip["id"],
                "fixed_port_id": fip["fixed_port_id"],
                "fixed_ip_address": fip["fixed_ip_address"],
                "router_id": fip["router_id"],
            },
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        fid = p["floating_ip_id"]
        with ctx.database(NEUTRON).connect() as conn:
            row = read_row(conn, "floatingips", {"id": fid}, FIP_COLUMNS)
            if row is None or any(row[k] != p[k] for k in ("fixed_port_id", "fixed_ip_address", "router_id")):
                now = "gone" if row is None else f"on port {row['fixed_port_id']} ({row['fixed_ip_address']})"
                raise RepairError(
                    f"floating IP {fid} is no longer associated as seen with port {p['fixed_port_id']} "
                    f"({p['fixed_ip_address']}); now {now}; nothing changed"
                )
            bump = revision_bump(conn, "floatingips", fid)
        values = {
            "fixed_port_id": None,
            "fixed_ip_address": None,
            "router_id": None,
            "last_known_router_id": row["router_id"],
            "status": "DOWN",
        }
        return {
            "db": NEUTRON,
            "rows": [
                {
                    "table": "floatingips",
                    "key": {"id": fid},
                    "expect": {k: row[k] for k in FIP_COLUMNS},
                    "values": values,
                },
                bump,
            ],
        }
