"""Clear what a lost RPC message left on an instance, as an operator's `nova reset-state`
would (the API's admin_actions._reset_state: vm_state set, task_state None, saved so
updated_at is now, and a "resetState" instance action recorded), conditional on the
exact row seen (vm_state, task_state and updated_at), so an instance that moved on since
the check is left alone."""

from __future__ import annotations

from typing import Any

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, RepairError
from osfsck.repairs.conditional_update import ConditionalUpdate, now_stored, read_row, same
from osfsck.repairs.nova_cell.actions import reset_state_action

# libvirt domain state (its name in the evidence) -> (vm_state, Nova power_state), as
# `nova reset-state` then Nova's _sync_power_states would leave the instance
_FROM_DOMAIN = {
    "running": ("active", 1),
    "blocked": ("active", 1),
    "paused": ("paused", 3),
    "shut off": ("stopped", 4),
    "shutting down": ("stopped", 4),
}
_SEEN = ("vm_state", "task_state", "updated_at")


class _ResetInstance(ConditionalUpdate):
    """Plans carry the target values; the before-image reads the row and insists it is still
    exactly as seen, then keeps its stored values as the update's condition."""

    def _plan(self, finding: Finding, action: str, values: dict) -> RepairPlan:
        inst = finding.evidence["instance"]
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=action,
            params={
                "db": f"cell:{inst['cell']}",
                "table": "instances",
                "key": {"uuid": inst["uuid"], "deleted": 0},
                "seen": {k: inst[k] for k in _SEEN},
                "values": values,
            },
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        with ctx.database(p["db"]).connect() as conn:
            # undo sets back every column the repair sets, power_state included
            row = read_row(conn, p["table"], p["key"], (*_SEEN, "power_state"))
        uuid = p["key"]["uuid"]
        if row is None:
            raise RepairError(f"instance {uuid} is no longer a live row of {p['db']}; nothing changed")
        seen = p["seen"]
        if (row["vm_state"], row["task_state"]) != (seen["vm_state"], seen["task_state"]) or not same(
            row["updated_at"], seen["updated_at"]
        ):
            raise RepairError(
                f"instance {uuid} is now {row['vm_state']}/{row['task_state']} (updated "
                f"{row['updated_at']}), not as seen; nothing changed"
            )
        return {
            "db": p["db"],
            "table": p["table"],
            "key": p["key"],
            "expect": row,
            "values": {**p["values"], "task_state": None, "updated_at": now_stored()},
            "inserts": [reset_state_action(uuid)],
        }


class ResetStuckInstance(_ResetInstance):
    """The instance's task is cleared and its state set to what its hypervisor shows: a
    running domain makes it active, a shut-off one stopped, a paused one paused, no
    domain at all error."""

    name = "reset-stuck-instance"
    safety = Safety.UNSAFE
    writes = (
        "Nova cell database, one transaction: UPDATE instances SET vm_state=?, power_state=?, task_state=NULL, "
        "updated_at=now WHERE uuid=? AND deleted=0 AND vm_state=<seen> AND task_state=<seen> AND "
        "updated_at=<seen>; INSERT INTO instance_actions (action 'resetState', started and finished now)"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        hv = finding.evidence.get("hypervisor")
        if hv is None:
            return f"{self.name} resets stuck instances; this finding is not one"
        if not hv["read"]:
            return (
                f"the hypervisor of {hv['host'] or 'no host'} was not read: what the instance should be reset "
                "to is unknown (`nova reset-state` by hand)"
            )
        dom = hv["domain"]
        values: dict[str, str | int]
        if dom is None:
            values, shows = {"vm_state": "error"}, f"no domain on {hv['host']}"
        elif dom["state"] in _FROM_DOMAIN:
            vm_state, power = _FROM_DOMAIN[dom["state"]]
            values, shows = {"vm_state": vm_state, "power_state": power}, f"its domain {dom['state']}"
        else:
            return f"its domain is {dom['state']}: which state to reset to is a person's call"
        inst = finding.evidence["instance"]
        return self._plan(
            finding,
            f"clear task {inst['task_state']} of instance {inst['uuid']} and set it {values['vm_state']} ({shows})",
            values,
        )


class FailStuckBuild(_ResetInstance):
    """A build that will not finish is put in ERROR with its task cleared: `nova reset-state
    --state error`, since its host is down and Nova's own instance_build_timeout (a periodic
    task of that host's nova-compute, which keeps the task_state) cannot run; the tenant
    can then delete it."""

    name = "fail-stuck-build"
    safety = Safety.UNSAFE
    writes = (
        "Nova cell database, one transaction: UPDATE instances SET vm_state='error', task_state=NULL, "
        "updated_at=now WHERE uuid=? AND deleted=0 AND vm_state='building' AND task_state=<seen> AND "
        "updated_at=<seen>; INSERT INTO instance_actions (action 'resetState', started and finished now)"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        inst = finding.evidence.get("instance")
        if inst is None or inst.get("vm_state") != "building":
            return f"{self.name} fails builds; this finding is not one"
        return self._plan(
            finding,
            f"set building instance {inst['uuid']} to ERROR and clear its task ({inst['task_state']})",
            {"vm_state": "error"},
        )
