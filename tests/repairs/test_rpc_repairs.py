"""reset-stuck-instance and fail-stuck-build against Nova's real schema (SQLite and MariaDB):
each finding comes from its check on a World snapshot, the write is conditional on the exact
row seen, a second apply is refused, undo restores the row.  The RabbitMQ repairs' planning
here; their API path runs against the real broker in tests/integration/test_rabbitmq.py."""

from __future__ import annotations

import pytest

from osfsck.checks.nova.stuck_build import StuckBuild
from osfsck.checks.nova.stuck_instance_task import StuckInstanceTask
from osfsck.checks.rabbitmq.dead_host_queue_backlog import DeadHostQueueBacklog
from osfsck.checks.rabbitmq.orphan_rpc_queue import OrphanRpcQueue
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import NotOwned, RepairError
from osfsck.repairs.nova_cell.stuck_tasks import FailStuckBuild, ResetStuckInstance
from osfsck.repairs.rabbitmq.queues import DeleteDeadHostQueue, DeleteOrphanRpcQueue
from osfsck_lab import database
from tests.repairs.helpers import RELEASE, T0, apply, context, execute, plan_of, refused_again_then_undone, rows
from tests.support.world import DAY, HOUR, World


def _finding(check, build):
    w = World()
    build(w)
    snap = w.snapshot()
    (f,) = check.evaluate(snap).findings
    return f, snap, w


@pytest.fixture
def nova(new_db):
    api, cell = new_db("nova_api"), new_db("nova_cell1")
    database.create(api, "nova_api", RELEASE)
    database.create(cell, "nova", RELEASE)
    database.insert_rows(
        api,
        "cell_mappings",
        [
            {
                "uuid": "c1",
                "name": "cell1",
                "transport_url": "none:///",
                "database_connection": cell,
                "disabled": 0,
                "created_at": T0,
            }
        ],
    )
    ctx = context(api_url=api)
    yield cell, ctx
    ctx.close()


def _row(f) -> dict:
    i = f.evidence["instance"]
    import datetime as dt

    return {
        "id": 1,
        "uuid": i["uuid"],
        "deleted": 0,
        "host": i["host"],
        "vm_state": i["vm_state"],
        "task_state": i["task_state"],
        "power_state": i["power_state"],
        "updated_at": dt.datetime.fromisoformat(i["updated_at"]),
        "created_at": T0,
    }


def _stuck_reboot(state: int | None):
    def build(w):
        u = w.instance(host="hv1", task_state="rebooting", updated_age=5 * HOUR, power_state=4)
        if state is not None:
            w.domain("hv1", u, state=state)
        else:
            w.host("hv1")

    return build


@pytest.mark.parametrize(
    ("state", "vm_state", "power_state"),
    [(1, "active", 1), (5, "stopped", 4), (None, "error", 4)],
    ids=["running", "shut-off", "no-domain"],
)
def test_reset_follows_the_hypervisor_refuses_twice_and_undoes(nova, state, vm_state, power_state):
    cell, ctx = nova
    f, snap, _ = _finding(StuckInstanceTask(), _stuck_reboot(state))
    database.insert_rows(cell, "instances", [_row(f)])
    before = rows(cell, "instances")
    repair = ResetStuckInstance()
    plan = plan_of(repair, f, snap)
    assert plan.safety is Safety.UNSAFE and f"set it {vm_state}" in plan.action
    entry = apply(repair, plan, ctx)
    after = rows(cell, "instances")[1]
    assert (after["vm_state"], after["task_state"], after["power_state"]) == (vm_state, None, power_state)
    assert after["updated_at"] != before[1]["updated_at"]
    _recorded_reset_state(cell, f.subject.id)
    refused_again_then_undone(repair, plan, ctx, entry)
    assert rows(cell, "instances") == before and rows(cell, "instance_actions") == {}


def _recorded_reset_state(cell: str, uuid: str) -> None:
    """`nova reset-state` records a resetState instance action, started and finished."""
    (action,) = rows(cell, "instance_actions").values()
    assert (action["action"], action["instance_uuid"], action["deleted"]) == ("resetState", uuid, 0)
    assert action["start_time"] is not None and action["finish_time"] is not None


def test_an_instance_that_moved_on_is_left_alone(nova):
    cell, ctx = nova
    f, snap, _ = _finding(StuckInstanceTask(), _stuck_reboot(1))
    database.insert_rows(cell, "instances", [_row(f)])
    # nova-compute picked the message up after all: the task moved on
    execute(cell, "UPDATE instances SET task_state = 'reboot_started' WHERE id = 1")
    with pytest.raises(RepairError, match="not as seen; nothing changed"):
        ResetStuckInstance().before_image(plan_of(ResetStuckInstance(), f, snap), ctx)


def test_no_reset_without_the_hypervisors_view():
    def build(w):
        w.instance(host="hv2", task_state="deleting", updated_age=2 * DAY)
        w.host_unreachable("hv2")

    f, snap, _ = _finding(StuckInstanceTask(), build)
    why = ResetStuckInstance().plan(f, snap)
    assert isinstance(why, str) and "was not read" in why


def test_a_stuck_build_is_failed_and_undone(nova):
    cell, ctx = nova

    def build(w):
        w.instance(host="hv2", vm_state="building", task_state="spawning", age=3 * HOUR)
        w.service_down("hv2", age=5 * HOUR)

    f, snap, _ = _finding(StuckBuild(), build)
    database.insert_rows(cell, "instances", [_row(f)])
    before = rows(cell, "instances")
    repair = FailStuckBuild()
    plan = plan_of(repair, f, snap)
    entry = apply(repair, plan, ctx)
    after = rows(cell, "instances")[1]
    assert (after["vm_state"], after["task_state"], after["power_state"]) == ("error", None, before[1]["power_state"])
    _recorded_reset_state(cell, f.subject.id)
    refused_again_then_undone(repair, plan, ctx, entry)
    assert rows(cell, "instances") == before and rows(cell, "instance_actions") == {}


def _queue_finding(check, build):
    f, snap, _ = _finding(check, build)
    return f, snap


def test_orphan_queue_plans_are_safe_only_when_empty():
    def empty(w):
        w.queue("reply_0a", messages=0, consumers=0)

    def full(w):
        w.queue("reply_0b", messages=3, consumers=0)

    for build, safety, how in ((empty, Safety.SAFE, "if-unused&if-empty"), (full, Safety.UNSAFE, "if-unused,")):
        f, snap = _queue_finding(OrphanRpcQueue(), build)
        plan = DeleteOrphanRpcQueue().plan(f, snap)
        assert isinstance(plan, RepairPlan) and plan.safety is safety and how in plan.action
        assert plan.params["if_empty"] is (safety is Safety.SAFE)


def test_dead_host_queue_plan_is_unsafe_if_unused_and_owned_by_oslo_names():
    def build(w):
        w.host("hv2")
        w.service_down("hv2", age=3 * HOUR)
        w.queue("compute.hv2", messages=4, consumers=0)

    f, snap = _queue_finding(DeadHostQueueBacklog(), build)
    repair = DeleteDeadHostQueue()
    plan = repair.plan(f, snap)
    assert plan.safety is Safety.UNSAFE and plan.params == {
        "broker": "rabbit1",
        "vhost": "/",
        "name": "compute.hv2",
        "if_empty": False,
    }
    repair.ownership(plan, snap)
    foreign = RepairPlan(plan.repair, plan.safety, f, f.subject, "x", {**plan.params, "name": "billing-jobs"})
    with pytest.raises(NotOwned):
        repair.ownership(foreign, Snapshot(taken_at=T0))
