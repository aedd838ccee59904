"""Placement in a lab cloud: resource providers, inventories, allocations and consumers
consistent with the instances, then one fault per Placement check and the near misses.

As Nova keeps it: one root provider per compute node, with the node's uuid and its
hypervisor_hostname as name, offering VCPU, MEMORY_MB and DISK_GB with the libvirt
driver's defaults (update_provider_tree: initial_cpu_allocation_ratio 4.0, RAM and disk
1.0, reserved_host_memory_mb 512); every live instance with a host holds its flavor on
its node's provider (no DISK_GB for a boot-from-volume root: scheduler/utils.py
ResourceRequest drops root_gb when is_bfv).  A migration in progress holds the source
with the migration's uuid while the instance holds the destination (conductor/tasks/
migrate.py replace_allocation_with_migration moves the instance's allocation to the
migration in one POST /allocations, which empties and so deletes the instance's consumer;
the scheduler's claim on the destination makes it again); an evacuated instance holds
both hosts until the source's nova-compute cleans up.  Nova talks to Placement at
microversions below 1.38 and never sends a consumer_type, so its consumers have no type
(consumer_type_id NULL) and `consumer_types` stays empty.  Generations count writes
(Placement's _set_allocations bumps the provider's and the consumer's on every one).  The
standard resource classes are the rows Placement itself inserts at start-up (ids =
os-resource-classes' order).

The data comes from `c` alone, so an L lab's Placement (80,000 instances: 240,000
allocation rows) is written by `write` with the rest of `lab build --profile L`, ready for
`nova-manage placement audit` side by side with PL101 (both read the same database).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from osfsck.model.facts.nova import MIGRATION_TERMINAL
from osfsck.model.facts.placement import CONSUMER_INSTANCE, CONSUMER_MIGRATION, STANDARD_CLASSES
from osfsck_lab import database
from osfsck_lab.cloud import Cloud, threshold

CLASS_ID = {name: i for i, name in enumerate(STANDARD_CLASSES)}
# total, reserved, allocation_ratio as the libvirt driver reports them with nova.conf's
# defaults (initial_*_allocation_ratio, reserved_host_memory_mb; nova/conf/compute.py)
INVENTORY = {"VCPU": (8, 0, 4.0), "MEMORY_MB": (16384, 512, 1.0), "DISK_GB": (500, 0, 1.0)}
# what holds no allocation: shelve-offload and delete remove it
_HOLDS_NOTHING = frozenset({"shelved_offloaded", "deleted"})
# evacuations whose source keeps its allocation until its nova-compute starts again
_EVACUATION_PENDING = frozenset({"accepted", "pre-migrating", "done"})


@dataclass
class Placement:
    nodes: dict = field(default_factory=dict)  # host -> compute node (= provider) uuid
    providers: list = field(default_factory=list)  # {"uuid", "name", "created_at"}
    # uuid -> {"project", "user", "kind" (INSTANCE or MIGRATION: what Nova uses it for; not
    # written, Nova sends no consumer_type), "at" and "last" (its first and last allocation
    # write), "writes" (its generation)}
    consumers: dict = field(default_factory=dict)
    allocations: dict = field(default_factory=dict)  # consumer uuid -> [(provider uuid, class, used)]
    retired_nodes: list = field(default_factory=list)  # (cell, host, uuid): soft-deleted compute_nodes rows


def node_uuid(c: Cloud, host: str) -> str:
    """The uuid of `host`'s compute node, which is its resource provider's (build.py writes
    compute_nodes with it)."""
    return _state(c).nodes[host]


def _state(c: Cloud) -> Placement:
    if c.placement is None:
        c.placement = Placement(nodes={h: c.uuid() for h, _ in c.hosts})
    return c.placement


def _flavor(row: dict, bfv: bool = False) -> list[tuple[str, int]]:
    held = [("VCPU", row["vcpus"]), ("MEMORY_MB", row["memory_mb"])]
    return held if bfv else held + [("DISK_GB", row["root_gb"])]


def _hold(st: Placement, consumer: str, host: str, row: dict, kind: str, at: dt.datetime, bfv: bool = False) -> None:
    """One allocation write: `consumer` claims `row`'s flavor on `host`'s provider."""
    cons = st.consumers.setdefault(
        consumer,
        {"project": row["project_id"], "user": row["user_id"], "kind": kind, "at": at, "last": at, "writes": 0},
    )
    cons["writes"] += 1
    cons["last"] = max(cons["last"], at)
    st.allocations.setdefault(consumer, []).extend((st.nodes[host], rc, n) for rc, n in _flavor(row, bfv))


def _boot_from_volume(c: Cloud) -> set[str]:
    """Instances whose root disk is a volume (a live BDM with boot_index 0 to a volume)."""
    return {
        b["instance_uuid"]
        for rows in c.bdms.values()
        for b in rows
        if b["boot_index"] == 0 and b["destination_type"] == "volume" and not b["deleted"]
    }


def populate(c: Cloud) -> None:
    """Providers for every compute node and allocations for every instance."""
    st = _state(c)
    for host, _ in c.hosts:
        st.providers.append({"uuid": st.nodes[host], "name": host, "created_at": c.now - dt.timedelta(days=400)})
    moving = {}
    for migrations in c.migrations.values():
        for m in migrations:
            moving.setdefault(m["instance_uuid"], []).append(m)
    bfv = _boot_from_volume(c)
    for cell, rows in c.instances.items():
        if cell == "cell0":
            continue
        for row in rows:
            if row["deleted"] or not row["host"] or row["vm_state"] in _HOLDS_NOTHING:
                continue
            _allocate_instance(st, row, moving.get(row["uuid"], ()), row["uuid"] in bfv)


def _allocate_instance(st: Placement, row: dict, migrations, bfv: bool) -> None:
    running = [m for m in migrations if m["status"] not in MIGRATION_TERMINAL]
    if running:
        # the move's POST /allocations gave the source to the migration and deleted the
        # instance's emptied consumer; the scheduler's claim then made it anew on the destination
        m = running[-1]
        _hold(st, m["uuid"], m["source_compute"], row, CONSUMER_MIGRATION, m["created_at"], bfv)
        _hold(st, row["uuid"], m["dest_compute"], row, CONSUMER_INSTANCE, m["created_at"], bfv)
        return
    _hold(st, row["uuid"], row["host"], row, CONSUMER_INSTANCE, row["created_at"], bfv)
    for m in migrations:
        if (
            m["migration_type"] == "evacuation"
            and m["status"] in _EVACUATION_PENDING
            and m["source_compute"] != row["host"]
        ):
            # the scheduler's claim on the destination kept the source's allocation: a second write
            _hold(st, row["uuid"], m["source_compute"], row, CONSUMER_INSTANCE, m["created_at"], bfv)


def _settled(c: Cloud, host: str, taken: set) -> tuple[str, dict]:
    """A plain active instance on `host` (no task, no migration, no other fault)."""
    moving = {m["instance_uuid"] for ms in c.migrations.values() for m in ms}
    cell = c.cell_of(host)
    for row in c.instances.get(cell, []):
        if (
            row["host"] == host
            and not row["deleted"]
            and row["vm_state"] == "active"
            and not row["task_state"]
            and row["uuid"] not in moving
            and row["uuid"] not in taken
            and row["uuid"] in c.placement.consumers
        ):
            return cell, row
    raise ValueError(f"no settled instance on {host} to break")


def inject(c: Cloud, hosts: list[str]) -> None:
    """One fault per Placement check, on `hosts` (4)."""
    st = _state(c)
    taken = c.faulted_ids()
    # PL101: an instance deleted three days ago whose allocation was never removed (its
    # compute was down when it was deleted, then evacuated)
    h = hosts[0]
    row = c.add_instance(c.cell_of(h), h, deleted=True, deleted_age=dt.timedelta(days=3), domain=False, folder=False)
    _hold(st, row["uuid"], h, row, CONSUMER_INSTANCE, row["created_at"])
    c.fault("PL101", row["uuid"], f"allocation on {h} of an instance deleted 3 days ago")
    # PL102: a settled instance with no allocation at all
    h = hosts[1]
    _, row = _settled(c, h, taken)
    del st.allocations[row["uuid"]], st.consumers[row["uuid"]]
    taken.add(row["uuid"])
    c.fault("PL102", row["uuid"], f"active on {h}, nothing allocated in Placement")
    # PL103: the allocation left on the host an instance was moved from by hand
    h = hosts[2]
    _, row = _settled(c, h, taken)
    other = c.other_host(h)
    st.allocations[row["uuid"]] = [(st.nodes[other], rc, n) for _, rc, n in st.allocations[row["uuid"]]]
    c.fault("PL103", row["uuid"], f"runs on {h}, allocated on {other}")
    # PL104: the provider of a host whose compute node was deleted (decommissioned)
    h = hosts[3]
    cell = c.cell_of(h)
    gone = c.uuid()
    name = f"{h}-retired"
    st.retired_nodes.append((cell, name, gone))
    st.providers.append({"uuid": gone, "name": name, "created_at": c.now - dt.timedelta(days=300)})
    c.fault("PL104", gone, f"provider {name} of a compute node deleted from {cell}")


def near_misses(c: Cloud) -> None:
    """Legitimate states the Placement checks must leave alone."""
    st = _state(c)
    h1 = c.hosts[0][0]
    cell = c.cell_of(h1)
    # a build the scheduler just claimed on h1; nova-compute has not set the host yet
    row = c.add_instance(
        cell,
        None,
        vm_state="building",
        task_state="scheduling",
        power_state=0,
        domain=False,
        folder=False,
        age=dt.timedelta(seconds=30),
    )
    _hold(st, row["uuid"], h1, row, CONSUMER_INSTANCE, row["created_at"])
    c.ripens_stuck_build(row, "build scheduled, host not yet set, allocation claimed")
    # a build request just scheduled: allocated, not yet an instance in any cell (the past's
    # deleted instances, not held, are none of the build requests the faults made)
    known = {r["uuid"] for rows in c.instances.values() for r in rows}
    for b in c.build_requests:
        if b["instance_uuid"] not in known and c.now - b["created_at"] < dt.timedelta(minutes=5):
            fake = {"project_id": b["project_id"], "user_id": "user-01", "vcpus": 1, "memory_mb": 32, "root_gb": 1}
            _hold(st, b["instance_uuid"], h1, fake, CONSUMER_INSTANCE, b["created_at"])
    # deleted minutes ago: Nova is still removing its allocation
    h2 = c.other_host(h1)
    row = c.add_instance(cell, h2, deleted=True, deleted_age=dt.timedelta(minutes=3), domain=False, folder=False)
    _hold(st, row["uuid"], h2, row, CONSUMER_INSTANCE, row["created_at"])
    c.ripens(
        "PL101",
        row["uuid"],
        max(row["deleted_at"], st.consumers[row["uuid"]]["last"]) + threshold("PL101", "min_age"),
        "instance deleted 3 minutes ago still allocated",
    )
    # (populate already gave the migrations in progress their two consumers)
    c.notes += [
        "build scheduled, host not yet set, allocation claimed",
        "build request allocated before its instance",
        "resize and live migration: the migration holds the source, the instance the destination",
        "evacuation: the instance holds both hosts until the source cleans up",
        "instance deleted 3 minutes ago still allocated",
    ]


def _write_classes(url: str, when: dt.datetime) -> None:
    """The standard classes with Placement's ids.  MariaDB turns an inserted id 0 into the next
    AUTO_INCREMENT value (Placement's sync sets NO_AUTO_VALUE_ON_ZERO for it), so VCPU goes in
    as 9999 and is then given id 0 by an UPDATE, which that rule does not touch."""
    database.insert_rows(
        url,
        "resource_classes",
        [{"id": i or 9999, "name": n, "created_at": when} for i, n in enumerate(STANDARD_CLASSES)],
    )
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("UPDATE resource_classes SET id = 0 WHERE name = 'VCPU'"))
    engine.dispose()


def write(c: Cloud, urls: dict, release: str) -> None:
    """The placement database's rows, as Placement itself would hold them."""
    st = _state(c)
    url = urls["placement"]
    database.create(url, "placement", release)
    when = c.now - dt.timedelta(days=400)
    _write_classes(url, when)
    rp_ids = {p["uuid"]: i for i, p in enumerate(st.providers, 1)}
    # a provider's generation: its inventory's write, then one per allocation write on it
    writes = {p["uuid"]: 1 for p in st.providers}
    for allocs in st.allocations.values():
        for rp in {rp for rp, _, _ in allocs}:
            writes[rp] += 1
    database.insert_rows(
        url,
        "resource_providers",
        [
            {
                "id": i,
                "uuid": p["uuid"],
                "name": p["name"],
                "generation": writes[p["uuid"]],
                "root_provider_id": i,
                "parent_provider_id": None,
                "created_at": p["created_at"],
                "updated_at": p["created_at"],
            }
            for p, i in ((p, rp_ids[p["uuid"]]) for p in st.providers)
        ],
    )
    database.insert_rows(
        url,
        "inventories",
        [
            {
                "resource_provider_id": i,
                "resource_class_id": CLASS_ID[rc],
                "total": total,
                "reserved": reserved,
                "min_unit": 1,
                "max_unit": total,
                "step_size": 1,
                "allocation_ratio": ratio,
                "created_at": when,
            }
            for i in rp_ids.values()
            for rc, (total, reserved, ratio) in INVENTORY.items()
        ],
    )
    projects, users = {}, {}
    for cons in st.consumers.values():
        projects.setdefault(cons["project"], len(projects) + 1)
        users.setdefault(cons["user"], len(users) + 1)
    database.insert_rows(
        url, "projects", [{"id": i, "external_id": p, "created_at": when} for p, i in projects.items()]
    )
    database.insert_rows(url, "users", [{"id": i, "external_id": u, "created_at": when} for u, i in users.items()])
    # no consumer_type_id: Nova never sends one (see the module's docstring)
    database.insert_rows(
        url,
        "consumers",
        (
            {
                "uuid": u,
                "project_id": projects[k["project"]],
                "user_id": users[k["user"]],
                "generation": k["writes"],
                "consumer_type_id": None,
                "created_at": k["at"],
                "updated_at": k["last"],
            }
            for u, k in st.consumers.items()
        ),
    )
    database.insert_rows(
        url,
        "allocations",
        (
            {
                "resource_provider_id": rp_ids[rp],
                "consumer_id": u,
                "resource_class_id": CLASS_ID[rc],
                "used": n,
                "created_at": st.consumers[u]["last"],
            }
            for u, allocs in st.allocations.items()
            for rp, rc, n in allocs
        ),
    )
    for n, (cell, name, uuid) in enumerate(st.retired_nodes, 100001):
        # the compute node Nova deleted (soft: deleted = id) while its provider stayed
        database.insert_rows(
            urls[f"nova_{cell}"],
            "compute_nodes",
            [
                {
                    "id": n,
                    "host": name,
                    "hypervisor_hostname": name,
                    "hypervisor_type": "QEMU",
                    "hypervisor_version": 9000000,
                    "vcpus": 8,
                    "memory_mb": 16384,
                    "local_gb": 500,
                    "vcpus_used": 0,
                    "memory_mb_used": 0,
                    "local_gb_used": 0,
                    "cpu_info": "{}",
                    "deleted": n,
                    "uuid": uuid,
                    "created_at": c.now - dt.timedelta(days=300),
                    "deleted_at": c.now - dt.timedelta(days=2),
                }
            ],
        )
