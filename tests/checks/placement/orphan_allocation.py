"""Scenarios of PL101 orphan-allocation: a consumer holding resources on a compute node that
is neither a live instance nor a migration in progress."""

from osfsck.checks.placement.orphan_allocation import OrphanAllocation
from osfsck.model.facts.nova import BuildRequest
from osfsck.model.finding import Confidence
from osfsck.model.scope import RunScope
from tests.checks.scenario import Case
from tests.support.world import DAY, MINUTE, World, uid

CHECK = OrphanAllocation


def deleted_instance():
    w = World()
    w.placed_instance("hv1")
    gone = w.instance(host="hv1", deleted=True, deleted_age=3 * DAY)
    w.allocate(gone, "hv1", vcpus=4, memory_mb=8192, disk_gb=40)
    return w.snapshot()


def verify_deleted(out):
    (f,) = out.findings
    assert "was deleted in cell:cell1" in f.message and "4 VCPU" in f.message
    assert f.reclaim == {"vcpus": 4, "memory_mb": 8192, "disk_bytes": 40 * 1024**3}
    assert f.evidence["consumer"]["consumer_type"] == "INSTANCE" and f.confidence == Confidence.HIGH


def archived_instance():
    w = World()
    gone = w.archived(host="hv2")
    w.allocate(gone, "hv2")
    return w.snapshot()


def unknown_consumer():
    w = World()
    w.placed_instance("hv1")
    ghost = w.new_uuid()
    w.allocate(ghost, "hv1", consumer_type=None)
    return w.snapshot(), ghost


def verify_unknown(out):
    (f,) = out.findings
    assert f.confidence == Confidence.MEDIUM and "unknown to the API database and every cell" in f.message


def confirmed_migration_kept_source():
    # a failed confirm: the migration's consumer still holds the source host
    w = World()
    u = w.placed_instance("hv2")
    m = w.migration(u, type="resize", status="confirmed", source="hv1", dest="hv2", age=DAY)
    w.allocate(w.migration_uuid(m), "hv1", consumer_type="MIGRATION")
    return w.snapshot(), w.migration_uuid(m)


def clean():
    w = World()
    for host in ("hv1", "hv2", "hv3"):
        w.placed_instance(host)
    u = w.placed_instance("hv2")  # resized hv1 -> hv2, not yet confirmed
    m = w.migration(u, type="resize", status="finished", source="hv1", dest="hv2")
    w.allocate(w.migration_uuid(m), "hv1", consumer_type="MIGRATION")
    return w.snapshot()


def scheduled_not_claimed():
    # nova-manage placement audit's race: the scheduler claimed, the compute has not set the host
    w = World()
    w.allocate(w.instance(host=None, vm_state="building", task_state="scheduling", age=MINUTE), "hv1")
    w.allocate(w.build_request(age=30), "hv2")  # still a build request
    u = w.new_uuid()
    w.mapping(u, None, age=20)  # mapped, no cell yet
    w.allocate(u, "hv1")
    return w.snapshot()


def live_migration_in_progress():
    w = World()
    u = w.placed_instance("hv2")
    m = w.migration(u, type="live-migration", status="running", source="hv1", dest="hv2")
    w.allocate(w.migration_uuid(m), "hv1", consumer_type="MIGRATION")
    return w.snapshot()


def deleted_just_now():
    w = World()
    gone = w.instance(host="hv1", deleted=True, deleted_age=5 * MINUTE)
    w.allocate(gone, "hv1")
    return w.snapshot()


def not_novas():
    # another service's consumer, and DISK_GB on a sharing storage provider only
    w = World()
    w.allocate(w.new_uuid(), "hv1", consumer_type="BLAZAR_RESERVATION")
    shared = w.provider("ceph-pool", classes=("DISK_GB",))
    w.allocate(w.instance(host="hv1", deleted=True, deleted_age=3 * DAY), shared, vcpus=0, memory_mb=0)
    return w.snapshot()


def cell_unreadable():
    w = World()
    w.cell("cell2")
    w.placed_instance("hv1")
    w.allocate(w.new_uuid(), "hv1", consumer_type=None)
    w.cell_down("cell2")
    return w.snapshot()


