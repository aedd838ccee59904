"""Scenarios of NV302 stuck-build: building with no host, or on a host whose nova-compute is down."""

from osfsck.checks.nova.stuck_build import StuckBuild
from osfsck.model.facts.nova import ComputeService
from tests.checks.scenario import Case
from tests.support.world import DAY, HOUR, MINUTE, World, uid

CHECK = StuckBuild


def on_a_dead_host():
    w = World()
    w.instance(host="hv2", vm_state="building", task_state="spawning", age=3 * HOUR)
    w.instance(host="hv1")
    w.service_down("hv2", age=5 * HOUR)
    return w.snapshot()


def verify_dead_host(out):
    (f,) = out.findings
    assert "building for 3.0 h on hv2, whose nova-compute is down" in f.message
    assert f.evidence["service"]["state"] == "down" and f.evidence["service"]["seconds_since_heartbeat"] == 5 * 3600


def with_no_host():
    w = World()
    w.instance(host=None, vm_state="building", task_state="scheduling", age=6 * HOUR)
    return w.snapshot()


def on_a_deleted_service():
    w = World()
    w.instance(host="hv3", vm_state="building", task_state="networking", age=DAY)
    w.service_deleted("hv3")
    return w.snapshot()


def on_a_forced_down_host():
    w = World()
    w.instance(host="hv2", vm_state="building", age=2 * HOUR)
    w.service_down("hv2", age=30, forced=True)
    return w.snapshot()


def clean():
    w = World()
    w.instance(host="hv1")
    w.instance(host="hv1", vm_state="error", age=DAY)
    return w.snapshot()


def building_30s_ago_on_a_live_host():
    w = World()
    w.instance(host="hv1", vm_state="building", task_state="spawning", age=30)
    return w.snapshot()


def slow_build_on_a_live_host():
    w = World()
    w.instance(host="hv1", vm_state="building", task_state="spawning", age=5 * HOUR)
    return w.snapshot()


def just_scheduled_on_a_dead_host():
    w = World()
    w.instance(host="hv2", vm_state="building", task_state="scheduling", age=MINUTE)
    w.service_down("hv2", age=5 * HOUR)
    return w.snapshot()


def services_partial():
    w = World()
    w.instance(host="hv2", vm_state="building", age=3 * HOUR)
    w.service_deleted("hv2")
    w.partial(ComputeService, "cell:cell1")
    return w.snapshot()


CASES = [
    Case(
        "found", "building for 3 h on a host down for 5 h", on_a_dead_host, [("NV302", uid(1))], verify=verify_dead_host
    ),
    Case("found", "building with no host for 6 h", with_no_host, [("NV302", uid(1))]),
    Case("found", "building on a host whose service was deleted", on_a_deleted_service, [("NV302", uid(1))]),
    Case("found", "building on a forced-down host", on_a_forced_down_host, [("NV302", uid(1))]),
    Case("clean", "no build", clean),
    Case("near-miss", "building 30 s ago on a live host", building_30s_ago_on_a_live_host),
    Case("near-miss", "a slow build on a live host", slow_build_on_a_live_host),
    Case("near-miss", "a build just scheduled to a dead host", just_scheduled_on_a_dead_host),
    Case("partial", "the cell's services could not be read", services_partial, ["cell:cell1"]),
]
