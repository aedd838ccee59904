"""Scenarios of PL103 allocation-on-wrong-provider: a live instance's allocation against
another host's compute node."""

from osfsck.checks.placement.allocation_on_wrong_provider import AllocationOnWrongProvider
from tests.checks.scenario import Case
from tests.support.world import MINUTE, World

CHECK = AllocationOnWrongProvider

_U1 = "00000000-0000-0000-0000-000000000001"


def on_other_host():
    w = World()
    u = w.instance(host="hv1")
    w.host_provider("hv1")
    w.allocate(u, "hv2")
    return w.snapshot()


def verify_other(out):
    (f,) = out.findings
    assert f.evidence["wrong_providers"] == [f.evidence["allocations"] and list(f.evidence["allocations"])[0]]
    assert "runs on hv1" in f.message and "hv2's provider" in f.message


def split_across_hosts():
    w = World()
    u = w.instance(host="hv1", vcpus=2)
    w.allocate(u, "hv1", disk_gb=0)
    w.allocate(u, "hv3", vcpus=0, memory_mb=0)      # its disk counted on hv3
    return w.snapshot()


def clean():
    w = World()
    for host in ("hv1", "hv2"):
        w.placed_instance(host)
    u = w.instance(host="hv1")                       # DISK_GB from a sharing provider
    w.allocate(u, "hv1", disk_gb=0)
    w.allocate(u, w.provider("ceph-pool", classes=("DISK_GB",)), vcpus=0, memory_mb=0)
    u = w.instance(host="hv1")                       # a vGPU from a child of its node's provider
    w.allocate(u, "hv1")
    w.allocate(u, w.provider("hv1_pci_0000_84_00_0", classes=("VGPU",), parent=w.host_provider("hv1")),
               vcpus=0, memory_mb=0, disk_gb=0)
    return w.snapshot()


def migrating_or_evacuated():
    w = World()
    u = w.instance(host="hv1")                       # live migration hv2 -> hv1 running
    w.allocate(u, "hv1")
    m = w.migration(u, type="live-migration", status="running", source="hv2", dest="hv1")
    w.allocate(w.migration_uuid(m), "hv2", consumer_type="MIGRATION")
    u = w.instance(host="hv3")                       # evacuated from hv4, which is still down
    w.allocate(u, "hv3")
    w.allocate(u, "hv4")
    w.migration(u, type="evacuation", status="done", source="hv4", dest="hv3")
    u = w.instance(host="hv1", updated_age=2 * MINUTE)   # just moved
    w.allocate(u, "hv2")
    return w.snapshot()


def cell_nodes_unreadable():
    w = World()
    u = w.instance(host="hv1")
    w.allocate(u, "hv2")
    from osfsck.model.facts.nova import ComputeNode
    w.partial(ComputeNode, "cell:cell1", "compute_nodes: read interrupted")
    return w.snapshot()


CASES = [
    Case("found", "allocated on another host's node", on_other_host, [("PL103", _U1)], verify=verify_other),
    Case("found", "part of it on another host", split_across_hosts, [("PL103", _U1)]),
    Case("clean", "own node, a sharing provider, a nested vGPU provider", clean),
    Case("near-miss", "migration in progress, evacuation not cleaned up, just moved", migrating_or_evacuated),
    Case("partial", "the cell's compute nodes are partial", cell_nodes_unreadable, ["cell:cell1"]),
]
