"""A pure description of a lab cloud: rows, domains, folders, and the faults injected.

Nothing here touches a database or a host; `build.py` writes the spec out.  The cloud is
consistent first (every live instance mapped, with a domain and a folder on its host),
then `faults.py` breaks it in exactly the ways `truth` records.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid as uuidlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

from osfsck.checks.registry import find
from osfsck_lab.profiles import Profile


@dataclass(slots=True)  # one per instance: XL has 400,000
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


@dataclass(slots=True)
class VolumeDisk:
    """A Cinder volume as a disk of a domain: Nova sets <serial> to the volume id."""

    serial: str
    kind: str  # "iscsi" (LVM), "array" (a shared-IQN array) or "rbd"
    dev: str  # "vdb"
    source: str = ""  # iSCSI: the device os-brick connected, "/dev/sdb"


@dataclass(slots=True)  # one per instance: XL has 400,000
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
    past: History | None = None  # the soft-deleted and archived rows consistent_cloud made, not held
    _next_id: dict = field(default_factory=dict)
    _where: dict = field(default_factory=dict)  # host -> (position in hosts, cell, compute node id)
    _members: dict = field(default_factory=dict)  # cell -> its hosts

    # -- identities ---------------------------------------------------------------------
    def uuid(self) -> str:
        return new_uuid(self.rng)

    def ago(self, **kw) -> dt.datetime:
        return self.now - dt.timedelta(**kw)

    def _host(self, host: str) -> tuple[int, str, int]:
        """(position in `hosts`, cell, compute node id) of `host`, from an index made once
        the hosts are known: every row on a host looks its host up (XL: 20,000 hosts)."""
        if len(self._where) != len(self.hosts):
            self._where.clear()
            self._members.clear()
            for i, (h, cell) in enumerate(self.hosts):
                members = self._members.setdefault(cell, [])
                members.append(h)
                self._where[h] = (i, cell, len(members))
        return self._where[host]

    def cell_of(self, host: str) -> str:
        return self._host(host)[1]

    def hosts_in(self, cell: str) -> list[str]:
        if self.hosts:
            self._host(self.hosts[0][0])
        return list(self._members.get(cell, ()))

    def node_id(self, host: str) -> int:
        """The id of `host`'s compute node in its cell's compute_nodes (one node per host)."""
        return self._host(host)[2]

    def host_ip(self, host: str) -> str:
        """The host's management address (compute_nodes.host_ip, migrations.dest_host)."""
        i = self._host(host)[0] + 10
        return f"172.16.{i >> 8}.{i & 255}"

    def other_host(self, host: str, same_cell: bool = True) -> str:
        pool = self.hosts_in(self.cell_of(host)) if same_cell else (h for h, _ in self.hosts)
        return next(h for h in pool if h != host)

    def domain_of(self, host: str, uuid: str) -> DomainSpec:
        return next(d for d in self.domains[host] if d.uuid == uuid)

    def next_id(self, counter: str) -> int:
        n = self._next_id[counter] = self._next_id.get(counter, 0) + 1
        return n

    def find(self, uuid: str) -> dict:
        return next(r for rows in self.instances.values() for r in rows if r["uuid"] == uuid)

    def mapping(self, uuid: str) -> dict:
        """The instance mapping of a row added since consistent_cloud (searched from the newest)."""
        return next(m for m in reversed(self.mappings) if m["instance_uuid"] == uuid)

    # -- every row, the past's included ---------------------------------------------------
    def instance_rows(self, cell: str) -> Iterator[dict]:
        """The cell's `instances` rows in the order they were added: its live ones, the
        soft-deleted ones of the past (made now), every row added since."""
        rows = self.instances.get(cell, [])
        at = self.past.held_before.get(cell, len(rows)) if self.past else len(rows)
        yield from rows[:at]
        if self.past:
            yield from self.past.instances(cell)
        yield from rows[at:]

    def shadow_rows(self, cell: str) -> Iterator[dict]:
        """The cell's `shadow_instances` rows: the past's archived ones, then those archived since."""
        if self.past:
            yield from self.past.archived(cell)
        yield from self.shadow.get(cell, [])

    def all_mappings(self) -> Iterator[tuple[dict, bool]]:
        """Every instance mapping in the order they were made, with whether the past made it
        (then its instance is soft-deleted)."""
        at = self.past.mappings_before if self.past else len(self.mappings)
        yield from ((m, False) for m in self.mappings[:at])
        if self.past:
            yield from ((m, True) for m in self.past.mappings())
        yield from ((m, False) for m in self.mappings[at:])

    def counts(self) -> tuple[int, int]:
        """(instances rows, shadow_instances rows) in every cell."""
        live = sum(len(v) for v in self.instances.values())
        archived = sum(len(v) for v in self.shadow.values())
        if self.past:
            live, archived = live + self.past.deleted, archived + self.past.total - self.past.deleted
        return live, archived

    # -- building blocks ----------------------------------------------------------------
    def add_instance(
        self,
        cell: str,
        host: str | None,
        *,
        mapped=True,
        domain=True,
        folder=True,
        **kw,
    ) -> dict:
        """A row (new_row's keywords) in the cell, mapped, with its domain and folder on its
        host while it is not deleted."""
        row = new_row(self.rng, self.now, cell, self.next_id(cell), host, **kw)
        self.instances.setdefault(cell, []).append(row)
        if mapped:
            self.mappings.append(new_mapping(row, cell))
        deleted = kw.get("deleted", False)
        if domain and host and not deleted:
            self.add_domain(host, row, active=row["power_state"] == 1)
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
        and the instance mapping is deleted.  (A row added since consistent_cloud: looked
        for from the newest.)"""
        rows = self.instances[cell]
        del rows[next(k for k in range(len(rows) - 1, -1, -1) if rows[k] is row)]
        self.shadow.setdefault(cell, []).append(row)
        k = next(
            (k for k in range(len(self.mappings) - 1, -1, -1) if self.mappings[k]["instance_uuid"] == row["uuid"]), None
        )
        if k is not None:
            del self.mappings[k]

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


def new_uuid(rng: random.Random) -> str:
    return str(uuidlib.UUID(int=rng.getrandbits(128), version=4))


def new_row(
    rng: random.Random,
    now: dt.datetime,
    cell: str,
    n: int,
    host: str | None,
    *,
    vm_state="active",
    task_state=None,
    power_state=1,
    deleted=False,
    age=dt.timedelta(days=20),
    deleted_age=dt.timedelta(days=3),
) -> dict:
    """The lab's `instances` row `n` of `cell` (two draws from `rng`: its project, its uuid)."""
    project = f"project-{rng.randrange(1, 40):02d}"
    row = {
        "uuid": new_uuid(rng),
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
        "created_at": now - age,
        "updated_at": now - age,
        "deleted_at": None,
        "launched_at": now - age,
        "cleaned": 0,
    }
    if deleted:
        row.update(
            deleted=n,
            vm_state="deleted",
            power_state=0,
            deleted_at=now - deleted_age,
            updated_at=now - deleted_age,
            cleaned=1,
        )
    return row


