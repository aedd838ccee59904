"""Scenarios of NT105 orphan-floating-ip-association: a floating IP on an orphan port."""

from osfsck.checks.network.orphan_floating_ip_association import OrphanFloatingIpAssociation
from tests.checks.scenario import Case
from tests.support.world import DAY, MINUTE, World
from tests.support.world_neutron import fip_uid, port_uid

CHECK = OrphanFloatingIpAssociation


def on_deleted_instance():
    w = World()
    r = w.router()
    live = w.instance_port(w.instance())  # port 1
    w.floating_ip(live, router_id=r)  # fip 1 (port 2)
    gone = w.instance(deleted=True, deleted_age=2 * DAY)
    w.floating_ip(w.port(gone, age=3 * DAY), router_id=r)  # port 3, fip 2 (port 4)
    return w.snapshot()


def verify(out):
    (f,) = out.findings
    assert f.evidence["port"]["id"] == port_uid(3) and f.evidence["floating_ip"]["router_id"]
    assert "203.0.113.2" in f.message and "was deleted in cell:cell1" in f.message
    assert [r.kind for r in f.related] == ["port", "instance"]


def clean():
    w = World()
    r = w.router()
    for host in ("hv1", "hv2"):
        w.floating_ip(w.instance_port(w.instance(host=host)), router_id=r)
    w.floating_ip()  # allocated, not associated
    return w.snapshot()


def not_orphans():
    w = World()
    r = w.router()
    # an instance mid-migration, a shelved-offloaded one, a server being built
    u = w.instance(host="hv2", task_state="migrating")
    w.migration(u, type="live-migration", status="running")
    w.floating_ip(w.instance_port(u, host="hv1"), router_id=r)
    w.floating_ip(w.instance_port(w.instance(host=None, vm_state="shelved_offloaded"), host=None), router_id=r)
    w.floating_ip(w.port(w.build_request(age=30), host=None, age=20), router_id=r)
    # a floating IP on a port that is not a compute port (a load balancer's VIP)
    w.floating_ip(w.port("lb" + "0" * 34, device_owner="Octavia", host=None), router_id=r)
    return w.snapshot()


def associated_just_now():
    w = World()
    gone = w.instance(deleted=True, deleted_age=2 * DAY)
    w.floating_ip(w.port(gone, age=2 * DAY), router_id=w.router(), age=MINUTE)
    return w.snapshot()


def neutron_down():
    w = World()
    gone = w.instance(deleted=True, deleted_age=2 * DAY)
    w.floating_ip(w.port(gone), router_id=w.router())
    w.neutron_down()
    return w.snapshot()


def cell_down():
    w = World()
    w.instance(cell="cell1")
    u = w.instance(cell="cell2", host="hv2", mapped=False)
    w.floating_ip(w.port(u, host="hv2"), router_id=w.router())
    w.cell_down("cell2")
    return w.snapshot()


CASES = [
    Case(
        "found",
        "floating IP on the port of a deleted instance",
        on_deleted_instance,
        [("NT105", fip_uid(2))],
        verify=verify,
    ),
    Case("clean", "floating IPs on live instances, one unassociated", clean),
    Case("near-miss", "migrating, shelved-offloaded, building and load balancer ports", not_orphans),
    Case("near-miss", "associated a minute ago", associated_just_now),
    Case("partial", "Neutron unreadable", neutron_down, ["neutron"]),
    Case("partial", "the port's instance may be in the cell that is down", cell_down, ["cell:cell2"]),
]
