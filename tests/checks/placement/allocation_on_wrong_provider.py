"""Scenarios of PL103 allocation-on-wrong-provider: a live instance's allocation against
another host's compute node."""

from osfsck.checks.placement.allocation_on_wrong_provider import AllocationOnWrongProvider
from osfsck.model.facts.nova import Migration
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
    w.allocate(u, "hv3", vcpus=0, memory_mb=0)  # its disk counted on hv3
    return w.snapshot()


def clean():
    w = World()
    for host in ("hv1", "hv2"):
        w.placed_instance(host)
    u = w.instance(host="hv1")  # DISK_GB from a sharing provider
    w.allocate(u, "hv1", disk_gb=0)
    w.allocate(u, w.provider("ceph-pool", classes=("DISK_GB",)), vcpus=0, memory_mb=0)
    u = w.instance(host="hv1")  # a vGPU from a child of its node's provider
    w.allocate(u, "hv1")
    w.allocate(
        u,
        w.provider("hv1_pci_0000_84_00_0", classes=("VGPU",), parent=w.host_provider("hv1")),
        vcpus=0,
        memory_mb=0,
        disk_gb=0,
    )
    return w.snapshot()


def migrating_or_evacuated():
    w = World()
    u = w.instance(host="hv1")  # live migration hv2 -> hv1 running
    w.allocate(u, "hv1")
    m = w.migration(u, type="live-migration", status="running", source="hv2", dest="hv1")
    w.allocate(w.migration_uuid(m), "hv2", consumer_type="MIGRATION")
    u = w.instance(host="hv3")  # evacuated from hv4, which is still down
    w.allocate(u, "hv3")
    w.allocate(u, "hv4")
    w.migration(u, type="evacuation", status="done", source="hv4", dest="hv3")
    u = w.instance(host="hv1", updated_age=2 * MINUTE)  # just moved
    w.allocate(u, "hv2")
    return w.snapshot()


def cell_nodes_unreadable():
    w = World()
    u = w.instance(host="hv1")
    w.allocate(u, "hv2")
    from osfsck.model.facts.nova import ComputeNode

    w.partial(ComputeNode, "cell:cell1", "compute_nodes: read interrupted")
    return w.snapshot()


def migrations_partial():
    w = World()
    u = w.instance(host="hv1")
    w.host_provider("hv1")
    w.allocate(u, "hv2")
    w.partial(Migration, "cell:cell1", "cell1: SELECT from migrations interrupted")
    return w.snapshot()


def wrong_node_in_a_cell_of_unread_nodes():
    # hv2's compute node row could not be read: its provider is not known as a node
    w = World()
    u = w.instance(host="hv1")
    w.host_provider("hv1")
    w.allocate(u, "hv2")
    snap = w.snapshot()
    snap.facts["nova.compute_node"] = [n for n in snap.facts["nova.compute_node"] if n.host != "hv2"]
    w2 = snap.coverage[("nova.compute_node", "cell:cell1")]
    snap.coverage[("nova.compute_node", "cell:cell1")] = w2.__class__(
        w2.kind, w2.scope, w2.source, False, "cell1: SELECT from compute_nodes interrupted", w2.collected_at
    )
    return snap


CASES = [
    Case("found", "allocated on another host's node", on_other_host, [("PL103", _U1)], verify=verify_other),
    Case("found", "part of it on another host", split_across_hosts, [("PL103", _U1)]),
    Case("clean", "own node, a sharing provider, a nested vGPU provider", clean),
    Case("near-miss", "migration in progress, evacuation not cleaned up, just moved", migrating_or_evacuated),
    Case("partial", "the cell's compute nodes are partial", cell_nodes_unreadable, ["cell:cell1"]),
    Case("partial", "the cell's migrations are partial", migrations_partial, ["cell:cell1"]),
    Case(
        "partial",
        "the other host's compute node could not be read",
        wrong_node_in_a_cell_of_unread_nodes,
        ["cell:cell1"],
    ),
]
