"""Break a consistent lab cloud in every way the checks detect, and add the
near misses they must not report.  Each fault records its (code, subject) in the truth."""

from __future__ import annotations

import datetime as dt

from osfsck_lab import network, placement, quotas, rpc, volumes
from osfsck_lab.cloud import Cloud, DirSpec, threshold

DAYS = dt.timedelta(days=3)


def _pick_host(c: Cloud, n: int) -> str:
    return c.hosts[n % len(c.hosts)][0]


def inject(c: Cloud, copies: int = 1) -> None:
    for i in range(copies):
        k = 17 * i  # spread copies over the hosts
        zombie(c, _pick_host(c, k))
        archived_zombie(c, _pick_host(c, k + 1))
        unknown_domain(c, _pick_host(c, k + 2))
        wrong_host(c, _pick_host(c, k + 3))
        duplicate(c, _pick_host(c, k + 4))
        orphan_dirs(c, _pick_host(c, k + 5))
        missing_domain(c, _pick_host(c, k + 6))
        power_drift(c, _pick_host(c, k + 7))
        orphan_mapping(c, _pick_host(c, k + 8))
        unmapped(c, _pick_host(c, k + 9))
        wrong_cell(c, _pick_host(c, k + 10))
        stale_build_request(c, _pick_host(c, k + 11))
        volumes.inject(c, [_pick_host(c, k + 12 + n) for n in range(8)])
        # stuck tasks and builds add instances: before Neutron gives every instance its ports
        rpc.inject(c, [_pick_host(c, k + 25 + n) for n in range(4)])
    near_misses(c)
    volumes.near_misses(c)
    rpc.near_misses(c)
    # Neutron last: every instance the faults above added gets its ports too
    network.populate(c)
    for i in range(copies):
        network.inject(c, [_pick_host(c, 17 * i + 20 + n) for n in range(5)])
    network.near_misses(c)
    # accounting last: Placement allocates for every instance above, quotas count everything
    placement.populate(c)
    for i in range(copies):
        placement.inject(c, [_pick_host(c, 17 * i + 30 + n) for n in range(4)])
    placement.near_misses(c)
    quotas.populate(c)
    quotas.inject(c)  # once at any size: each fault takes a project, and the lab has 39
    quotas.near_misses(c)


def zombie(c: Cloud, host: str) -> None:
    """Deleted while its compute was down ("local delete"): the guest still runs, and its
    folder is still there (used by the zombie)."""
    cell = c.cell_of(host)
    row = c.add_instance(cell, host, deleted=True, deleted_age=DAYS)
    c.add_domain(host, row, active=True)
    c.dirs.setdefault(host, []).append(DirSpec(row["uuid"], mb=2, gb_apparent=20))
    c.fault("HV101", row["uuid"], f"running zombie on {host}")
    c.fault("HV110", _dir_subject(c, host, row["uuid"]), "its folder, in use by the zombie")


def archived_zombie(c: Cloud, host: str) -> None:
    cell = c.cell_of(host)
    row = c.add_instance(cell, host, deleted=True, deleted_age=DAYS * 3)
    c.archive(cell, row)
    c.add_domain(host, row, active=False)
    c.fault("HV101", row["uuid"], f"defined zombie of an archived instance on {host}")


def unknown_domain(c: Cloud, host: str) -> None:
    ghost = {
        "uuid": c.uuid(),
        "id": 0xDEAD0000 + len(c.truth),
        "display_name": "restored-from-backup",
        "project_id": "project-99",
    }
    c.add_domain(host, ghost, active=True)
    c.fault("HV102", ghost["uuid"], f"domain with Nova metadata unknown to every cell, on {host}")


def wrong_host(c: Cloud, host: str) -> None:
    cell = c.cell_of(host)
    other = c.other_host(host)
    row = c.add_instance(cell, host, domain=False)
    c.add_domain(other, row, active=True)
    c.fault("HV103", row["uuid"], f"Nova says {host}, the guest runs on {other}")


def duplicate(c: Cloud, host: str) -> None:
    cell = c.cell_of(host)
    other = c.other_host(host)
    row = c.add_instance(cell, host)
    c.add_domain(other, row, active=False)  # a shut-off leftover of a failed live migration
    c.fault("HV104", row["uuid"], f"domains on {host} and {other}")


def orphan_dirs(c: Cloud, host: str) -> None:
    cell = c.cell_of(host)
    row = c.add_instance(cell, host, deleted=True, deleted_age=DAYS)
    c.dirs.setdefault(host, []).append(DirSpec(row["uuid"], mb=3, gb_apparent=40, age=DAYS))
    c.fault("HV110", _dir_subject(c, host, row["uuid"]), "folder of an instance deleted 3 days ago")
    ghost = c.uuid()
    c.dirs[host].append(DirSpec(ghost, suffix="_del", mb=1, gb_apparent=10, age=DAYS * 10))
    c.fault("HV110", _dir_subject(c, host, ghost, "_del"), "a _del folder nobody knows")


def missing_domain(c: Cloud, host: str) -> None:
    row = c.add_instance(c.cell_of(host), host, domain=False)
    c.fault("NV101", row["uuid"], f"ACTIVE on {host} with no domain there")


def power_drift(c: Cloud, host: str) -> None:
    row = c.add_instance(c.cell_of(host), host, domain=False)
    c.add_domain(host, row, active=False)  # Nova says running, the guest is off
    c.fault("NV102", row["uuid"], "Nova says running, libvirt says shut off")


