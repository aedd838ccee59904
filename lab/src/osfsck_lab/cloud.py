"""A pure description of a lab cloud: rows, domains, folders, and the faults injected.

Nothing here touches a database or a host; `build.py` writes the spec out.  The cloud is
consistent first (every live instance mapped, with a domain and a folder on its host),
then `faults.py` breaks it in exactly the ways `truth` records.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid as uuidlib
from dataclasses import dataclass, field

from osfsck.checks.registry import find
from osfsck_lab.profiles import Profile


@dataclass
class DomainSpec:
    uuid: str
    name: str
    active: bool
    nova: bool = True  # carries Nova's metadata
    display_name: str = ""
    project_id: str = ""
    vcpus: int = 1
    memory_mb: int = 32
    local_disk: bool = True  # False when the root disk is a volume (boot from volume)
    volumes: list = field(default_factory=list)  # VolumeDisk, in target order


@dataclass
class VolumeDisk:
    """A Cinder volume as a disk of a domain: Nova sets <serial> to the volume id."""

    serial: str
    kind: str  # "iscsi" (LVM), "array" (a shared-IQN array) or "rbd"
    dev: str  # "vdb"
    source: str = ""  # iSCSI: the device os-brick connected, "/dev/sdb"


@dataclass
class DirSpec:
    uuid: str
    suffix: str = ""
    mb: int = 1  # real bytes written (the rest is sparse)
    gb_apparent: int = 1
    age: dt.timedelta = dt.timedelta(days=2)


@dataclass
class Cloud:
    now: dt.datetime
    rng: random.Random
    release: str = "2026.2"  # the schema release (what the services write differs)
    cells: list = field(default_factory=list)  # (name, uuid)
    hosts: list = field(default_factory=list)  # (name, cell)
    instances: dict = field(default_factory=dict)  # cell -> list of row dicts
    shadow: dict = field(default_factory=dict)  # cell -> list of row dicts
    migrations: dict = field(default_factory=dict)  # cell -> list of row dicts
    mappings: list = field(default_factory=list)  # row dicts (cell name or None)
    build_requests: list = field(default_factory=list)
    domains: dict = field(default_factory=dict)  # host -> list[DomainSpec]
    dirs: dict = field(default_factory=dict)  # host -> list[DirSpec]
    volumes: list = field(default_factory=list)  # Cinder `volumes` row dicts
    attachments: list = field(default_factory=list)  # Cinder `volume_attachment` row dicts
    bdms: dict = field(default_factory=dict)  # cell -> `block_device_mapping` row dicts
    iscsi: dict = field(default_factory=dict)  # host -> iscsiadm stand-in state
    net: object = None  # lab.network.Network, once populated
    placement: object = None  # lab.placement's state, once populated
    quota: object = None  # lab.quotas' state, once populated
    rpc: object = None  # lab.rpc's state (services, actions, queues)
    truth: list = field(default_factory=list)  # {"code", "subject"}
    notes: list = field(default_factory=list)  # near misses, for people
    # near misses a check reports once they are old enough: {"code", "subject", "at", "why"}
    ripening: list = field(default_factory=list)
    _next_id: dict = field(default_factory=dict)

    # -- identities ---------------------------------------------------------------------
    def uuid(self) -> str:
        return str(uuidlib.UUID(int=self.rng.getrandbits(128), version=4))

    def ago(self, **kw) -> dt.datetime:
        return self.now - dt.timedelta(**kw)

    def cell_of(self, host: str) -> str:
        return next(c for h, c in self.hosts if h == host)

    def hosts_in(self, cell: str) -> list[str]:
        return [h for h, c in self.hosts if c == cell]

    def node_id(self, host: str) -> int:
        """The id of `host`'s compute node in its cell's compute_nodes (one node per host)."""
        return self.hosts_in(self.cell_of(host)).index(host) + 1

    def host_ip(self, host: str) -> str:
        """The host's management address (compute_nodes.host_ip, migrations.dest_host)."""
        i = next(n for n, (h, _) in enumerate(self.hosts) if h == host) + 10
        return f"172.16.{i >> 8}.{i & 255}"

    def other_host(self, host: str, same_cell: bool = True) -> str:
        pool = self.hosts_in(self.cell_of(host)) if same_cell else [h for h, _ in self.hosts]
        return next(h for h in pool if h != host)

    def domain_of(self, host: str, uuid: str) -> DomainSpec:
        return next(d for d in self.domains[host] if d.uuid == uuid)

    def next_id(self, counter: str) -> int:
        n = self._next_id[counter] = self._next_id.get(counter, 0) + 1
        return n

    def find(self, uuid: str) -> dict:
        return next(r for rows in self.instances.values() for r in rows if r["uuid"] == uuid)

    # -- building blocks ----------------------------------------------------------------
    def add_instance(
        self,
        cell: str,
        host: str | None,
        *,
        vm_state="active",
        task_state=None,
        power_state=1,
        deleted=False,
        mapped=True,
        domain=True,
        folder=True,
        age=dt.timedelta(days=20),
        deleted_age=dt.timedelta(days=3),
    ) -> dict:
        n = self.next_id(cell)
        project = f"project-{self.rng.randrange(1, 40):02d}"
        row = {
            "uuid": self.uuid(),
            "id": n,
            "host": host,
            "node": host,
            "vm_state": vm_state,
            "task_state": task_state,
            "power_state": power_state,
            "deleted": 0,
            "hidden": False,
            "project_id": project,
            "user_id": f"user-{project[-2:]}",
            "vcpus": 1,
            "memory_mb": 32,
            "root_gb": 1,
            "display_name": f"vm-{cell}-{n}",
            "created_at": self.now - age,
            "updated_at": self.now - age,
            "deleted_at": None,
            "launched_at": self.now - age,
            "cleaned": 0,
        }
        if deleted:
            row.update(
                deleted=n,
                vm_state="deleted",
                power_state=0,
                deleted_at=self.now - deleted_age,
                updated_at=self.now - deleted_age,
                cleaned=1,
            )
        self.instances.setdefault(cell, []).append(row)
        if mapped:
            self.mappings.append(
                {
                    "instance_uuid": row["uuid"],
                    "cell": cell,
                    "project_id": project,
                    "user_id": row["user_id"],
                    "created_at": row["created_at"],
                }
            )
        if domain and host and not deleted:
            self.add_domain(host, row, active=power_state == 1)
        if folder and host and not deleted:
            self.dirs.setdefault(host, []).append(DirSpec(row["uuid"]))
        return row

    def add_domain(self, host: str, row: dict, *, active: bool, nova: bool = True) -> DomainSpec:
        spec = DomainSpec(
            row["uuid"],
            f"instance-{row['id']:08x}",
            active,
            nova,
            row.get("display_name", ""),
            row.get("project_id", ""),
        )
        self.domains.setdefault(host, []).append(spec)
        return spec

    def archive(self, cell: str, row: dict) -> None:
        """What `nova-manage db archive_deleted_rows` does: the row moves to shadow_instances
        and the instance mapping is deleted."""
        self.instances[cell].remove(row)
        self.shadow.setdefault(cell, []).append(row)
        self.mappings = [m for m in self.mappings if m["instance_uuid"] != row["uuid"]]

    def add_archived(self, cell: str, host: str | None, **kw) -> dict:
        """A deleted instance already archived: the same row, born in shadow_instances with
        no mapping (what `archive` leaves, without its O(rows) list surgery: L has 40k)."""
        row = self.add_instance(cell, host, deleted=True, mapped=False, **kw)
        self.shadow.setdefault(cell, []).append(self.instances[cell].pop())
        return row

    def add_migration(
        self, cell: str, row: dict, *, type_: str, status: str, source: str, dest: str, age=dt.timedelta(minutes=5)
    ) -> dict:
        """A `migrations` row as Nova writes it: the requester's user and project
        (Migration.create takes the context's: an admin's for a live migration or an
        evacuation, the owner's for a resize), and what the destination's resource tracker
        claim sets (dest_compute_id, dest_host; resource_tracker._claim_existing_migration)."""
        admin = type_ in ("live-migration", "evacuation")
        m = {
            "uuid": self.uuid(),
            "instance_uuid": row["uuid"],
            "migration_type": type_,
            "status": status,
            "source_compute": source,
            "dest_compute": dest,
            "source_node": source,
            "dest_node": dest,
            "dest_compute_id": self.node_id(dest),
            "dest_host": self.host_ip(dest),
            "hidden": False,
            "cross_cell_move": False,
            "user_id": "admin" if admin else row["user_id"],
            "project_id": "admin" if admin else row["project_id"],
            "created_at": self.now - age,
            "updated_at": self.now - age,
            "deleted": 0,
        }
        self.migrations.setdefault(cell, []).append(m)
        return m

    def fault(self, code: str, subject: str, note: str) -> None:
        self.truth.append({"code": code, "subject": subject, "note": note})

    def ripens(self, code: str, subject: str, at: dt.datetime, why: str) -> None:
        """A near miss that check `code` reports as `subject` from `at` on: the lab's
        timestamps are relative to `now`, so a lab checked long after its build finds it."""
        entry = {"code": code, "subject": subject, "at": at, "why": why}
        if entry not in self.ripening:  # a part of the lab made twice (a test's) records it once
            self.ripening.append(entry)

    def ripens_stuck_task(self, row: dict, why: str, migration: dict | None = None, started=None) -> None:
        """NV301's rule: its task's threshold past the row's last change (and `started`, its
        instance action's), migration_age past its migration's."""
        last = max(t for t in (row["updated_at"], started) if t)
        at = last + threshold("NV301", "thresholds", row["task_state"])
        if migration is not None:
            at = max(at, migration["updated_at"] + threshold("NV301", "migration_age"))
        self.ripens("NV301", row["uuid"], at, why)

    def ripens_stuck_build(self, row: dict, why: str) -> None:
        """NV302's rule: build_age past the row's last change, on no host or a host whose
        nova-compute is down (the lab's dead hosts); on a live host a build is never stuck."""
        if row["host"] is None or row["host"] in getattr(self.rpc, "dead", {}):
            at = max(row["created_at"], row["updated_at"]) + threshold("NV302", "build_age")
            self.ripens("NV302", row["uuid"], at, why)

    def faulted_ids(self) -> set[str]:
        """Every id a fault's subject names ("port/host", "name type data" split): a new
        fault picks its object outside these, so two faults never share one."""
        return {part for t in self.truth for part in t["subject"].replace(" ", "/").split("/")}


