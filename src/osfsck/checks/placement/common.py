"""What the Placement checks share: Placement's completeness, references, evidence, and one
view of providers against Nova's compute nodes, built once per run."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from osfsck.checks.base import CheckOutput, place_ref, scope_complete
from osfsck.checks.evidence import iso
from osfsck.model.facts.base import FactType
from osfsck.model.facts.nova import ComputeNode, cell_scope
from osfsck.model.facts.placement import (
    COMPUTE_CLASSES,
    PLACEMENT_SCOPE,
    Allocation,
    Consumer,
    Inventory,
    ResourceProvider,
)
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

# Grace for allocations in flight.  Nova moves allocations in several steps (the scheduler
# claims, a migration swaps the source's allocation to the migration's uuid, confirm or
# revert deletes it), each seconds apart; a failed step is retried by the periodic tasks
# within minutes.  Half an hour keeps every legitimate step out and still catches a leak on
# the next run.
MIN_AGE = 1800


def consumer_ref(uuid: str) -> ObjectRef:
    return ObjectRef("placement-consumer", uuid, PLACEMENT_SCOPE)


def provider_ref(uuid: str) -> ObjectRef:
    return ObjectRef("resource-provider", uuid, PLACEMENT_SCOPE)


def with_placement(snap: Snapshot, out: CheckOutput, *kinds: FactType) -> bool:
    """True when every Placement kind the check reads is complete; otherwise "placement" is
    recorded inconclusive and the check must judge nothing."""
    return scope_complete(snap, out, PLACEMENT_SCOPE, (Allocation, ResourceProvider, *kinds))


def allocations_evidence(allocs: Iterable[Any]) -> dict[str, Any]:
    """{provider uuid: {resource class: used}} of one consumer."""
    out: dict[str, dict[str, int]] = {}
    for a in sorted(allocs):
        out.setdefault(a.provider_uuid, {})[a.resource_class] = a.used
    return out


def consumer_evidence(c: Consumer | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "uuid": c.uuid,
        "project_id": c.project_id,
        "user_id": c.user_id,
        "generation": c.generation,
        "consumer_type": c.consumer_type,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


def provider_evidence(p: ResourceProvider) -> dict[str, Any]:
    return {
        "uuid": p.uuid,
        "name": p.name,
        "generation": p.generation,
        "root_provider_uuid": p.root_provider_uuid,
        "parent_provider_uuid": p.parent_provider_uuid,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
    }


def node_evidence(n: ComputeNode) -> dict[str, Any]:
    return {"cell": n.cell, "uuid": n.uuid, "host": n.host, "hypervisor_hostname": n.hypervisor_hostname}


class PlacementIndex:
    """Providers by uuid and their roots, which roots are compute nodes' (a Nova compute
    node's provider has the node's uuid), the set of consumers holding anything, and the
    allocations of the few consumers a check judges."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.providers = {p.uuid: p for p in snap.of(ResourceProvider)}
        self.nodes = {n.uuid: n for n in snap.of(ComputeNode) if n.uuid}
        self.nodes_of_host = defaultdict(list)
        self.nodes_named = defaultdict(list)
        for n in self.nodes.values():
            self.nodes_of_host[n.host].append(n)
            self.nodes_named[n.hypervisor_hostname].append(n)
        self.classes_of = defaultdict(set)
        for i in snap.of(Inventory):
            self.classes_of[i.provider_uuid].add(i.resource_class)
        # provider -> the compute node at its root (a node's provider has the node's uuid)
        self.node_of_provider = {}
        for p in self.providers.values():
            node = self.nodes.get(p.root_provider_uuid or p.uuid)
            if node is not None:
                self.node_of_provider[p.uuid] = node
        # the set of consumers with any allocation, in C: 10^5-10^6 rows on a large cloud
        self.allocated = {a[1] for a in snap.of(Allocation)}

    def root_of(self, provider_uuid: str) -> str:
        p = self.providers.get(provider_uuid)
        return (p.root_provider_uuid or p.uuid) if p else provider_uuid

    def node_of_root(self, root_uuid: str) -> ComputeNode | None:
        return self.nodes.get(root_uuid)

    def is_compute_like(self, root_uuid: str) -> bool:
        """A root provider that is, or looks like, a compute node's: a node's uuid, or an
        inventory of VCPU, PCPU or MEMORY_MB (which sharing storage providers never have)."""
        return root_uuid in self.nodes or bool(self.classes_of.get(root_uuid, set()) & COMPUTE_CLASSES)

    def allocations_of(self, consumers: Iterable[str]) -> dict[str, list[Any]]:
        """The allocations of `consumers`, in one pass (an index of every consumer's would
        cost more than the few judged use)."""
        wanted = set(consumers)
        found = defaultdict(list)
        if wanted:
            for a in self.snap.of(Allocation):
                if a[1] in wanted:
                    found[a[1]].append(a)
        return found

    def consumers_of(self, uuids: Iterable[str]) -> dict[str, Consumer]:
        wanted = set(uuids)
        return {c.uuid: c for c in self.snap.of(Consumer) if c.uuid in wanted} if wanted else {}

    def nodes_complete(
        self, out: CheckOutput, cells: Iterable[str], about: ObjectRef | None = None, walked: bool = False
    ) -> bool:
        """Every cell's compute nodes read; otherwise each partial cell is recorded (for
        `about`, the object judged; `walked`: for what lies in that cell)."""
        ok = True
        for cell in cells:
            scope = cell_scope(cell)
            if not self.snap.is_complete(ComputeNode, scope):
                out.inconclusive(
                    scope, self.snap.why_incomplete(ComputeNode, scope), place_ref(scope) if walked else about
                )
                ok = False
        return ok


def placement_index(snap: Snapshot) -> PlacementIndex:
    idx = snap.memo.get("placement_index")
    if idx is None:
        # weakly back to the snapshot that holds the memo: no cycle (design §9)
        idx = snap.memo["placement_index"] = PlacementIndex(weakref.proxy(snap))
    return idx
