"""Scenarios of NV204 stale-build-request: a build request left after its build ended."""

from osfsck.checks.nova.stale_build_request import StaleBuildRequest
from osfsck.model.facts.nova import BuildRequest, Cell, Instance, InstanceMapping
from tests.checks.scenario import Case
from tests.support.world import DAY, HOUR, MINUTE, World, uid

CHECK = StaleBuildRequest
BR = uid(1001)


def conductor_died_after_creating_the_instance():
    w = World()
    w.instance(BR, host="hv1", age=2 * DAY)
    w.build_request(BR, age=2 * DAY)
    return w.snapshot()


def verify_created(out):
    (f,) = out.findings
    assert f.subject.kind == "build-request" and f.subject.scope == "api"
    assert "exists in cell:cell1" in f.message
    assert f.evidence["why"] == "instance-created" and f.evidence["mapping_cell"] == "cell1"
    assert f.changed_at == World().ago(2 * DAY)


def instance_created_then_deleted():
    w = World()
    w.instance(BR, host="hv1", age=2 * DAY, deleted=True, deleted_age=DAY)
    w.build_request(BR, age=2 * DAY)
    return w.snapshot()


def no_mapping():
    w = World()
    w.build_request(BR, age=3 * HOUR, mapped=False)
    return w.snapshot()


def never_scheduled():
    w = World()
    w.build_request(BR, age=5 * HOUR)
    return w.snapshot()


def verify_never(out):
    (f,) = out.findings
    assert "unscheduled for 5.0 h" in f.message
    assert f.evidence["why"] == "never-scheduled" and f.evidence["age_seconds"] == 5 * HOUR


def clean():
    # builds that ended normally: the conductor deleted their build requests
    w = World()
    w.instance(host="hv1", age=HOUR)
    w.instance(cell="cell2", host="hv3", age=HOUR)
    return w.snapshot()


def being_scheduled():
    w = World()
    w.build_request(BR, age=20)
    return w.snapshot()


def slow_scheduling_within_the_limit():
    w = World()
    w.build_request(BR, age=50 * MINUTE)
    return w.snapshot()


def mapping_not_yet_created():
    # nova-api creates the build request, then the mapping (compute/api.py
    # _provision_instances); a snapshot can fall between the two
    w = World()
    w.build_request(BR, age=2, mapped=False)
    return w.snapshot()


def conductor_between_mapping_and_cleanup():
    # schedule_and_build_instances creates the instance, sets the mapping's cell, and only
    # then deletes the build request
    w = World()
    w.instance(BR, host="hv1", age=5, vm_state="building", task_state="scheduling")
    w.build_request(BR, age=40)
    return w.snapshot()


def mapped_cell_down():
    w = World()
    w.host("hv3", cell="cell2")
    w.instance(BR, cell="cell2", host="hv3", age=DAY)
    w.build_request(BR, age=DAY)
    w.cell_down("cell2")
    return w.snapshot()


def build_requests_partial():
    w = World()
    w.build_request(BR, age=5 * HOUR)
    w.partial(BuildRequest, "api", "build_requests: query timed out")
    return w.snapshot()


def mappings_partial():
    w = World()
    w.build_request(BR, age=5 * HOUR, mapped=False)
    w.partial(InstanceMapping, "api", "instance_mappings: query timed out")
    return w.snapshot()


def cell_list_partial():
    w = World()
    w.instance(BR, host="hv1", age=2 * DAY)
    w.build_request(BR, age=2 * DAY)
    w.partial(Cell, "api", "cell_mappings: connection reset")
    return w.snapshot()


def instances_partial():
    w = World()
    w.instance(BR, host="hv1", age=2 * DAY)
    w.build_request(BR, age=2 * DAY)
    w.partial(Instance, "cell:cell1", "instances: query timed out")
    return w.snapshot()


def reason_is_the_mappings(out):
    (i,) = out.inconclusive_list
    assert "instance_mappings: query timed out" in i.reason, i.reason


CASES = [
    Case(
        "found",
        "conductor died after creating the instance",
        conductor_died_after_creating_the_instance,
        [("NV204", BR)],
        verify=verify_created,
    ),
    Case("found", "instance created and since deleted", instance_created_then_deleted, [("NV204", BR)]),
    Case("found", "no instance mapping", no_mapping, [("NV204", BR)]),
    Case("found", "never scheduled", never_scheduled, [("NV204", BR)], verify=verify_never),
    Case(
        "found",
        "never scheduled, shorter limit",
        slow_scheduling_within_the_limit,
        [("NV204", BR)],
        params={"unscheduled_after": 30 * MINUTE},
    ),
    Case("clean", "no build request left", clean),
    Case("near-miss", "build request seconds old", being_scheduled),
    Case("near-miss", "scheduling slower than usual, within the limit", slow_scheduling_within_the_limit),
    Case("near-miss", "build request seconds old, its mapping not created yet", mapping_not_yet_created),
    Case(
        "near-miss",
        "conductor between setting the mapping's cell and deleting the build request",
        conductor_between_mapping_and_cleanup,
    ),
    Case("partial", "mapped cell down", mapped_cell_down, ["cell:cell2"]),
    Case("partial", "the mapped cell's instances partial", instances_partial, ["cell:cell1"]),
    Case("partial", "build requests partial", build_requests_partial, ["api"]),
    Case("partial", "instance mappings partial", mappings_partial, ["api"]),
    Case(
        "partial",
        "instance mappings partial: the reason names the mappings",
        mappings_partial,
        ["api"],
        verify=reason_is_the_mappings,
    ),
    Case("partial", "cell list partial", cell_list_partial, ["api"]),
]
