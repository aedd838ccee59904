"""World builders for Placement: compute nodes' providers with their inventories, consumers
and their allocations.

    w = World()
    u = w.placed_instance(host="hv1")           # an instance and its allocation on hv1's provider
    w.allocate(w.new_uuid(), "hv1")             # a consumer that is nobody
    w.provider("gone-host")                     # a compute provider with no compute node
    w.placement_down()                          # Placement's database could not be read

A host's provider has its compute node's uuid and name (World.host declares the node).
Placement's database is read completely once any of these is used, until placement_down.
"""

from __future__ import annotations

import uuid as _uuid

from osfsck.model.facts.nova import ComputeNode
from osfsck.model.facts.placement import PLACEMENT_SCOPE, Allocation, Consumer, Inventory, ResourceProvider
from osfsck.model.snapshot import Coverage

DAY = 86400
PLACEMENT_KINDS = (ResourceProvider, Inventory, Allocation, Consumer)
_PROVIDER_BASE = 0x9A0B << 64


def provider_uid(n: int) -> str:
    """The uuid of the n-th provider made for a name that is no compute node."""
    return str(_uuid.UUID(int=_PROVIDER_BASE + n))


class PlacementWorld:
    """Mixed into World, which provides `ago`, `host`, `instance`, `_facts`, `_coverage`,
    `_dropped` and `taken_at`.  Its state is made on first use (no __init__ hook)."""

    def _placement_state(self) -> dict:
        st = getattr(self, "_pl", None)
        if st is None:
            st = self._pl = {"providers": {}, "consumers": {}, "next": 0}
            for kind in PLACEMENT_KINDS:
                self._coverage[(kind.kind, PLACEMENT_SCOPE)] = Coverage(
                    kind.kind, PLACEMENT_SCOPE, "placement-db", True, "", self.taken_at
                )
        return st

    def placement(self) -> None:
        """Declare Placement's database read completely (done by any builder below)."""
        self._placement_state()

    def placement_down(self, reason: str = "Placement database: access denied") -> None:
        self._placement_state()
        for kind in PLACEMENT_KINDS:
            self._coverage[(kind.kind, PLACEMENT_SCOPE)] = Coverage(
                kind.kind, PLACEMENT_SCOPE, "placement-db", False, reason, self.taken_at
            )
            self._dropped.add((kind.kind, PLACEMENT_SCOPE))

    def node_uuid(self, host: str) -> str:
        """The uuid of `host`'s compute node (its provider's uuid)."""
        self._known_host(host)
        return next(n.uuid for n in self._facts[ComputeNode.kind] if n.host == host)

    def provider(
        self,
        name: str,
        *,
        uuid: str | None = None,
        classes=("VCPU", "MEMORY_MB", "DISK_GB"),
        parent: str | None = None,
        age=DAY,
    ) -> str:
        """A resource provider named `name` (a root unless `parent` names one) offering
        `classes`; returns its uuid.  The provider of a declared host: `host_provider`."""
        st = self._placement_state()
        if uuid is None:
            st["next"] += 1
            uuid = provider_uid(st["next"])
        root = st["providers"][parent].root_provider_uuid if parent else uuid
        at = self.ago(age)
        rp = ResourceProvider(PLACEMENT_SCOPE, uuid, name, 1, root, parent, at, at)
        st["providers"][uuid] = rp
        self._facts[ResourceProvider.kind].append(rp)
        totals = {"VCPU": 32, "PCPU": 16, "MEMORY_MB": 131072, "DISK_GB": 2000}
        for rc in classes:
            self._facts[Inventory.kind].append(
                Inventory(PLACEMENT_SCOPE, uuid, rc, totals.get(rc, 8), 0, 1, totals.get(rc, 8), 1, 1.0)
            )
        return uuid

    def host_provider(self, host: str) -> str:
        """`host`'s compute node provider (declared once); returns its uuid."""
        st = self._placement_state()
        node = self.node_uuid(host)
        if node not in st["providers"]:
            self.provider(host, uuid=node)
        return node

    def allocate(
        self,
        consumer: str,
        where: str,
        *,
        vcpus: int = 2,
        memory_mb: int = 2048,
        disk_gb: int = 20,
        consumer_type: str | None = "INSTANCE",
        project_id: str = "project-a",
        user_id: str = "user-a",
        age=DAY,
        generation: int = 1,
    ) -> None:
        """`consumer` holds vcpus/memory_mb/disk_gb on `where`: a host (its compute node's
        provider) or a provider uuid.  The consumer row is made on its first allocation."""
        st = self._placement_state()
        rp = where if where in st["providers"] else self.host_provider(where)
        for rc, n in (("VCPU", vcpus), ("MEMORY_MB", memory_mb), ("DISK_GB", disk_gb)):
            if n:
                self._facts[Allocation.kind].append(Allocation(PLACEMENT_SCOPE, consumer, rp, rc, n))
        if consumer not in st["consumers"]:
            at = self.ago(age)
            c = Consumer(PLACEMENT_SCOPE, consumer, project_id, user_id, generation, consumer_type, at, at)
            st["consumers"][consumer] = c
            self._facts[Consumer.kind].append(c)

    def migration_uuid(self, n: int) -> str:
        """The uuid of migration `n` (what `migration` returned): its allocation's consumer."""
        from osfsck.model.facts.nova import Migration

        return next(m.uuid for m in self._facts[Migration.kind] if m.id == n)

    def placed_instance(self, host: str = "hv1", **kw) -> str:
        """A live instance on `host` holding its flavor on the host's provider (the
        consistent case); keyword arguments go to `instance`.  Returns its uuid."""
        u = self.instance(host=host, **kw)
        row = self._rows[u]
        self.allocate(u, host, vcpus=row.vcpus, memory_mb=row.memory_mb, disk_gb=row.root_gb, project_id=row.project_id)
        return u