def new_mapping(row: dict, cell: str | None) -> dict:
    return {
        "instance_uuid": row["uuid"],
        "cell": cell,
        "project_id": row["project_id"],
        "user_id": row["user_id"],
        "created_at": row["created_at"],
    }


@dataclass
class History:
    """The instances a cloud deleted before the lab looks at it: `deleted_per_live` and
    `archived_per_live` rows per live instance (L: 442,750; XL: 4.2 million), which
    consistent_cloud draws once and does not keep: each row is made again, the same, where
    it is read, from the random state it was first drawn with.

    Row i copies live instance i % len(live)'s cell and host.  Rows i < `deleted` are
    soft-deleted, in their cell's `instances` after its live rows (`held_before`: the rows
    the cell held then) and mapped (after the `mappings_before` mappings then); the others
    were archived (`nova-manage db archive_deleted_rows`) to `shadow_instances`, unmapped.
    The rows come in runs of one cell (the live instances are grouped by cell); the random
    state and the cell's last id at the start of each run let one cell's rows be made
    without the others'."""

    now: dt.datetime
    live: list  # (cell, host) of each live instance, in the order they were added
    deleted: int
    total: int
    held_before: dict
    mappings_before: int
    runs: list = field(default_factory=list)  # (first i, end i, cell, random state, the cell's last id)

    def draw(self, rng: random.Random, next_id) -> None:
        """Draw every row once from `rng` (the cloud's, left where keeping them would have
        left it; `next_id` its id counter), recording where each run starts."""
        for i in range(self.total):
            cell, host = self.live[i % len(self.live)]
            if not self.runs or self.runs[-1][2] != cell:
                state = rng.getstate()
                self.runs.append([i, self.total, cell, (state[0], array("I", state[1]), state[2]), next_id(cell) - 1])
                if len(self.runs) > 1:
                    self.runs[-2][1] = i
            else:
                next_id(cell)
            self._row(rng, i, cell, host, 0)

    def _row(self, rng: random.Random, i: int, cell: str, host: str, n: int) -> dict:
        return new_row(rng, self.now, cell, n, host, deleted=True, deleted_age=dt.timedelta(days=10 + i % 50))

    def _replay(self, cell: str | None, first: int, end: int) -> Iterator[tuple[str, dict]]:
        """(cell, row) of rows first <= i < end (of `cell`, or of every cell), in the order drawn."""
        rng = random.Random()
        for start, stop, run_cell, state, last in self.runs:
            if (cell is not None and run_cell != cell) or stop <= first or start >= end:
                continue
            rng.setstate((state[0], tuple(state[1]), state[2]))
            for i in range(start, min(stop, end)):
                row = self._row(rng, i, run_cell, self.live[i % len(self.live)][1], last + 1 + i - start)
                if i >= first:
                    yield run_cell, row

    def instances(self, cell: str) -> Iterator[dict]:
        """The cell's soft-deleted rows."""
        return (row for _, row in self._replay(cell, 0, self.deleted))

    def archived(self, cell: str) -> Iterator[dict]:
        """The cell's archived rows (in shadow_instances)."""
        return (row for _, row in self._replay(cell, self.deleted, self.total))

    def mappings(self) -> Iterator[dict]:
        """The soft-deleted rows' mappings, in the order drawn (archiving deleted the others')."""
        return (new_mapping(row, cell) for cell, row in self._replay(None, 0, self.deleted))


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
    live = [(cell, r["host"]) for cell, rows in cloud.instances.items() for r in rows]
    n_deleted = int(len(live) * profile.deleted_per_live)
    n_archived = int(len(live) * profile.archived_per_live)
    cloud.past = History(
        now,
        live,
        n_deleted,
        n_deleted + n_archived,
        {cell: len(rows) for cell, rows in cloud.instances.items()},
        len(cloud.mappings),
    )
    cloud.past.draw(cloud.rng, cloud.next_id)
    # a failed build lives in cell0, deleted, with no host: Nova keeps those too
    cloud.add_instance("cell0", None, vm_state="error", power_state=0, domain=False, folder=False)
    return cloud
