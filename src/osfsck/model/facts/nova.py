"""Facts read from Nova's API database and cell databases.

Timestamps are naive datetimes in UTC, as Nova stores them.  `cell` is the cell's name
(or its uuid when it has no name); the API database's scope is "api".
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from osfsck.model.facts.base import fact_type
from osfsck.model.facts.cinder import IscsiPath

API_SCOPE = "api"


def cell_scope(cell: str) -> str:
    return f"cell:{cell}"


@fact_type("nova.cell", scope_field="scope")
class Cell(NamedTuple):
    """A row of the API database's cell_mappings."""

    scope: str  # always "api"
    uuid: str
    name: str
    disabled: bool


@fact_type("nova.instance", scope_field="cell")
class Instance(NamedTuple):
    """A row of a cell's `instances` table, live or soft-deleted (deleted != 0).

    Flags are as the database stores them (0/1), not converted to bool: test them for
    truth.  Converting a million of them would cost more than reading them."""

    cell: str
    uuid: str
    id: int  # the cell-local primary key; the domain name is instance-%08x of it
    host: str | None
    node: str | None
    vm_state: str | None
    task_state: str | None
    power_state: int | None
    deleted: int  # Nova's soft-delete marker: 0 when live, else the row's id
    hidden: int  # 1: a cross-cell-move copy that the API hides
    project_id: str | None
    vcpus: int | None
    memory_mb: int | None
    root_gb: int | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    deleted_at: dt.datetime | None


@fact_type("nova.archived_instance", scope_field="cell")
class ArchivedInstance(NamedTuple):
    """A row moved to `shadow_instances` by `nova-manage db archive_deleted_rows`."""

    cell: str
    uuid: str
    host: str | None
    deleted_at: dt.datetime | None


@fact_type("nova.instance_mapping", scope_field="scope")
class InstanceMapping(NamedTuple):
    """A row of the API database's instance_mappings."""

    scope: str
    instance_uuid: str
    cell_uuid: str | None  # NULL while the instance is only a build request
    project_id: str | None
    queued_for_delete: int  # 0/1 as stored
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@fact_type("nova.build_request", scope_field="scope")
class BuildRequest(NamedTuple):
    """A row of the API database's build_requests."""

    scope: str
    instance_uuid: str
    project_id: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@fact_type("nova.migration", scope_field="cell")
class Migration(NamedTuple):
    """A live (not soft-deleted) row of a cell's `migrations` table."""

    cell: str
    id: int
    uuid: str | None
    instance_uuid: str | None
    migration_type: str | None
    status: str | None
    source_compute: str | None
    dest_compute: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@fact_type("nova.compute_service", scope_field="cell")
class ComputeService(NamedTuple):
    """A live nova-compute row of a cell's `services` table."""

    cell: str
    host: str
    disabled: int  # 0/1 as stored
    forced_down: int  # 0/1 as stored
    updated_at: dt.datetime | None
    last_seen_up: dt.datetime | None


@fact_type("nova.compute_node", scope_field="cell")
class ComputeNode(NamedTuple):
    """A live row of a cell's `compute_nodes` table."""

    cell: str
    uuid: str | None
    host: str | None
    hypervisor_hostname: str | None
    hypervisor_type: str | None


# Migration statuses, from nova/objects/migration.py and
# migration_get_in_progress_by_host_and_node: everything not terminal is in progress.
# "finished" is a resize waiting for confirmation (both hosts keep a domain).
MIGRATION_TERMINAL = frozenset({"confirmed", "reverted", "error", "failed", "completed", "cancelled", "done"})


# a snapshot written when the fact kept its connection_info reads back without it
@fact_type("nova.block_device_mapping", scope_field="cell", retired=("connection_info",))
class BlockDeviceMapping(NamedTuple):
    """A live volume row of a cell's `block_device_mapping` (destination_type "volume").
    `iscsi_paths` is what os-brick would connect from its connection_info
    (sources/connection_info.py).  The JSON text itself is not kept: no check reads more of
    it, and it is ~1 KB a mapping (a large cloud's tens of MB) holding CHAP credentials."""

    cell: str
    id: int
    uuid: str | None
    instance_uuid: str
    volume_id: str | None
    attachment_id: str | None  # Cinder's attachment (new-style attach flow, Queens+)
    device_name: str | None
    source_type: str | None  # "volume", "image", "snapshot", "blank"
    boot_index: int | None  # 0: the root disk (boot from volume)
    iscsi_paths: tuple[IscsiPath, ...]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@fact_type("nova.instance_network", scope_field="cell")
class InstanceNetwork(NamedTuple):
    """An instance's name and, for a live one, the ports and addresses of its network info
    cache (`instance_info_caches.network_info`, read by sources/network_info.py): what
    Nova believes Neutron gave it.  Deleted instance rows carry their hostname only (a DNS
    record may still name them)."""

    cell: str
    uuid: str
    deleted: int
    hostname: str | None
    display_name: str | None
    port_ids: tuple[str, ...]  # VIF ids, which are Neutron port ids
    addresses: tuple[str, ...]  # fixed and floating IPs, as text
    cache_updated_at: dt.datetime | None
