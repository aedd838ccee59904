"""Nova's own rows of a lab cloud, as Nova writes them: instances, instance mappings,
build requests, nova-compute services and compute nodes.

What each column holds, and which Nova code sets it, is in docs/write-paths.md.  In
short: the resource tracker sets an instance's host, node, launched_on and compute_id
when it claims it (_set_instance_host_and_node); the API sets the instance mapping's
queued_for_delete when it deletes or soft-deletes the instance (_update_queued_for_deletion);
a build request holds the instance, its block device mappings and its tags as versioned
object primitives (BuildRequest._get_update_primitives); a service reports every
report_interval (servicegroup/drivers/db.py: report_count + 1, last_seen_up);
`nova-manage cell_v2 discover_hosts` sets compute_nodes.mapped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

from osfsck.model.releases import at_least
from osfsck_lab.cloud import Cloud

INSTANCE_COLUMNS = (
    "uuid",
    "id",
    "host",
    "node",
    "vm_state",
    "task_state",
    "power_state",
    "deleted",
    "hidden",
    "project_id",
    "user_id",
    "vcpus",
    "memory_mb",
    "root_gb",
    "display_name",
    "hostname",
    "created_at",
    "updated_at",
    "deleted_at",
    "launched_at",
    "cleaned",
    "progress",
)
# what instance_row gives (launched_on and compute_id NULL for a row no compute claimed)
WRITTEN_COLUMNS = (*INSTANCE_COLUMNS, "launched_on", "compute_id")
# nova/objects/service.py SERVICE_VERSION of each release's nova (24.2.1 ... 33.0.2, and master for 2026.2)
SERVICE_VERSION = {
    "xena": 60,
    "yoga": 61,
    "zed": 64,
    "2023.1": 66,
    "2023.2": 66,
    "2024.1": 67,
    "2024.2": 67,
    "2025.1": 68,
    "2025.2": 70,
    "2026.1": 72,
    "2026.2": 73,
}
REPORT_INTERVAL = 10  # nova.conf report_interval, seconds
SERVICES_CREATED = dt.timedelta(days=400)  # when the lab's computes were deployed
# the versions of the objects a build request stores (nova/objects/*.py): the same from 2023.2
# on; Instance 2.8 (compute_id) came with nova 28.0.0 (2023.2), 2023.1 stores 2.7
_VERSIONS = {"Instance": "2.8", "BlockDeviceMappingList": "1.18", "TagList": "1.1"}
INSTANCE_COMPUTE_ID = "2023.2"


def instance_row(c: Cloud, row: dict, folders: set) -> dict:
    """An `instances` (or `shadow_instances`) row.  Nova sets the hostname from the display
    name (sanitised; the lab's names already are); an instance a compute claimed has
    launched_on (its first host) and compute_id (its node's id in the cell).  A deleted
    one is `cleaned` once its host removed its folder (libvirt driver cleanup, or
    _run_pending_deletes later): not while one of its `folders` (uuids) is still there."""
    out = {k: row.get(k, row["display_name"]) if k == "hostname" else row.get(k) for k in INSTANCE_COLUMNS}
    if row["host"]:
        out["launched_on"] = row.get("launched_on", row["host"])
        out["compute_id"] = c.node_id(row["host"])
    if row["deleted"]:
        out["cleaned"] = int(row["uuid"] not in folders)
    return out


def folders(c: Cloud) -> set:
    """The uuids every host still has an instance folder for (any suffix)."""
    return {d.uuid for dirs in c.dirs.values() for d in dirs}


def mapping_rows(c: Cloud, cell_ids: dict) -> Iterator[dict]:
    """`instance_mappings`: queued_for_delete is set when the API deletes or soft-deletes the
    instance (nova/compute/api.py _do_delete, _do_soft_delete, _local_delete_cleanup); the
    past's mappings are all of soft-deleted instances."""
    gone = {
        r["uuid"]
        for rows in (*c.instances.values(), *c.shadow.values())
        for r in rows
        if r["deleted"] or r["vm_state"] == "soft-delete"
    }
    for m, past in c.all_mappings():
        yield {
            "instance_uuid": m["instance_uuid"],
            "cell_id": cell_ids.get(m["cell"]),
            "project_id": m["project_id"],
            "user_id": m["user_id"],
            "queued_for_delete": past or m["instance_uuid"] in gone,
            "created_at": m["created_at"],
        }


def _primitive(name: str, data: dict, release: str) -> dict:
    """A versioned object as obj_to_primitive() gives it."""
    version = _VERSIONS[name]
    if name == "Instance" and not at_least(release, INSTANCE_COMPUTE_ID):
        version = "2.7"
    return {
        "nova_object.name": name,
        "nova_object.namespace": "nova",
        "nova_object.version": version,
        "nova_object.data": data,
        "nova_object.changes": sorted(data),
    }


def build_request_rows(c: Cloud) -> list[dict]:
    """`build_requests`: the instance the API has not placed in a cell yet, serialised
    (a representative subset of its fields: those the API sets before scheduling), with
    empty block device mapping and tag lists."""
    out = []
    for b in c.build_requests:
        instance = {
            "uuid": b["instance_uuid"],
            "project_id": b["project_id"],
            "user_id": b.get("user_id", "user-01"),
            "vm_state": "building",
            "task_state": "scheduling",
            "power_state": 0,
            "vcpus": 1,
            "memory_mb": 32,
            "root_gb": 1,
            "ephemeral_gb": 0,
            "launch_index": 0,
            "locked": False,
            "display_name": b.get("display_name", "vm-building"),
            "availability_zone": None,
        }
        out.append(
            {
                "instance_uuid": b["instance_uuid"],
                "project_id": b["project_id"],
                "created_at": b["created_at"],
                "updated_at": None,
                "instance": json.dumps(_primitive("Instance", instance, c.release)),
                "block_device_mappings": json.dumps(_primitive("BlockDeviceMappingList", {"objects": []}, c.release)),
                "tags": json.dumps(_primitive("TagList", {"objects": []}, c.release)),
            }
        )
    return out


def service_rows(c: Cloud, cell: str, release: str) -> list[dict]:
    """A nova-compute `services` row per host of the cell, reporting since its deployment."""
    created = c.now - SERVICES_CREATED
    return [
        {
            "host": h,
            "binary": "nova-compute",
            "topic": "compute",
            "report_count": int(SERVICES_CREATED.total_seconds()) // REPORT_INTERVAL,
            "disabled": False,
            "forced_down": False,
            "deleted": 0,
            "created_at": created,
            "updated_at": c.now,
            "last_seen_up": c.now,
            "version": SERVICE_VERSION[release],
            "uuid": c.uuid(),
        }
        for h in c.hosts_in(cell)
    ]


def compute_node_rows(c: Cloud, cell: str, node_uuid) -> list[dict]:
    """A `compute_nodes` row per host of the cell (the libvirt driver: one node, named as the
    host), mapped by `nova-manage cell_v2 discover_hosts`."""
    created = c.now - SERVICES_CREATED
    return [
        {
            "id": c.node_id(h),
            "host": h,
            "hypervisor_hostname": h,
            "hypervisor_type": "QEMU",
            "hypervisor_version": 9000000,
            "vcpus": 8,
            "memory_mb": 16384,
            "local_gb": 500,
            "vcpus_used": 0,
            "memory_mb_used": 0,
            "local_gb_used": 0,
            "cpu_info": "{}",
            "host_ip": c.host_ip(h),
            "mapped": 1,
            "deleted": 0,
            "uuid": node_uuid(c, h),
            "created_at": created,
            "updated_at": c.now,
        }
        for h in c.hosts_in(cell)
    ]
