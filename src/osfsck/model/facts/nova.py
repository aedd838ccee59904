"""Facts read from Nova's API database and cell databases.

Timestamps are naive datetimes in UTC, as Nova stores them.  `cell` is the cell's name
(or its uuid when it has no name); the API database's scope is "api".
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from osfsck.model.facts.base import fact_type

try:  # a large cloud's network info caches are 10^5 JSON documents per run
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson is a dependency; stay correct without it
    _loads = json.loads  # type: ignore[assignment]  # takes what orjson's does; its signature has more keywords

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


@fact_type("nova.block_device_mapping", scope_field="cell")
class BlockDeviceMapping(NamedTuple):
    """A live volume row of a cell's `block_device_mapping` (destination_type "volume").
    `connection_info` is the JSON text as Nova stores it: `volume_target()` reads it."""

    cell: str
    id: int
    uuid: str | None
    instance_uuid: str
    volume_id: str | None
    attachment_id: str | None  # Cinder's attachment (new-style attach flow, Queens+)
    device_name: str | None
    source_type: str | None  # "volume", "image", "snapshot", "blank"
    boot_index: int | None  # 0: the root disk (boot from volume)
    connection_info: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@fact_type("nova.instance_network", scope_field="cell")
class InstanceNetwork(NamedTuple):
    """An instance's name and, for a live one, the ports and addresses of its network info
    cache (`instance_info_caches.network_info`): what Nova believes Neutron gave it.
    Deleted instance rows carry their hostname only (a DNS record may still name them)."""

    cell: str
    uuid: str
    deleted: int
    hostname: str | None
    display_name: str | None
    port_ids: tuple  # VIF ids, which are Neutron port ids
    addresses: tuple  # fixed and floating IPs, as text
    cache_updated_at: dt.datetime | None

    @classmethod
    def from_stored(cls, row: tuple[Any, ...]) -> InstanceNetwork:
        """(cell, uuid, deleted, hostname, display_name, network_info, updated_at) -> fact."""
        cell, uuid, deleted, hostname, display_name, info, updated = row
        ports, addresses = network_info_ports(info) if info and not deleted else ((), ())
        return tuple.__new__(cls, (cell, uuid, deleted, hostname, display_name, ports, addresses, updated))


def network_info_ports(text: str) -> tuple[tuple, tuple]:
    """(port ids, addresses) of a network_info JSON (a list of VIFs, each with its
    network's subnets and their IPs and floating IPs); empty when not readable."""
    try:
        vifs = _loads(text)
    except ValueError:  # orjson.JSONDecodeError is one too
        return (), ()
    if not isinstance(vifs, list):
        return (), ()
    ports, addresses = [], []
    for vif in vifs:
        if not isinstance(vif, dict):
            continue
        if isinstance(vif.get("id"), str):
            ports.append(vif["id"])
        network = vif.get("network")
        if not isinstance(network, dict):
            network = {}
        for subnet in network.get("subnets") or ():
            for ip in (subnet.get("ips") or ()) if isinstance(subnet, dict) else ():
                if not isinstance(ip, dict):
                    continue
                addresses.append(ip.get("address"))
                addresses += [f.get("address") for f in ip.get("floating_ips") or () if isinstance(f, dict)]
    return tuple(ports), tuple(a for a in addresses if isinstance(a, str))


class VolumeTarget(NamedTuple):
    """Where a `connection_info` (Nova's BDM or Cinder's attachment) says the volume is."""

    driver_volume_type: str | None  # "iscsi", "rbd", "nfs", "fibre_channel", ...
    target_iqn: str | None  # the first path's, as os-brick reads it
    target_portal: str | None
    target_lun: int | None  # as the driver gave it
    name: str | None  # rbd: "pool/volume-<id>"; nfs: "volume-<id>"
    iqns: tuple = ()  # every target IQN, the multipath ones included
    paths: tuple = ()  # iSCSI: (portal, iqn, lun as the kernel numbers it), one per path


# os-brick's SCSI addressing modes (os_brick/constants.py) and the LUN from which each
# uses the flat space method, which the kernel shows as LUN + 16384 (linuxscsi
# lun_for_addressing): SAM2 from LUN 256, SAM3-flat always.  `iscsiadm -m session -P 3`
# prints the kernel's number.
_FLAT_FROM = {None: None, "SAM": None, "transparent": None, "SAM2": 256, "SAM3-flat": 0}
_FLAT_SPACE = 16384


def kernel_lun(lun: object, addressing_mode: object = None) -> int | None:
    """The LUN the kernel shows for a LUN a driver gave; None when it is not a number or
    the mode is one os-brick does not know (it would refuse to connect)."""
    if (
        not isinstance(lun, int)
        or isinstance(lun, bool)
        or lun < 0
        or not isinstance(addressing_mode, (str, type(None)))
        or addressing_mode not in _FLAT_FROM
    ):
        return None
    flat_from = _FLAT_FROM[addressing_mode]
    return lun + _FLAT_SPACE if flat_from is not None and lun >= flat_from else lun


def volume_target(connection_info: str | None) -> VolumeTarget | None:
    """The target in a connection_info JSON; None when empty or not readable.

    Two shapes are stored.  Nova's block_device_mapping keeps what
    nova/volume/cinder.py `_translate_attachment_ref` rebuilds, `{"driver_volume_type",
    "data": {...}, "serial", ...}`, or the legacy `initialize_connection` answer, also
    nested.  Cinder's volume_attachment keeps the driver's answer flattened
    (cinder/volume/manager.py `_connection_create`, since Cinder 10.0.0 (Ocata): "Get rid
    of the nested dict (data key)"): the target keys are top-level there, beside
    `driver_volume_type` and `attachment_id`.

    The iSCSI paths are the ones os-brick connects (base_iscsi `_get_all_targets`):
    `target_portals` with `target_iqns` and `target_luns` (else `target_lun` on every
    path) when the driver gives lists, as multipath drivers do (some, Pure's, give only
    the lists), else the one `target_portal`/`target_iqn`/`target_lun` (LUN 0 if absent).
    """
    if not connection_info:
        return None
    try:
        info = _loads(connection_info)
    except ValueError:
        return None
    if not isinstance(info, dict):
        return None
    data = info.get("data") if "data" in info else info
    if not isinstance(data, dict):
        data = {}
    kind = info.get("driver_volume_type")
    triples = _iscsi_paths(data)
    portal, iqn, lun = triples[0] if triples else (None, None, None)
    mode = data.get("addressing_mode")
    return VolumeTarget(
        kind if isinstance(kind, str) else None,
        iqn,
        portal,
        lun if isinstance(lun, int) and not isinstance(lun, bool) else None,
        data.get("name") if isinstance(data.get("name"), str) else None,
        tuple(dict.fromkeys(i for _, i, _ in triples)),
        tuple((p, i, kernel_lun(n, mode)) for p, i, n in triples),
    )


def _iscsi_paths(data: dict) -> list:
    """(portal, iqn, lun as given) per path; a path whose IQN is not text is left out."""
    portals, iqns, luns = data.get("target_portals"), data.get("target_iqns"), data.get("target_luns")
    if isinstance(portals, list) and isinstance(iqns, list):
        if not isinstance(luns, list) or not luns:
            luns = [data.get("target_lun")] * len(iqns)
        triples: Iterable[tuple[Any, Any, Any]] = zip(portals, iqns, luns)
    else:
        triples = [(data.get("target_portal"), data.get("target_iqn"), data.get("target_lun", 0))]
    return [(p if isinstance(p, str) else None, i, n) for p, i, n in triples if isinstance(i, str) and i]
