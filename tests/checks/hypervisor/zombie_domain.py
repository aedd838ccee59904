"""Scenarios of HV101 zombie-domain: a domain whose instance was deleted or archived."""

from osfsck.checks.hypervisor.zombie_domain import ZombieDomain
from osfsck.model.facts.nova import ComputeNode, Instance, InstanceMapping
from osfsck.model.finding import Severity
from osfsck.model.scope import RunScope
from tests.checks.scenario import Case
from tests.support.world import DAY, World, uid

CHECK = ZombieDomain
GONE = uid(101)


def deleted_but_running():
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.instance(GONE, host="hv1", deleted=True, deleted_age=2 * DAY, vcpus=4, memory_mb=8192)
    w.domain("hv1", GONE, state=1)
    return w.snapshot()


def verify_running(out):
    (f,) = out.findings
    assert f.subject.scope == "host:hv1"
    assert "instance-00000002" in f.message and "deleted in cell:cell1" in f.message
    assert f.severity == Severity.HIGH
    assert f.reclaim == {"vcpus": 4, "memory_mb": 8192}
    assert f.evidence["instance"]["deleted"] is True
    assert f.changed_at == World().ago(2 * DAY)  # for the grace guard: when it was deleted


def archived_and_shut_off():
    w = World()
    w.archived(GONE, host="hv2", deleted_age=90 * DAY)
    w.domain("hv2", GONE, state=5)
    return w.snapshot()


def verify_archived(out):
    (f,) = out.findings
    assert "archived to shadow_instances" in f.message and "shut off" in f.message
    assert f.severity == Severity.MEDIUM and f.reclaim == {}
    assert f.evidence["archived_instance"]["cell"] == "cell1"


def named_only_by_pattern():
    # an older Nova wrote no metadata: the instance-%08x name is enough to call it Nova's
    w = World()
    w.instance(GONE, deleted=True)
    w.domain("hv1", GONE, nova=False)
    return w.snapshot()


def mapped_home_is_complete():
    # cell2's instances could not be read (its compute nodes, so its hosts, were), but the
    # mapping says the instance lived in cell1, read completely
    w = World()
    w.instance(GONE, cell="cell1", deleted=True, mapped=True)
    w.cell("cell2")
    w.partial(Instance, "cell:cell2", "cell2: SELECT from instances interrupted")
    w.domain("hv1", GONE)
    return w.snapshot()


def clean():
    w = World()
    for host in ("hv1", "hv2"):
        w.domain(host, w.instance(host=host))
    w.instance(host="hv1", deleted=True)  # deleted and cleaned up: no domain
    return w.snapshot()


def soft_deleted_through_the_api():
    # vm_state soft-delete keeps a live row: restorable until reclaim_instance_interval
    w = World()
    u = w.instance(vm_state="soft-delete", task_state=None)
    w.domain("hv1", u, state=5)
    return w.snapshot()


def hand_made_domain():
    # a domain defined by hand that happens to reuse a deleted instance's uuid
    w = World()
    w.instance(GONE, deleted=True)
    w.domain("hv1", GONE, name="win2019-build-agent", nova=False)
    return w.snapshot()


def moved_to_another_cell():
    # cross-cell resize: the source copy is deleted, the instance lives on in cell2
    w = World()
    w.instance(GONE, cell="cell1", host="hv1", deleted=True, mapped=False)
    w.instance(GONE, cell="cell2", host="hv3", mapped=True)
    w.domain("hv3", GONE)
    return w.snapshot()


def cell_down():
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.host("hv3", cell="cell2")
    u = w.instance(cell="cell2", host="hv3", deleted=True)  # lost with cell2's database
    w.domain("hv3", u)
    w.cell_down("cell2")
    return w.snapshot()


def api_partial():
    w = World()
    w.instance(GONE, deleted=True)
    w.domain("hv1", GONE)
    w.partial(InstanceMapping, "api", "instance_mappings: query timed out")
    return w.snapshot()


def a_host_could_not_be_listed():
    # a zombie on hv2 cannot be seen while hv2 is unreachable: the check says so
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.instance(GONE, host="hv2", deleted=True, deleted_age=2 * DAY)
    w.host_unreachable("hv2")
    return w.snapshot()


def the_cells_compute_nodes_unread():
    # cell2's compute nodes could not be read: its hosts were never listed, nor read
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.cell("cell2")
    w.partial(ComputeNode, "cell:cell2", "cell2: SELECT from compute_nodes interrupted")
    return w.snapshot()


def scoped_zombie_on_a_host_of_the_cell():
    # --cell cell1: a zombie on cell1's host is found; cell2 and its host hv2 are not read,
    # so the zombie there is not seen (nor asked about)
    w = World()
    w.instance(GONE, host="hv1", deleted=True)
    w.domain("hv1", GONE)
    elsewhere = w.instance(cell="cell2", host="hv2", deleted=True)
    w.domain("hv2", elsewhere)
    return w.snapshot(RunScope(cells=("cell1",)))


def scoped_instance_in_a_cell_outside():
    # --cell cell1: a domain on cell1's host whose instance lives (deleted) in cell2, which
    # is not read: its instance may be live there (a zombie only because cell2 was not read)
    w = World()
    w.host("hv1", cell="cell1")
    w.instance(GONE, cell="cell2", host="hv2", deleted=True)
    w.domain("hv1", GONE)
    return w.snapshot(RunScope(cells=("cell1",)))


CASES = [
    Case(
        "found", "deleted instance, domain still running", deleted_but_running, [("HV101", GONE)], verify=verify_running
    ),
    Case(
        "found",
        "archived instance, domain only defined",
        archived_and_shut_off,
        [("HV101", GONE)],
        verify=verify_archived,
    ),
    Case("found", "domain known by its name pattern only", named_only_by_pattern, [("HV101", GONE)]),
    Case(
        "found",
        "a partial cell does not matter when the mapping names a complete one",
        mapped_home_is_complete,
        [("HV101", GONE)],
    ),
    Case("clean", "every domain belongs to a live instance", clean),
    Case("near-miss", "instance soft-deleted through the API (restorable)", soft_deleted_through_the_api),
    Case("near-miss", "hand-made domain without metadata and another name", hand_made_domain),
    Case("near-miss", "source copy deleted after a cross-cell move", moved_to_another_cell),
    Case("partial", "the instance's cell is down and nothing maps it elsewhere", cell_down, ["cell:cell2"]),
    Case("partial", "instance mappings partial", api_partial, ["api"]),
    Case("partial", "a host could not be listed", a_host_could_not_be_listed, ["host:hv2"]),
    Case("partial", "a cell's compute nodes (its hosts) unread", the_cells_compute_nodes_unread, ["cell:cell2"]),
    Case(
        "found",
        "in --cell cell1: a zombie on a host of the cell",
        scoped_zombie_on_a_host_of_the_cell,
        [("HV101", GONE)],
    ),
    Case(
        "partial",
        "in --cell cell1: a domain on its host whose instance is in a cell outside the scope",
        scoped_instance_in_a_cell_outside,
        ["outside-scope"],
    ),
]
