"""Scenarios of NT101 orphan-port: a compute port whose instance is gone from every cell."""

from osfsck.checks.network.orphan_port import OrphanPort
from osfsck.model.facts.nova import BuildRequest
from osfsck.model.scope import RunScope
from tests.checks.scenario import Case
from tests.support.world import DAY, MINUTE, World
from tests.support.world_neutron import port_uid

CHECK = OrphanPort


def deleted_instance():
    w = World()
    w.instance_port(w.instance())  # port 1: a live one
    gone = w.instance(host="hv1", deleted=True, deleted_age=2 * DAY)
    w.port(gone, host="hv1", age=3 * DAY)  # port 2
    return w.snapshot()


def archived_and_unknown():
    w = World()
    w.port(w.archived(), host=None, age=40 * DAY)  # port 1
    w.port(w.new_uuid(), device_owner="compute:az2", host="hv1")  # port 2: no such instance anywhere
    return w.snapshot()


def verify_deleted(out):
    (f,) = out.findings
    assert f.evidence["owner"]["state"] == "deleted" and f.evidence["owner"]["cell"] == "cell1"
    assert "was deleted in cell:cell1" in f.message and "bound to hv1" in f.message
    assert f.evidence["bindings"] == [{"port_id": port_uid(2), "host": "hv1", "status": "ACTIVE", "vif_type": "ovs"}]
    assert f.related[0].kind == "instance"


def verify_unknown(out):
    states = {f.subject.id: f.evidence["owner"]["state"] for f in out.findings}
    assert states == {port_uid(1): "archived", port_uid(2): "unknown"}


def clean():
    w = World()
    for host in ("hv1", "hv2"):
        u = w.instance(host=host)
        w.instance_port(u)
        w.instance_port(u)
    net = w.network()
    w.router_interface(w.router(), net)
    w.port("dhcp" + "0" * 32, device_owner="network:dhcp", host="hv1", network_id=net)
    w.port("", device_owner="", host=None)
    return w.snapshot()


def booting_now():
    # a port made seconds ago for a server still a build request, and one for an
    # instance still building in its cell
    w = World()
    w.port(w.build_request(age=20), host=None, age=15)
    w.port(w.build_request(age=2 * DAY), host=None, age=2 * DAY)  # even an old build request: not ours to judge
    u = w.instance(vm_state="building", task_state="spawning", age=MINUTE)
    w.instance_port(u, age=30)
    return w.snapshot()


def mid_migration():
    w = World()
    u = w.instance(host="hv2", task_state="migrating")
    w.migration(u, type="live-migration", status="running", source="hv1", dest="hv2")
    p = w.instance_port(u, host="hv1")
    w.binding(p, "hv2")
    return w.snapshot()


def router_and_spare_ports():
    w = World()
    w.router_interface(w.router())
    w.port("", host=None)  # compute:nova but no device: a spare port
    w.port("", device_owner="", host=None)  # made by hand, never used
    return w.snapshot()


def shelved_offloaded():
    w = World()
    u = w.instance(host=None, vm_state="shelved_offloaded")
    w.instance_port(u, host=None)
    return w.snapshot()


def deleted_a_moment_ago():
    w = World()
    gone = w.instance(deleted=True, deleted_age=5 * MINUTE)
    w.port(gone, age=DAY)
    return w.snapshot()


def new_port_of_unknown_uuid():
    w = World()
    w.instance()
    w.port(w.new_uuid(), age=10 * MINUTE)
    return w.snapshot()


def neutron_down():
    w = World()
    w.port(w.instance(deleted=True, deleted_age=2 * DAY))
    w.neutron_down()
    return w.snapshot()


def cell_down():
    w = World()
    w.instance(cell="cell1")
    w.port(w.instance(cell="cell2", host="hv2", mapped=False), host="hv2")  # its cell is down, no mapping
    w.cell_down("cell2")
    return w.snapshot()


def cell_down_but_mapped_elsewhere():
    # the mapping names the complete cell1: the port of its deleted instance is decided
    w = World()
    gone = w.instance(cell="cell1", deleted=True, deleted_age=3 * DAY)
    w.port(gone)
    w.cell("cell2")
    w.cell_down("cell2")
    return w.snapshot()


def mapped_to_a_cell_without_it():
    # the instance lives in cell2, which is down, but its mapping names cell1 (a mapping in
    # the wrong cell): cell1, read whole, has no row of it, so the mapping proves nothing
    w = World()
    w.instance(cell="cell1")
    w.port(w.instance(cell="cell2", host="hv2", mapped="cell1"), host="hv2")
    w.cell_down("cell2")
    return w.snapshot()


def build_requests_partial():
    # an old port of a uuid no cell knows: it may be a server still being built
    w = World()
    w.port(w.new_uuid(), host=None, age=2 * DAY)
    w.partial(BuildRequest, "api", "nova_api: SELECT from build_requests interrupted")
    return w.snapshot()


def scoped_owner_may_be_in_another_cell():
    # --cell cell1: a port whose owner nothing read knows (no mapping) may be cell2's
    w = World()
    w.instance_port(w.instance())
    w.instance(cell="cell2", host="hv2")
    w.port(w.new_uuid(), device_owner="compute:nova", host="hv1", age=3 * DAY)
    return w.snapshot(RunScope(cells=("cell1",)))


def scoped_owner_in_a_cell_outside():
    # --cell cell1: the port of an instance mapped to cell2 (deleted there: an orphan a
    # whole run reports) lies outside the scope: neither a finding nor undecided
    w = World()
    w.instance_port(w.instance())
    gone = w.instance(cell="cell2", host="hv2", deleted=True, deleted_age=2 * DAY)
    w.port(gone, host="hv2", age=3 * DAY)
    return w.snapshot(RunScope(cells=("cell1",)))


CASES = [
    Case("found", "instance deleted", deleted_instance, [("NT101", port_uid(2))], verify=verify_deleted),
    Case(
        "found",
        "instance archived or unknown",
        archived_and_unknown,
        [("NT101", port_uid(1)), ("NT101", port_uid(2))],
        verify=verify_unknown,
    ),
    Case(
        "found",
        "a cell is down but the mapping names the cell that was read",
        cell_down_but_mapped_elsewhere,
        [("NT101", port_uid(1))],
    ),
    Case("clean", "every port has its instance", clean),
    Case("near-miss", "ports of servers being built", booting_now),
    Case("near-miss", "instance mid-migration", mid_migration),
    Case("near-miss", "router interface and spare ports", router_and_spare_ports),
    Case("near-miss", "shelved-offloaded instance", shelved_offloaded),
    Case("near-miss", "instance deleted minutes ago", deleted_a_moment_ago),
    Case("near-miss", "new port for a uuid Nova does not know yet", new_port_of_unknown_uuid),
    Case("partial", "Neutron unreadable", neutron_down, ["neutron"]),
    Case("partial", "the owner may be in the cell that is down", cell_down, ["cell:cell2"]),
    Case("partial", "build requests partial", build_requests_partial, ["api"]),
    Case(
        "partial",
        "the mapping names a cell read whole that has no row of it: the owner may be in the cell that is down",
        mapped_to_a_cell_without_it,
        ["cell:cell2"],
    ),
    Case(
        "partial",
        "in --cell cell1: an owner no mapping names may be in a cell outside the scope",
        scoped_owner_may_be_in_another_cell,
        ["outside-scope"],
    ),
    Case(
        "near-miss",
        "in --cell cell1: the port of another cell's instance is not asked about",
        scoped_owner_in_a_cell_outside,
    ),
]