def orphan_mapping(c: Cloud, host: str) -> None:
    """An archive interrupted between moving the row and deleting its mapping."""
    cell = c.cell_of(host)
    row = c.add_instance(cell, host, deleted=True, deleted_age=DAYS * 4)
    mapping = c.mapping(row["uuid"])
    c.archive(cell, row)
    c.mappings.append(mapping)
    c.fault("NV201", row["uuid"], "mapping left for an archived instance")


def unmapped(c: Cloud, host: str) -> None:
    row = c.add_instance(c.cell_of(host), host, mapped=False)
    c.fault("NV202", row["uuid"], "live instance without an instance mapping")


def wrong_cell(c: Cloud, host: str) -> None:
    cell = c.cell_of(host)
    other_cell = next(name for name, _ in c.cells if name not in (cell, "cell0"))
    row = c.add_instance(cell, host)
    c.mapping(row["uuid"])["cell"] = other_cell
    c.fault("NV203", row["uuid"], f"mapping says {other_cell}, the instance is in {cell}")


def stale_build_request(c: Cloud, host: str) -> None:
    row = c.add_instance(c.cell_of(host), host)
    c.build_requests.append(
        {"instance_uuid": row["uuid"], "project_id": row["project_id"], "created_at": row["created_at"]}
    )
    c.fault("NV204", row["uuid"], "build request left after the instance was created")


def near_misses(c: Cloud) -> None:
    """Legitimate transitional states that must not be reported."""
    h1 = c.hosts[0][0]
    h2 = c.other_host(h1)
    cell = c.cell_of(h1)
    # live migration running: domains on both hosts; libvirt's monitor saves the transfer's
    # progress every 5 s (live_migration_monitor_interval) to the migration and the instance
    # (nova/virt/libvirt/migration.py save_stats)
    row = c.add_instance(cell, h1, task_state="migrating")
    c.add_domain(h2, row, active=False)
    m = c.add_migration(cell, row, type_="live-migration", status="running", source=h1, dest=h2)
    m.update(
        updated_at=c.ago(seconds=3),
        memory_total=32 << 20,
        memory_processed=20 << 20,
        memory_remaining=12 << 20,
        disk_total=0,
        disk_processed=0,
        disk_remaining=0,
    )
    row.update(progress=62, updated_at=c.ago(seconds=3))
    c.ripens_stuck_task(row, "live migration running", m)
    # resize waiting for confirmation: domain on both, a _resize folder on the source
    row = c.add_instance(cell, h2, vm_state="resized")
    c.add_domain(h1, row, active=False)
    c.dirs.setdefault(h1, []).append(DirSpec(row["uuid"], suffix="_resize"))
    c.add_migration(cell, row, type_="resize", status="finished", source=h1, dest=h2)
    # evacuated from h1 (the source still holds the guest until its compute restarts)
    row = c.add_instance(cell, h2)
    c.add_domain(h1, row, active=False)
    c.add_migration(cell, row, type_="evacuation", status="done", source=h1, dest=h2, age=dt.timedelta(hours=2))
    # building: scheduled to h2, not spawned yet
    row = c.add_instance(
        cell,
        h2,
        vm_state="building",
        task_state="spawning",
        power_state=0,
        domain=False,
        folder=False,
        age=dt.timedelta(seconds=30),
    )
    c.ripens_stuck_build(row, "build in progress")
    # a build request seconds old, not scheduled yet
    fresh = c.uuid()
    c.build_requests.append(
        {"instance_uuid": fresh, "project_id": "project-01", "created_at": c.now - dt.timedelta(seconds=20)}
    )
    c.ripens(
        "NV204",
        fresh,
        c.build_requests[-1]["created_at"] + threshold("NV204", "unscheduled_after"),
        "fresh build request",
    )
    c.mappings.append(
        {
            "instance_uuid": fresh,
            "cell": None,
            "project_id": "project-01",
            "user_id": "user-01",
            "created_at": c.now - dt.timedelta(seconds=20),
        }
    )
    # shelved and offloaded: no host, no domain, no folder
    c.add_instance(cell, None, vm_state="shelved_offloaded", power_state=4, domain=False, folder=False)
    # soft-deleted (restorable): row live, domain kept and shut off; the API's soft_delete
    # sets deleted_at though the row stays live (nova/compute/api.py soft_delete)
    row = c.add_instance(cell, h1, vm_state="soft-delete", power_state=4)
    row.update(deleted_at=c.ago(hours=1), updated_at=c.ago(hours=1))
    # rescued: running a rescue image in the same domain
    c.add_instance(cell, h2, vm_state="rescued")
    # deleted minutes ago: Nova's own pending-delete task is still removing its folder
    row = c.add_instance(cell, h2, deleted=True, deleted_age=dt.timedelta(minutes=4))
    c.dirs.setdefault(h2, []).append(DirSpec(row["uuid"], age=dt.timedelta(minutes=4)))
    c.ripens(
        "HV110",
        _dir_subject(c, h2, row["uuid"]),
        max(row["deleted_at"], c.now - c.dirs[h2][-1].age) + threshold("HV110", "min_age"),
        "deleted minutes ago",
    )
    # a guest an operator defined by hand: not Nova's
    c.add_domain(h1, {"uuid": c.uuid(), "id": 0, "display_name": ""}, active=True, nova=False).name = "ops-debug-vm"
    c.notes += [
        "live migration running",
        "resize waiting for confirmation",
        "evacuation awaiting clean-up",
        "build in progress",
        "fresh build request",
        "shelved-offloaded",
        "soft-deleted",
        "rescued",
        "deleted minutes ago",
        "hand-made domain",
    ]


def _dir_subject(c: Cloud, host: str, uuid: str, suffix: str = "") -> str:
    # the lab's instances_path is substituted by build.py once the folders exist
    return f"{{instances:{host}}}/{uuid}{suffix}"
