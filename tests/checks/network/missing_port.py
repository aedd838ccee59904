"""Scenarios of NT104 missing-port: a live instance's network info names a port Neutron lacks."""

from osfsck.checks.network.missing_port import MissingPort
from osfsck.model.facts.nova import InstanceNetwork
from tests.checks.scenario import Case
from tests.support.world import DAY, MINUTE, World, uid

CHECK = MissingPort
GONE_PORT = "dead0000-0000-4000-8000-000000000001"


def port_deleted_behind_novas_back():
    w = World()
    u = w.instance(updated_age=DAY)  # uid(1)
    w.instance_port(u)
    w.cache_port(u, GONE_PORT, "10.0.9.9")
    w.instance_port(w.instance(updated_age=DAY))
    return w.snapshot()


def verify(out):
    (f,) = out.findings
    assert f.subject.scope == "cell:cell1" and f.evidence["port_id"] == GONE_PORT
    assert len(f.evidence["cached_ports"]) == 2 and "10.0.9.9" in f.evidence["cached_addresses"]
    assert [r.kind for r in f.related] == ["instance", "port"]


def clean():
    w = World()
    for host in ("hv1", "hv2"):
        u = w.instance(host=host)
        w.instance_port(u)
        w.instance_port(u)
    w.instance(host=None, vm_state="shelved_offloaded")  # no ports at all
    return w.snapshot()


def not_missing():
    w = World()
    w.neutron()
    # a cache changed minutes ago (an interface detach in flight), an instance still building
    u = w.instance(updated_age=2 * MINUTE)
    w.cache_port(u, GONE_PORT)
    b = w.instance(vm_state="building", task_state="networking", updated_age=DAY)
    w.cache_port(b, "dead0000-0000-4000-8000-000000000002")
    # a deleted instance keeps no ports in its cache (its ports are gone with it)
    g = w.instance(deleted=True, deleted_age=2 * DAY)
    w.cache_port(g, "dead0000-0000-4000-8000-000000000003")
    return w.snapshot()


def neutron_down():
    w = World()
    u = w.instance(updated_age=DAY)
    w.cache_port(u, GONE_PORT)
    w.neutron_down()
    return w.snapshot()


def cell_down():
    w = World()
    w.instance_port(w.instance(cell="cell1"))
    w.cell("cell2")
    w.cell_down("cell2")
    return w.snapshot()


def caches_unreadable():
    w = World()
    w.instance_port(w.instance(cell="cell1"))
    w.partial(InstanceNetwork, "cell:cell1", "instance_info_caches: read timed out")
    return w.snapshot()


CASES = [
    Case(
        "found",
        "port deleted behind Nova's back",
        port_deleted_behind_novas_back,
        [("NT104", f"{uid(1)}/{GONE_PORT}")],
        verify=verify,
    ),
    Case("clean", "every cached port exists", clean),
    Case("near-miss", "recent cache change, building and deleted instances", not_missing),
    Case("partial", "Neutron unreadable", neutron_down, ["neutron"]),
    Case("partial", "a cell is down", cell_down, ["cell:cell2"]),
    Case("partial", "a cell's network info caches could not be read", caches_unreadable, ["cell:cell1"]),
]
