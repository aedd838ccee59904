"""Hand an object OVN lacks (OV102) or holds behind (OV103) back to Neutron's own
maintenance: mark its row in `ovn_revision_numbers` stale.

ML2/OVN records in `ovn_revision_numbers` the revision each object had when it was last
written to OVN.  Its maintenance task (DBInconsistenciesPeriodics.check_for_inconsistencies,
every 300 s in the one worker holding the NB lock: neutron-ovn-maintenance-worker, or
neutron-server before 2024.2) lists every row whose revision differs from the object's
`standardattributes.revision_number` (objects created more than 60 s ago), and for each
(`_fix_create_update`, neutron/plugins/ml2/drivers/ovn/mech_driver/ovsdb/maintenance.py):
no OVN row -> `ovn_create`; an OVN row whose `neutron:revision_number` differs -> `ovn_update`;
then `bump_revision` records the new revision.  A row deleted from NB behind Neutron's back,
or reverted to an older copy, leaves that bookkeeping saying "in step": Neutron never
looks again.  Marking it stale makes the task do what it does after a failed write of
its own, with Neutron's code and columns; osfsck forges no OVN row.

What is written, conditional on the revision read just before:
- OV102 (no row): -1, INITIAL_REV_NUM, what Neutron's precommit writes before the first
  OVN create (create_initial_revision);
- OV103 (row behind): the NB row's own revision, what the table would say had Neutron's
  update failed.  It is below Neutron's revision by the finding's definition, and not -1,
  so a subnet takes `update_subnet`, never a second `create_subnet`.
Never higher than stored: `bump_revision` skips a number lower than the stored one, so a
mark above Neutron's revision would never be cleared.  A row already behind Neutron's
revision is queued already: nothing is written.  A missing bookkeeping row is inserted
(as `bump_revision`'s `_ensure_revision_row_exist` would), and undo deletes it.

Safe while neutron-server runs: one conditional row write in Neutron's database, which the
task then handles like any failed write, unlike `neutron-ovn-db-sync-util --repair`, which
rewrites and deletes across the whole NB database.  A security group rule whose ACL exists
but is wrong is never updated by the task (rules are immutable: it logs an error), so
rules are marked only when their ACL is missing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, select, table

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, RepairError
from osfsck.repairs.conditional_update import ConditionalUpdate, now_stored, read_row
from osfsck.repairs.neutron.common import NEUTRON

INITIAL_REV_NUM = -1  # neutron/db/ovn_revision_numbers_db.py
REVISIONS = "ovn_revision_numbers"
# osfsck's kind -> (ovn_revision_numbers.resource_type, the Neutron table of the object)
TYPES = {
    "network": ("networks", "networks"),
    "port": ("ports", "ports"),
    "router": ("routers", "routers"),
    "router-port": ("router_ports", "ports"),
    "security-group": ("security_groups", "securitygroups"),
    "security-group-rule": ("security_group_rules", "securitygrouprules"),
    "floating-ip": ("floatingips", "floatingips"),
    "subnet": ("subnets", "subnets"),
}


class MarkOvnRevisionStale(ConditionalUpdate):
    """Set the object's `ovn_revision_numbers.revision_number` below Neutron's revision,
    conditional on the number read just before (or insert the row when there is none), so
    that Neutron's maintenance task re-creates (OV102) or updates (OV103) its OVN row
    within its 300 s period.  Undo puts the number read back, only where it is still the
    mark (once Neutron has re-synced the object, undo changes nothing and says so)."""

    name = "mark-ovn-revision-stale"
    safety = Safety.SAFE
    # Neutron's task writes OVN up to 300 s later: this run verifies the conditional write
    # itself (one row, or refused); the next run's check sees the row back, or the finding stays
    completed_by = "Neutron's OVN maintenance task"
    writes = (
        "Neutron database: UPDATE ovn_revision_numbers SET revision_number=<-1 for a missing OVN row, the NB "
        "row's revision for one behind> WHERE resource_uuid=? AND resource_type=? AND revision_number=<as read>; "
        "or INSERT the row when Neutron has none"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        n = finding.evidence.get("neutron") or {}
        kind, oid, revision = n.get("kind"), n.get("id"), n.get("revision_number")
        if kind not in TYPES or not oid or revision is None:
            return f"{self.name} marks Neutron objects; this finding names none it knows ({kind})"
        if finding.code == "OV102":  # OVN has no row at all
            stale, why = INITIAL_REV_NUM, "has no OVN row"
        else:  # OV103: the NB row is at an older revision
            row = finding.evidence["row"]
            stale, why = int(row["revision"]), f"is at revision {row['revision']} in OVN"
        if stale >= int(revision):
            return f"{kind} {oid}: OVN's revision {stale} is not behind Neutron's {revision}"
        rtype, resource_table = TYPES[kind]
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=(
                f"mark {kind} {oid} stale in Neutron's ovn_revision_numbers (revision {stale}): it {why}, Neutron "
                f"is at {revision}; Neutron's OVN maintenance task then writes it (within 5 minutes)"
            ),
            params={"id": oid, "type": rtype, "table": resource_table, "stale": stale, "neutron": int(revision)},
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        key = {"resource_uuid": p["id"], "resource_type": p["type"]}
        with ctx.database(NEUTRON).connect() as conn:
            row = read_row(conn, REVISIONS, key, ("revision_number", "updated_at"))
            if row is not None:
                seen = int(row["revision_number"])
                if seen <= p["stale"]:
                    return {"db": NEUTRON, "queued": seen}  # already behind: Neutron's task has it
                values = {"revision_number": p["stale"], "updated_at": now_stored()}
                return {"db": NEUTRON, "rows": [{"table": REVISIONS, "key": key, "expect": row, "values": values}]}
            t = table(p["table"], column("id"), column("standard_attr_id"))
            sid = conn.execute(select(t.c.standard_attr_id).where(t.c.id == p["id"])).scalar()
        if sid is None:
            raise RepairError(f"{p['table']} {p['id']} is gone from Neutron; nothing changed")
        now = now_stored()
        values = {"standard_attr_id": sid, "revision_number": p["stale"], "created_at": now, "updated_at": now}
        return {"db": NEUTRON, "inserts": [{"table": REVISIONS, "key": key, "row": {**key, **values}}]}

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        p = plan.params
        what = f"{p['type']} {p['id']}"
        if "queued" in before:
            return (
                f"{what} is already at revision {before['queued']} in ovn_revision_numbers, behind Neutron's "
                f"{p['neutron']}: Neutron's OVN maintenance task has it queued; nothing written"
            )
        self.write(ctx, before)
        was = before["rows"][0]["expect"]["revision_number"] if before.get("rows") else "no row"
        return (
            f"{what} marked stale in ovn_revision_numbers ({was} -> {p['stale']}; Neutron at {p['neutron']}): "
            "Neutron's OVN maintenance task re-syncs it within 5 minutes"
        )
