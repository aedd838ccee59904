"""Facts read from Placement: resource providers, their inventories, allocations and
consumers.  Placement has no soft delete: a row is there or it is not.

Placement keys everything by integer ids internally (a resource class id, a provider id,
a project id); the facts carry what the API shows instead (the class's name, the
provider's uuid, Keystone's project id), resolved by the source's JOINs.  Its scope is
"placement".
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from osfsck.model.facts.base import fact_type

PLACEMENT_SCOPE = "placement"

# consumer_types.name as Nova sets it (nova/scheduler/client/report.py, microversion 1.38);
# consumers written before 1.38 have no type (NULL): Placement reports them as "unknown"
CONSUMER_INSTANCE, CONSUMER_MIGRATION = "INSTANCE", "MIGRATION"

# What a compute node's provider holds (nova/virt/libvirt/driver.py update_provider_tree):
# a root provider with one of these is a compute node's, not a sharing (storage) provider
COMPUTE_CLASSES = frozenset({"VCPU", "PCPU", "MEMORY_MB"})

# Placement's standard resource classes: os_resource_classes.STANDARDS (os-resource-classes
# 1.1), in order.  Placement stores each as a resource_classes row whose id is its index
# (resource_class._resource_classes_sync, at start-up); custom classes have ids from 10000.
STANDARD_CLASSES = (
    "VCPU",
    "MEMORY_MB",
    "DISK_GB",
    "PCI_DEVICE",
    "SRIOV_NET_VF",
    "NUMA_SOCKET",
    "NUMA_CORE",
    "NUMA_THREAD",
    "NUMA_MEMORY_MB",
    "IPV4_ADDRESS",
    "VGPU",
    "VGPU_DISPLAY_HEAD",
    "NET_BW_EGR_KILOBIT_PER_SEC",
    "NET_BW_IGR_KILOBIT_PER_SEC",
    "PCPU",
    "MEM_ENCRYPTION_CONTEXT",
    "FPGA",
    "PGPU",
    "NET_PACKET_RATE_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
)


@fact_type("placement.resource_provider", scope_field="scope")
class ResourceProvider(NamedTuple):
    """A row of `resource_providers`, its root and parent by uuid.  A compute node's
    provider has the compute node's uuid and its hypervisor_hostname as name."""

    scope: str
    uuid: str
    name: str | None
    generation: int | None
    root_provider_uuid: str | None
    parent_provider_uuid: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@fact_type("placement.inventory", scope_field="scope")
class Inventory(NamedTuple):
    """A row of `inventories`: how much of one resource class a provider offers."""

    scope: str
    provider_uuid: str
    resource_class: str
    total: int
    reserved: int
    min_unit: int
    max_unit: int
    step_size: int
    allocation_ratio: float


@fact_type("placement.allocation", scope_field="scope")
class Allocation(NamedTuple):
    """A row of `allocations`: `used` units of one resource class of one provider held by
    one consumer (an instance's or a migration's uuid).  A large cloud has 10^5-10^6 of
    them: built with tuple.__new__ from the row, names resolved in SQL."""

    scope: str
    consumer_uuid: str
    provider_uuid: str
    resource_class: str
    used: int


@fact_type("placement.consumer", scope_field="scope")
class Consumer(NamedTuple):
    """A row of `consumers` with its project and user as Keystone ids and its type's name
    (None for a consumer written before microversion 1.38)."""

    scope: str
    uuid: str
    project_id: str | None
    user_id: str | None
    generation: int
    consumer_type: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
