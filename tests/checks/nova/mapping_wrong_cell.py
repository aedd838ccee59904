"""Scenarios of NV203 mapping-wrong-cell: a mapping to one cell, the instance in another."""

from osfsck.checks.nova.mapping_wrong_cell import MappingWrongCell
from osfsck.model.facts.nova import Cell, Instance, InstanceMapping
from tests.checks.scenario import Case
from tests.support.world import HOUR, World, uid

CHECK = MappingWrongCell
LOST = uid(808)


def cross_cell_resize_died():
    # the instance was moved to cell2 and the mapping never updated
    w = World()
    w.instance(host="hv1")
    w.host("hv3", cell="cell2")
    w.instance(LOST, cell="cell2", host="hv3", mapped="cell1")
    return w.snapshot()


def verify_died(out):
    (f,) = out.findings
    assert f.subject.kind == "instance-mapping" and f.subject.scope == "api"
    assert "points to cell:cell1" in f.message and "lives in cell:cell2" in f.message
    assert f.evidence["mapped_cell"] == "cell1" and f.evidence["actual_cell"] == "cell2"


def mapped_cell_has_only_the_deleted_source():
    w = World()
    w.instance(LOST, cell="cell1", host="hv1", deleted=True, mapped=False)
    w.host("hv3", cell="cell2")
    w.instance(LOST, cell="cell2", host="hv3", mapped="cell1")
    return w.snapshot()


def clean():
    w = World()
    w.instance(host="hv1")
    w.host("hv3", cell="cell2")
    w.instance(cell="cell2", host="hv3")
    return w.snapshot()


def resize_in_progress_target_hidden():
    # cross-cell resize under way: the copy in the target cell is hidden, the mapping still
    # points at the source
    w = World()
    w.host("hv3", cell="cell2")
    w.instance(LOST, cell="cell1", host="hv1", mapped="cell1", task_state="resize_migrating")
    w.instance(LOST, cell="cell2", host="hv3", hidden=True, mapped=False)
    w.migration(LOST, type="resize", status="migrating", source="hv1", dest="hv3", age=HOUR)
    return w.snapshot()


def resize_finished_source_hidden_mapping_not_yet_updated():
    # the target copy was un-hidden and the source hidden, the mapping not yet switched:
    # the mapped cell still has a live (hidden) row
    w = World()
    w.host("hv3", cell="cell2")
    w.instance(LOST, cell="cell1", host="hv1", hidden=True, mapped="cell1")
    w.instance(LOST, cell="cell2", host="hv3", vm_state="resized", mapped=False)
    return w.snapshot()


def only_a_hidden_copy_elsewhere():
    w = World()
    w.host("hv3", cell="cell2")
    w.mapping(LOST, "cell1")
    w.instance(LOST, cell="cell2", host="hv3", hidden=True, mapped=False)
    return w.snapshot()


def mapping_without_cell():
    w = World()
    w.build_request(LOST, age=20)
    return w.snapshot()


def mapped_cell_down():
    w = World()
    w.host("hv3", cell="cell2")
    w.instance(LOST, cell="cell2", host="hv3", mapped="cell1")
    w.cell_down("cell1")
    return w.snapshot()


def mapped_cell_instances_partial():
    w = World()
    w.host("hv3", cell="cell2")
    w.instance(LOST, cell="cell2", host="hv3", mapped="cell1")
    w.partial(Instance, "cell:cell1", "instances: query timed out")
    return w.snapshot()


def mappings_partial():
    w = World()
    w.host("hv3", cell="cell2")
    w.instance(LOST, cell="cell2", host="hv3", mapped="cell1")
    w.partial(InstanceMapping, "api", "instance_mappings: query timed out")
    return w.snapshot()


def cell_list_partial():
    w = World()
    w.host("hv3", cell="cell2")
    w.instance(LOST, cell="cell2", host="hv3", mapped="cell1")
    w.partial(Cell, "api", "cell_mappings: connection reset")
    return w.snapshot()


def reason_is_the_cell_list(out):
    (i,) = out.inconclusive_list
    assert "cell_mappings: connection reset" in i.reason, i.reason


def live_only_in_a_cell_that_could_not_be_read():
    # mapped to cell1, not live there: it may live in cell2, which could not be read
    w = World()
    w.instance(host="hv1")
    w.host("hv3", cell="cell2")
    w.instance(LOST, cell="cell2", host="hv3", mapped="cell1")
    w.cell_down("cell2")
    return w.snapshot()


CASES = [
    Case(
        "found",
        "cross-cell resize died before the mapping was updated",
        cross_cell_resize_died,
        [("NV203", LOST)],
        verify=verify_died,
    ),
    Case(
        "found",
        "mapped cell holds only the deleted source copy",
        mapped_cell_has_only_the_deleted_source,
        [("NV203", LOST)],
    ),
    Case("clean", "each mapping points at its instance's cell", clean),
    Case("near-miss", "cross-cell resize in progress, target copy hidden", resize_in_progress_target_hidden),
    Case(
        "near-miss",
        "cross-cell resize finished, source copy hidden, mapping not switched yet",
        resize_finished_source_hidden_mapping_not_yet_updated,
    ),
    Case("near-miss", "only a hidden copy lives in another cell", only_a_hidden_copy_elsewhere),
    Case("near-miss", "mapping without a cell (build being scheduled)", mapping_without_cell),
    Case("partial", "mapped cell down", mapped_cell_down, ["cell:cell1"]),
    Case("partial", "mapped cell's instances partial", mapped_cell_instances_partial, ["cell:cell1"]),
    Case("partial", "instance mappings partial", mappings_partial, ["api"]),
    Case("partial", "cell list partial", cell_list_partial, ["api"]),
    Case(
        "partial",
        "cell list partial: the reason names the cell list",
        cell_list_partial,
        ["api"],
        verify=reason_is_the_cell_list,
    ),
    Case(
        "partial",
        "live only in a cell that could not be read",
        live_only_in_a_cell_that_could_not_be_read,
        ["cell:cell2"],
    ),
]
