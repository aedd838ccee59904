"""Scenarios of NT102 port-bound-to-dead-host: a port bound to a host without nova-compute."""

from osfsck.checks.network.port_bound_to_dead_host import PortBoundToDeadHost
from osfsck.model.facts.nova import ComputeService, Instance, Migration
from osfsck.model.finding import Confidence
from tests.checks.scenario import Case
from tests.support.world import DAY, HOUR, MINUTE, World
from tests.support.world_neutron import port_uid

CHECK = PortBoundToDeadHost


def without_service(snap, host):
    """The snapshot as if `openstack compute service delete` had removed `host`'s service."""
    snap.facts[ComputeService.kind] = [s for s in snap.facts[ComputeService.kind] if s.host != host]
    return snap


def evacuated_but_bound_to_the_old_host():
    w = World()
    w.host("hv1")
    u = w.instance(host="hv2")
    w.migration(u, type="evacuation", status="done", source="hv-gone", dest="hv2", age=DAY)
    w.instance_port(u, host="hv-gone")  # port 1
    w.instance_port(w.instance(host="hv1"))  # port 2: fine
    return without_service(w.snapshot(), "hv-gone")


def stranded_on_a_deleted_host():
    # the service row of hv9 was deleted while an instance still ran there
    w = World()
    w.host("hv1")
    w.instance_port(w.instance(host="hv9"), host="hv9")
    return without_service(w.snapshot(), "hv9")


def verify_moved(out):
    (f,) = out.findings
    assert f.confidence == Confidence.HIGH and f.evidence["service"] is None
    assert "hv-gone" in f.message and "the instance is on hv2" in f.message


def verify_stranded(out):
    (f,) = out.findings
    assert "the instance's own host" in f.message and f.evidence["instance"]["host"] == "hv9"


def forced_down():
    w = World()
    w.instance_port(w.instance(host="hv1"))
    w.instance_port(w.instance(host="hv3"))
    snap = w.snapshot()
    snap.facts[ComputeService.kind] = [
        s._replace(forced_down=1) if s.host == "hv3" else s for s in snap.facts[ComputeService.kind]
    ]
    return snap


def verify_forced(out):
    (f,) = out.findings
    assert f.confidence == Confidence.LOW and f.evidence["service"]["forced_down"] is True
    assert "is forced down" in f.message


def clean():
    w = World()
    for host in ("hv1", "hv2"):
        w.instance_port(w.instance(host=host))
    w.instance_port(w.instance(host="hv3", cell="cell2"))  # a host of another cell
    return w.snapshot()


def not_dead():
    w = World()
    # a host whose heartbeat is late: a host failure, not a dead host
    w.instance_port(w.instance(host="hv4"))
    # an instance being migrated away from a host whose service was just removed
    u = w.instance(host="hv1", task_state="migrating")
    w.migration(u, type="live-migration", status="running", source="hv-old", dest="hv1", age=10 * MINUTE)
    w.instance_port(u, host="hv-old")
    # a port rebound minutes ago, an unbound port, and an orphan port (orphan-port's subject)
    w.instance_port(w.instance(host="hv1"), host="hv-new", updated_age=5 * MINUTE)
    w.instance_port(w.instance(host=None, vm_state="shelved_offloaded"), host=None)
    w.port(w.instance(host="hv1", deleted=True), host="hv-gone")
    snap = without_service(without_service(w.snapshot(), "hv-old"), "hv-gone")
    snap.facts[ComputeService.kind] = [
        s._replace(updated_at=w.ago(3 * HOUR), last_seen_up=w.ago(3 * HOUR)) if s.host == "hv4" else s
        for s in snap.facts[ComputeService.kind]
    ]
    return snap


def neutron_down():
    w = World()
    w.instance_port(w.instance(host="hv2"), host="hv-gone")
    w.neutron_down()
    return w.snapshot()


def cell_down():
    w = World()
    w.instance_port(w.instance(host="hv1"), host="hv5")  # hv5 may be a host of cell2
    w.cell_down("cell2")
    return w.snapshot()


def migrations_partial():
    # bound to a host whose service is gone; a migration away from it may be running
    w = World()
    u = w.instance(host="hv1")
    w.instance_port(u, host="hv-old")
    w.partial(Migration, "cell:cell1", "cell1: SELECT from migrations interrupted")
    return without_service(w.snapshot(), "hv-old")


def owner_row_unread():
    # the port's instance lives in cell2, whose instances could not be read
    w = World()
    w.host("hv1")
    w.host("hv3", cell="cell2")
    w.instance_port(w.instance(cell="cell2", host="hv3"), host="hv-gone")
    w.partial(Instance, "cell:cell2", "cell2: SELECT from instances interrupted")
    snap = without_service(w.snapshot(), "hv-gone")
    snap.facts[Instance.kind] = [i for i in snap.facts[Instance.kind] if i.cell != "cell2"]
    return snap


CASES = [
    Case(
        "found",
        "evacuated, still bound to the old host",
        evacuated_but_bound_to_the_old_host,
        [("NT102", port_uid(1))],
        verify=verify_moved,
    ),
    Case(
        "found",
        "instance stranded on a deleted host",
        stranded_on_a_deleted_host,
        [("NT102", port_uid(1))],
        verify=verify_stranded,
    ),
    Case("found", "host forced down (low confidence)", forced_down, [("NT102", port_uid(2))], verify=verify_forced),
    Case("clean", "every binding on a live compute host", clean),
    Case("near-miss", "late heartbeat, migration, recent rebind, unbound and orphan ports", not_dead),
    Case("partial", "Neutron unreadable", neutron_down, ["neutron"]),
    Case("partial", "the host may be in the cell that is down", cell_down, ["cell:cell2"]),
    Case("partial", "the cell's migrations are partial", migrations_partial, ["cell:cell1"]),
    Case(
        "partial",
        "the port's instance is in a cell whose instances could not be read",
        owner_row_unread,
        ["cell:cell2"],
    ),
]
