"""Corrections of instance rows in a cell database, each conditional on what was seen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, inspect, select, table

from osfsck.model.facts.nova import ComputeNode
from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, RepairError
from osfsck.repairs.conditional_update import ConditionalUpdate, as_seen, now_stored
from osfsck.repairs.nova_cell.actions import reset_state_action

_nodes = table("compute_nodes", column("id"), column("host"), column("hypervisor_hostname"), column("deleted"))


def _instance_plan(repair, finding: Finding, action: str, expect: dict, values: dict, safety=None) -> RepairPlan:
    inst = finding.evidence["instance"]
    return RepairPlan(
        repair.name,
        safety or repair.safety,
        finding,
        finding.subject,
        action=action,
        params={
            "db": f"cell:{inst['cell']}",
            "table": "instances",
            "key": {"uuid": inst["uuid"], "deleted": 0},
            "expect": {"task_state": None, **expect},
            "values": values,
        },
    )


class SyncPowerState(ConditionalUpdate):
    """What Nova's _sync_power_states does to the database side (ComputeManager.
    _sync_instance_power_state: `db_instance.power_state = vm_power_state;
    db_instance.save()`): record the power state the hypervisor reports; save() sets
    updated_at (oslo.db's TimestampMixin onupdate)."""

    name = "sync-power-state"
    safety = Safety.SAFE
    writes = (
        "Nova cell database: UPDATE instances SET power_state=?, updated_at=now WHERE uuid=? "
        "AND power_state=<seen> AND task_state IS NULL"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        seen, observed = finding.evidence["nova_power_state"], finding.evidence["observed_power_state"]
        return _instance_plan(
            self,
            finding,
            f"record power state {observed} (was {seen}) for {finding.subject.id}",
            {"power_state": seen},
            {"power_state": observed, "updated_at": now_stored()},
        )


class SetInstanceError(ConditionalUpdate):
    """An instance whose guest is gone is put in ERROR, as `nova reset-state` (the API's
    admin_actions._reset_state) does: vm_state error, task_state None, saved (updated_at
    now), with its "resetState" instance action (nova_cell/actions.py).  The tenant sees
    the truth and can rebuild or delete it."""

    name = "set-instance-error"
    safety = Safety.UNSAFE
    writes = (
        "Nova cell database, one transaction: UPDATE instances SET vm_state='error', task_state=NULL, "
        "updated_at=now WHERE uuid=? AND vm_state=<seen> AND host=<seen> AND task_state IS NULL; INSERT INTO "
        "instance_actions (action 'resetState', started and finished now)"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        inst = finding.evidence["instance"]
        return _instance_plan(
            self,
            finding,
            f"set instance {inst['uuid']} to ERROR (its domain is gone from {inst['host']})",
            {"vm_state": inst["vm_state"], "host": inst["host"]},
            {"vm_state": "error", "task_state": None, "updated_at": now_stored()},
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        return {**super().before_image(plan, ctx), "inserts": [reset_state_action(plan.target.id)]}

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        done = super().apply(plan, ctx, before)
        return f"{done} (request {before['inserts'][0]['row']['request_id']})"


class MoveInstanceRecord(ConditionalUpdate):
    """The instance's only guest runs on another host: record that host as Nova records the
    end of a live migration (ComputeManager.post_live_migration_at_destination: host, node,
    compute_id of that compute node, then save(), which sets updated_at).  The move is a
    fresh change, so checks that judge the instance where it now is (its Placement
    allocation, still on the old host) give it their grace.  Its power state is left to
    sync-power-state (power-state-drift judges it).  compute_id exists since Nova 2023.2;
    an older schema has host and node only."""

    name = "move-instance-record"
    safety = Safety.UNSAFE
    writes = (
        "Nova cell database: UPDATE instances SET host=?, node=?, compute_id=<its compute node>, updated_at=now "
        "WHERE uuid=? AND host=<seen> AND task_state IS NULL"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        inst, dom = finding.evidence["instance"], finding.evidence["domain"]
        nodes = [n.hypervisor_hostname for n in snap.of(ComputeNode) if n.host == dom["host"]]
        if len(nodes) != 1:
            return f"{dom['host']} has {len(nodes)} compute nodes; cannot tell which node to record"
        if not dom["active"]:
            return f"the domain on {dom['host']} is not running: which copy is real is unclear"
        return _instance_plan(
            self,
            finding,
            f"record instance {inst['uuid']} on {dom['host']} (was {inst['host']})",
            {"host": inst["host"]},
            {"host": dom["host"], "node": nodes[0], "updated_at": now_stored()},
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        v = p["values"]
        with ctx.database(p["db"]).connect() as conn:
            if "compute_id" in {c["name"] for c in inspect(conn).get_columns("instances")}:
                cn = conn.execute(
                    select(_nodes.c.id).where(
                        _nodes.c.host == v["host"], _nodes.c.deleted == 0, _nodes.c.hypervisor_hostname == v["node"]
                    )
                ).all()
                if len(cn) != 1:
                    raise RepairError(
                        f"{v['host']} has {len(cn)} live compute node(s) named {v['node']}; nothing changed"
                    )
                v = {**v, "compute_id": cn[0][0]}
            u = as_seen(conn, {"table": p["table"], "key": p["key"], "expect": p["expect"], "values": v})
        return {"db": p["db"], **u}
