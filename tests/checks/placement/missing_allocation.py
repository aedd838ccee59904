"""Scenarios of PL102 missing-allocation: a live instance on a host with no allocation."""

from osfsck.checks.placement.missing_allocation import MissingAllocation
from osfsck.model.facts.nova import Migration
from tests.checks.scenario import Case
from tests.support.world import MINUTE, World

CHECK = MissingAllocation

_U1, _U2 = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"


def unallocated():
    w = World()
    w.instance(host="hv1", vcpus=4, memory_mb=4096, root_gb=40)
    w.placed_instance("hv2")
    return w.snapshot()


def verify_unallocated(out):
    (f,) = out.findings
    assert f.subject.scope == "cell:cell1" and "4 vCPU" in f.message and "holds no allocation" in f.message
    assert f.evidence["compute_node"]["host"] == "hv1" and f.evidence["provider_exists"] is False


def stopped_unallocated():
    w = World()
    w.host_provider("hv1")
    w.placed_instance("hv1")
    w.instance(host="hv1", vm_state="stopped")
    return w.snapshot()


def verify_stopped(out):
    (f,) = out.findings
    assert f.evidence["provider_exists"] is True


def clean():
    w = World()
    for host in ("hv1", "hv2"):
        w.placed_instance(host)
    w.placed_instance("hv1", vm_state="stopped")
    return w.snapshot()


def not_settled():
    w = World()
    w.placed_instance("hv1")
    w.instance(host=None, vm_state="shelved_offloaded")  # no host
    w.instance(host="hv1", vm_state="building", task_state="spawning")
    w.instance(host="hv1", task_state="rebooting")
    w.instance(host="hv1", age=5 * MINUTE)  # claimed moments from now
    w.instance(host="hv1", deleted=True)
    return w.snapshot()


def resize_in_progress():
    # the instance's own allocation is being moved; Nova swaps it to the migration first
    w = World()
    u = w.instance(host="hv1")
    m = w.migration(u, type="resize", status="pre-migrating", source="hv1", dest="hv2")
    w.allocate(w.migration_uuid(m), "hv1", consumer_type="MIGRATION")
    return w.snapshot()


def placement_unreadable():
    w = World()
    w.instance(host="hv1")
    w.placement_down()
    return w.snapshot()


def migrations_partial():
    # no allocation under its own uuid: a resize may hold it under the migration's
    w = World()
    w.instance(host="hv1")
    w.placed_instance("hv2")
    w.partial(Migration, "cell:cell1", "cell1: SELECT from migrations interrupted")
    return w.snapshot()


CASES = [
    Case("found", "an active instance with no allocation", unallocated, [("PL102", _U1)], verify=verify_unallocated),
    Case(
        "found", "a stopped instance with no allocation", stopped_unallocated, [("PL102", _U2)], verify=verify_stopped
    ),
    Case("clean", "every settled instance holds its flavor", clean),
    Case("near-miss", "shelved-offloaded, building, a task in flight, just changed, deleted", not_settled),
    Case("near-miss", "a resize in progress", resize_in_progress),
    Case("partial", "Placement could not be read", placement_unreadable, ["placement"]),
    Case("partial", "the cell's migrations are partial", migrations_partial, ["cell:cell1"]),
]