def placement_unreadable():
    w = World()
    w.placed_instance("hv1")
    w.placement_down()
    return w.snapshot()


def _first(build):
    return lambda: build()[0]


_UNKNOWN = "00000000-0000-0000-0000-000000000002"
_MIGRATION = "00000000-0000-3161-0000-000000000001"


def build_requests_partial():
    # a consumer no cell knows: it may be a server being built (the scheduler claimed it)
    w = World()
    w.placed_instance("hv1")
    w.allocate(w.new_uuid(), "hv1")
    w.partial(BuildRequest, "api", "nova_api: SELECT from build_requests interrupted")
    return w.snapshot()


def mapped_to_a_cell_the_partial_list_lacks():
    # its mapping names a cell missing from a cell list read only in part
    w = World()
    w.placed_instance("hv1")
    gone = w.instance(cell="cell2", host="hv3", deleted=True, deleted_age=3 * DAY)
    w.allocate(gone, "hv1")
    snap = w.snapshot()
    snap.facts["nova.cell"] = [c for c in snap.facts["nova.cell"] if c.name != "cell2"]
    cov = snap.coverage[("nova.cell", "api")]
    snap.coverage[("nova.cell", "api")] = cov.__class__(
        cov.kind, cov.scope, cov.source, False, "nova_api: SELECT from cell_mappings interrupted", cov.collected_at
    )
    return snap


def scoped_consumer_of_another_cell():
    # --cell cell1: the allocation of cell2's deleted instance (an orphan for a whole run)
    # lies outside the scope
    w = World()
    w.placed_instance("hv1")
    gone = w.instance(cell="cell2", host="hv2", deleted=True, deleted_age=3 * DAY)
    w.allocate(gone, "hv2")
    return w.snapshot(RunScope(cells=("cell1",)))


def scoped_orphan_of_the_cell():
    w = World()
    w.placed_instance("hv1")
    gone = w.instance(host="hv1", deleted=True, deleted_age=3 * DAY)
    w.allocate(gone, "hv1", vcpus=4, memory_mb=8192, disk_gb=40)
    w.placed_instance("hv2", cell="cell2")
    return w.snapshot(RunScope(cells=("cell1",)))


CASES = [
    Case(
        "found",
        "allocation of a deleted instance",
        deleted_instance,
        [("PL101", "00000000-0000-0000-0000-000000000002")],
        verify=verify_deleted,
    ),
    Case(
        "found",
        "allocation of an archived instance",
        archived_instance,
        [("PL101", "00000000-0000-0000-0000-000000000001")],
    ),
    Case("found", "a consumer nobody knows", _first(unknown_consumer), [("PL101", _UNKNOWN)], verify=verify_unknown),
    Case(
        "found",
        "a confirmed resize's migration still holds the source",
        _first(confirmed_migration_kept_source),
        [("PL101", _MIGRATION)],
    ),
    Case("clean", "every consumer is a live instance or a migration in progress", clean),
    Case(
        "near-miss",
        "scheduled, not yet claimed (no host, build request, mapping without a cell)",
        scheduled_not_claimed,
    ),
    Case("near-miss", "live migration in progress holds the source", live_migration_in_progress),
    Case("near-miss", "instance deleted minutes ago", deleted_just_now),
    Case("near-miss", "another service's consumer; a sharing provider", not_novas),
    Case("partial", "a cell could not be read", cell_unreadable, ["cell:cell2"]),
    Case("partial", "Placement could not be read", placement_unreadable, ["placement"]),
    Case("partial", "build requests partial", build_requests_partial, ["api"]),
    Case(
        "partial", "mapped to a cell missing from a partial cell list", mapped_to_a_cell_the_partial_list_lacks, ["api"]
    ),
    Case("near-miss", "in --cell cell1: another cell's orphan is not asked about", scoped_consumer_of_another_cell),
    Case("found", "in --cell cell1: the cell's own orphan", scoped_orphan_of_the_cell, [("PL101", uid(2))]),
]