def threshold(code: str, param: str, key: str | None = None) -> dt.timedelta:
    """Check `code`'s default `param` (seconds; `key` of a table of them), as osfsck defines
    it: the age at which a near miss of that check becomes its finding."""
    check = find(code)
    if check is None:
        raise KeyError(f"no check {code}")
    value = check.defaults[param]
    return dt.timedelta(seconds=value[key] if key is not None else value)


def consistent_cloud(profile: Profile, seed: int, now: dt.datetime, release: str = "2026.2") -> Cloud:
    cloud = Cloud(now=now, rng=random.Random(seed), release=release)
    for ci in range(1, profile.cells + 1):
        cell = f"cell{ci}"
        cloud.cells.append((cell, cloud.uuid()))
        for hi in range(1, profile.hosts_per_cell + 1):
            cloud.hosts.append((f"c{ci}-hv{hi:03d}", cell))
    cloud.cells.insert(0, ("cell0", "00000000-0000-0000-0000-000000000000"))
    for host, cell in cloud.hosts:
        for _ in range(profile.live_per_host):
            cloud.add_instance(cell, host)
    live = [(cell, r) for cell, rows in list(cloud.instances.items()) for r in list(rows)]
    n_deleted = int(len(live) * profile.deleted_per_live)
    n_archived = int(len(live) * profile.archived_per_live)
    for i in range(n_deleted + n_archived):
        cell, r = live[i % len(live)]
        age = dt.timedelta(days=10 + i % 50)
        if i < n_deleted:
            cloud.add_instance(cell, r["host"], deleted=True, deleted_age=age)
        else:
            cloud.add_archived(cell, r["host"], deleted_age=age)
    # a failed build lives in cell0, deleted, with no host: Nova keeps those too
    cloud.add_instance("cell0", None, vm_state="error", power_state=0, domain=False, folder=False)
    return cloud
