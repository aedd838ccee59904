"""Scenarios of NV201 orphan-instance-mapping: a mapping whose cell has no such instance."""

from osfsck.checks.nova.orphan_instance_mapping import OrphanInstanceMapping
from osfsck.model.facts.nova import ArchivedInstance, InstanceMapping
from osfsck.model.finding import Confidence
from tests.checks.scenario import Case
from tests.support.world import DAY, World, uid

CHECK = OrphanInstanceMapping
LEFT = uid(909)


def archive_interrupted():
    # archive_deleted_rows moved the row to shadow_instances but died before the mapping
    w = World()
    w.instance(host="hv1")
    w.archived(LEFT, mapped=True)
    return w.snapshot()


def verify_archived(out):
    (f,) = out.findings
    assert f.subject.kind == "instance-mapping" and f.subject.scope == "api"
    assert "where the instance is archived" in f.message
    assert f.confidence == Confidence.HIGH
    assert f.evidence["instance_state"] == "archived" and f.evidence["cell"] == "cell1"


def absent_everywhere():
    w = World()
    w.instance(host="hv1")
    w.mapping(LEFT, "cell1", age=40 * DAY)
    return w.snapshot()


def verify_absent(out):
    (f,) = out.findings
    assert f.confidence == Confidence.MEDIUM and "absent" in f.message


def cell_mapping_deleted():
    # the mapping points to a cell uuid that cell_mappings no longer has
    w = World()
    w.instance(host="hv1")
    w.mapping(LEFT, None, cell_uuid=uid(0x9999))
    return w.snapshot()


def verify_no_cell(out):
    (f,) = out.findings
    assert f.evidence["instance_state"] == "no such cell"


def clean():
    w = World()
    w.instance(host="hv1")
    w.instance(cell="cell2", host="hv3")
    return w.snapshot()


def deleted_not_yet_archived():
    # a deleted instance keeps its mapping (queued_for_delete) until archive_deleted_rows
    w = World()
    w.instance(LEFT, host="hv1", deleted=True, deleted_age=90 * DAY)
    return w.snapshot()


def build_not_scheduled():
    w = World()
    w.build_request(LEFT, age=20)
    return w.snapshot()


def lives_in_another_cell():
    # mapping-wrong-cell's finding (NV203), not an orphan
    w = World()
    w.host("hv3", cell="cell2")
    w.cell("cell1")
    w.instance(LEFT, cell="cell2", host="hv3", mapped="cell1")
    return w.snapshot()


def hidden_copy_in_the_mapped_cell():
    w = World()
    w.host("hv3", cell="cell2")
    w.instance(LEFT, cell="cell1", host="hv1", hidden=True, mapped="cell1")
    w.instance(LEFT, cell="cell2", host="hv3", mapped=False)
    return w.snapshot()


def mapped_cell_down():
    w = World()
    w.instance(LEFT, cell="cell2", host="hv3")
    w.cell_down("cell2")
    return w.snapshot()


def shadow_tables_partial():
    w = World()
    w.mapping(LEFT, "cell1")
    w.partial(ArchivedInstance, "cell:cell1", "shadow_instances: query timed out")
    return w.snapshot()


def absent_but_another_cell_down():
    # not in its cell: it may be live in cell2, which would make it mapping-wrong-cell
    w = World()
    w.mapping(LEFT, "cell1")
    w.cell_down("cell2")
    return w.snapshot()


def mappings_partial():
    w = World()
    w.mapping(LEFT, "cell1")
    w.partial(InstanceMapping, "api", "instance_mappings: query timed out")
    return w.snapshot()


CASES = [
    Case(
        "found",
        "archive interrupted before the mapping was removed",
        archive_interrupted,
        [("NV201", LEFT)],
        verify=verify_archived,
    ),
    Case("found", "instance absent from every cell", absent_everywhere, [("NV201", LEFT)], verify=verify_absent),
    Case(
        "found",
        "mapping to a cell that no longer exists",
        cell_mapping_deleted,
        [("NV201", LEFT)],
        verify=verify_no_cell,
    ),
    Case("clean", "mappings of live instances in two cells", clean),
    Case("near-miss", "deleted instance not yet archived", deleted_not_yet_archived),
    Case("near-miss", "build not scheduled yet (mapping without a cell)", build_not_scheduled),
    Case("near-miss", "instance lives in another cell", lives_in_another_cell),
    Case("near-miss", "hidden copy in the mapped cell", hidden_copy_in_the_mapped_cell),
    Case("partial", "mapped cell down", mapped_cell_down, ["cell:cell2"]),
    Case("partial", "shadow tables of the mapped cell partial", shadow_tables_partial, ["cell:cell1"]),
    Case("partial", "absent from its cell while another cell is down", absent_but_another_cell_down, ["cell:cell2"]),
    Case("partial", "instance mappings partial", mappings_partial, ["api"]),
]
