"""Scenarios of PL104 orphan-resource-provider: a compute node's provider whose compute node
is gone."""

from osfsck.checks.placement.orphan_resource_provider import OrphanResourceProvider
from tests.checks.scenario import Case
from tests.support.world import MINUTE, World
from tests.support.world_placement import provider_uid

CHECK = OrphanResourceProvider


def decommissioned_host():
    w = World()
    w.placed_instance("hv1")
    w.provider("hv-gone")
    return w.snapshot()


def verify_gone(out):
    (f,) = out.findings
    assert "hv-gone" in f.message and "no cell has a compute node" in f.message
    assert f.evidence["offers"] == ["MEMORY_MB", "VCPU"] and f.evidence["consumers"] == []


def renamed_node_name_taken():
    # the compute node was re-created with a new uuid; the old provider keeps the name
    w = World()
    w.host("hv1")
    old = w.provider("hv1", classes=("CUSTOM_BAREMETAL_GOLD",))
    w.allocate(w.new_uuid(), old, vcpus=0, memory_mb=0, disk_gb=0)
    return w.snapshot()


def verify_renamed(out):
    (f,) = out.findings
    assert "now has its name under uuid" in f.message and len(f.evidence["consumers"]) == 0


def with_children_and_consumers():
    w = World()
    gone = w.provider("hv-gone")
    w.provider("hv-gone_pci", classes=("VGPU",), parent=gone)
    w.allocate(w.new_uuid(), gone)
    return w.snapshot()


def verify_children(out):
    (f,) = out.findings
    assert len(f.evidence["children"]) == 1 and len(f.evidence["consumers"]) == 1
    assert "1 consumer(s) still hold allocations" in f.message


def clean():
    w = World()
    for host in ("hv1", "hv2"):
        w.placed_instance(host)
    w.provider("hv1_pci", classes=("VGPU",), parent=w.host_provider("hv1"))
    return w.snapshot()


def not_a_compute_nodes():
    w = World()
    w.placed_instance("hv1")
    w.provider("ceph-pool", classes=("DISK_GB",))  # a sharing provider
    w.provider("ironic-node-7", classes=("CUSTOM_BAREMETAL_GOLD",))
    w.provider("hv-new", age=5 * MINUTE)  # its compute node is being made
    return w.snapshot()


def a_cell_down():
    w = World()
    w.placed_instance("hv1")
    w.provider("hv-gone")
    w.cell("cell2")
    w.cell_down("cell2")
    return w.snapshot()


CASES = [
    Case(
        "found",
        "the provider of a decommissioned host",
        decommissioned_host,
        [("PL104", provider_uid(1))],
        verify=verify_gone,
    ),
    Case(
        "found",
        "a live node's name held by an old provider",
        renamed_node_name_taken,
        [("PL104", provider_uid(1))],
        verify=verify_renamed,
    ),
    Case(
        "found",
        "an orphan root with a child and a consumer",
        with_children_and_consumers,
        [("PL104", provider_uid(1))],
        verify=verify_children,
    ),
    Case("clean", "every compute provider has its node", clean),
    Case("near-miss", "sharing provider, Ironic node, a provider just made", not_a_compute_nodes),
    Case("partial", "a cell's compute nodes could not be read", a_cell_down, ["cell:cell2"]),
]
