"""Scenarios of NV202 unmapped-instance: a live instance the API database has no mapping for."""

from osfsck.checks.nova.unmapped_instance import UnmappedInstance
from osfsck.model.facts.nova import Cell, InstanceMapping
from tests.checks.scenario import Case
from tests.support.world import DAY, World, uid

CHECK = UnmappedInstance
HIDDEN = uid(1101)


def map_instances_never_run():
    # a cell database restored into a new deployment
    w = World()
    w.instance(host="hv1")
    w.host("hv3", cell="cell2")
    w.instance(HIDDEN, cell="cell2", host="hv3", mapped=False, age=90 * DAY)
    return w.snapshot()


def verify_unmapped(out):
    (f,) = out.findings
    assert f.subject.scope == "cell:cell2"
    assert "in cell:cell2 has no instance mapping" in f.message
    w = World()
    w.cell("cell1")
    assert f.evidence["cell_uuid"] == w.cell("cell2")
    assert f.evidence["instance"]["vm_state"] == "active"


def stopped_and_unmapped():
    w = World()
    w.instance(HIDDEN, host="hv1", vm_state="stopped", mapped=False)
    return w.snapshot()


def clean():
    w = World()
    w.instance(host="hv1")
    w.instance(cell="cell2", host="hv3")
    return w.snapshot()


def hidden_copy_of_a_cross_cell_resize():
    w = World()
    w.host("hv3", cell="cell2")
    w.instance(HIDDEN, cell="cell2", host="hv3", mapped=True)
    w.instance(HIDDEN, cell="cell1", host="hv1", hidden=True, mapped=False)
    return w.snapshot()


def only_a_hidden_copy_left():
    w = World()
    w.instance(HIDDEN, cell="cell1", host="hv1", hidden=True, mapped=False)
    return w.snapshot()


def soft_deleted_row_after_partial_archive():
    w = World()
    w.instance(HIDDEN, host="hv1", deleted=True, mapped=False)
    return w.snapshot()


def mapping_without_cell_yet():
    # the conductor created the instance in its cell; it sets the mapping's cell next
    w = World()
    w.build_request(HIDDEN, age=30)
    w.instance(HIDDEN, host="hv1", vm_state="building", task_state="scheduling", mapped=False, age=1)
    return w.snapshot()


def mappings_partial():
    w = World()
    w.instance(HIDDEN, host="hv1", mapped=False)
    w.partial(InstanceMapping, "api", "instance_mappings: query timed out")
    return w.snapshot()


def cell_list_partial():
    w = World()
    w.instance(HIDDEN, host="hv1", mapped=False)
    w.partial(Cell, "api", "cell_mappings: connection reset")
    return w.snapshot()


CASES = [
    Case(
        "found",
        "map_instances never run for a restored cell",
        map_instances_never_run,
        [("NV202", HIDDEN)],
        verify=verify_unmapped,
    ),
    Case("found", "stopped instance without a mapping", stopped_and_unmapped, [("NV202", HIDDEN)]),
    Case("clean", "every instance mapped, two cells", clean),
    Case("near-miss", "hidden copy of a cross-cell resize", hidden_copy_of_a_cross_cell_resize),
    Case("near-miss", "only a hidden copy is left", only_a_hidden_copy_left),
    Case(
        "near-miss",
        "soft-deleted row without a mapping after a partial archive",
        soft_deleted_row_after_partial_archive,
    ),
    Case("near-miss", "instance just created, its mapping has no cell yet", mapping_without_cell_yet),
    Case("partial", "instance mappings partial", mappings_partial, ["api"]),
    Case("partial", "cell list partial", cell_list_partial, ["api"]),
]
