"""Corrections of instance rows in a cell database, each conditional on what was seen."""

from __future__ import annotations

from osfsck.model.facts.nova import ComputeNode
from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.conditional_update import ConditionalUpdate, now_stored


def _instance_plan(repair, finding: Finding, action: str, expect: dict, values: dict, safety=None) -> RepairPlan:
    inst = finding.evidence["instance"]
    return RepairPlan(repair.name, safety or repair.safety, finding, finding.subject, action=action, params={
        "db": f"cell:{inst['cell']}", "table": "instances", "key": {"uuid": inst["uuid"], "deleted": 0},
        "expect": {"task_state": None, **expect}, "values": values})


class SyncPowerState(ConditionalUpdate):
    """What Nova's _sync_power_states does to the database side: record the power state
    the hypervisor reports."""

    name = "sync-power-state"
    safety = Safety.SAFE
    writes = "Nova cell database: UPDATE instances SET power_state=? WHERE uuid=? AND power_state=<seen> AND task_state IS NULL"

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        seen, observed = finding.evidence["nova_power_state"], finding.evidence["observed_power_state"]
        return _instance_plan(self, finding, f"record power state {observed} (was {seen}) for {finding.subject.id}",
                              {"power_state": seen}, {"power_state": observed})


class SetInstanceError(ConditionalUpdate):
    """An instance whose guest is gone is put in ERROR, as `openstack server set --state
    error` would: the tenant sees the truth and can rebuild or delete it."""

    name = "set-instance-error"
    safety = Safety.UNSAFE
    writes = "Nova cell database: UPDATE instances SET vm_state='error' WHERE uuid=? AND vm_state=<seen> AND host=<seen> AND task_state IS NULL"

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        inst = finding.evidence["instance"]
        return _instance_plan(self, finding, f"set instance {inst['uuid']} to ERROR (its domain is gone from {inst['host']})",
                              {"vm_state": inst["vm_state"], "host": inst["host"]}, {"vm_state": "error"})


class MoveInstanceRecord(ConditionalUpdate):
    """The instance's only guest runs on another host: record that host, as an operator
    fixing a half-finished migration by hand would.  `updated_at` is set as Nova's own
    `Instance.save()` sets it: the move is a fresh change, so checks that judge the instance
    where it now is (its Placement allocation, still on the old host) give it their grace."""

    name = "move-instance-record"
    safety = Safety.UNSAFE
    writes = ("Nova cell database: UPDATE instances SET host=?, node=?, updated_at=now WHERE uuid=? AND host=<seen> "
              "AND task_state IS NULL")

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        inst, dom = finding.evidence["instance"], finding.evidence["domain"]
        nodes = [n.hypervisor_hostname for n in snap.of(ComputeNode) if n.host == dom["host"]]
        if len(nodes) != 1:
            return f"{dom['host']} has {len(nodes)} compute nodes; cannot tell which node to record"
        if not dom["active"]:
            return f"the domain on {dom['host']} is not running: which copy is real is unclear"
        return _instance_plan(self, finding, f"record instance {inst['uuid']} on {dom['host']} (was {inst['host']})",
                              {"host": inst["host"]},
                              {"host": dom["host"], "node": nodes[0], "updated_at": now_stored()})
