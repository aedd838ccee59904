from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.instance_index import instance_index
from osfsck.checks.placement.common import (
    MIN_AGE,
    node_evidence,
    placement_index,
    provider_evidence,
    provider_ref,
    with_placement,
)
from osfsck.model.facts.nova import API_SCOPE, Cell, ComputeNode
from osfsck.model.facts.placement import COMPUTE_CLASSES, Allocation, Inventory, ResourceProvider
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot


class OrphanResourceProviderEvidence(TypedDict):
    """What every PL104 finding's evidence holds."""

    children: list[str]
    consumers: list[str]
    inventory_classes: list[str]
    offers: list[str]
    provider: dict[str, Any]
    same_name_nodes: list[dict[str, Any]]


class OrphanResourceProvider(Check):
    """A compute node's resource provider outlives its compute node.

    Why it matters:
        The scheduler may still pick the provider (its inventory looks free) and send
        builds to a host that does not exist, which fail and are rescheduled.  Placement
        keeps provider names unique, so when the host's nova-compute comes back with a
        new compute node (a re-installed or renamed host, a deleted compute_nodes row)
        it cannot create its provider, and the host takes no instances at all
        ("Conflicting resource provider name").

    How it is detected:
        Every root provider is matched with the compute nodes of every cell: a compute
        node's provider has the node's uuid.  A root provider with no such node is
        reported when it is a compute node's: it offers VCPU, PCPU or MEMORY_MB (a
        sharing storage provider offers DISK_GB only), or a live compute node has its
        name under another uuid.  This needs the compute nodes of every cell.

    Known false positives:
        Providers changed within `min_age` (default 30 min) are skipped: nova-compute
        creates the compute_nodes row before its provider, and deleting a compute service
        deletes the row before the provider.  Ironic nodes' providers, which offer only a
        custom resource class, are not judged unless their name is taken.  Any cell whose
        compute nodes could not be read makes the check inconclusive.

    Repair:
        `delete-orphan-resource-provider` (unsafe) deletes the provider through the
        Placement API when it has no allocations and no child providers (Placement
        refuses otherwise); the before-image is the provider with its inventories, traits
        and aggregates, and `osfsck undo` re-creates it with the same uuid and name.
        A provider that still holds allocations gets the runbook: its consumers are
        orphan allocations (or instances on the wrong provider) to resolve first.
    """

    code = "PL104"
    evidence_shape = OrphanResourceProviderEvidence
    name = "orphan-resource-provider"
    severity = Severity.MEDIUM
    needs = (ResourceProvider, Inventory, Allocation, ComputeNode, Cell)
    relies_on = (ResourceProvider, Inventory, ComputeNode, Cell)
    repairs = ("delete-orphan-resource-provider", "orphan-resource-provider-runbook")
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not with_placement(snap, out, Inventory):
            return
        if not snap.is_complete(Cell, API_SCOPE):
            out.inconclusive(API_SCOPE, snap.why_incomplete(Cell, API_SCOPE))
            return
        px = placement_index(snap)
        if not px.nodes_complete(out, sorted(instance_index(snap).cell_names)):
            return
        min_age = float(self.params["min_age"])
        flagged = []
        for p in snap.of(ResourceProvider):
            if (p.root_provider_uuid or p.uuid) != p.uuid:
                continue
            out.examine()
            if p.uuid in px.nodes or recent(snap, p.updated_at or p.created_at, min_age):
                continue
            named = px.nodes_named.get(p.name, [])
            offers = sorted(px.classes_of.get(p.uuid, set()) & COMPUTE_CLASSES)
            if named or offers:
                flagged.append((p, named, offers))
        if not flagged:
            return
        roots = {p.uuid for p, _, _ in flagged}
        children: dict[str, list[str]] = {}
        for p in snap.of(ResourceProvider):
            if p.root_provider_uuid in roots and p.uuid != p.root_provider_uuid:
                children.setdefault(p.root_provider_uuid, []).append(p.uuid)
        tree = {c: r for r, cs in children.items() for c in cs} | {r: r for r in roots}
        held: dict[str, set[str]] = {}
        for a in snap.of(Allocation):
            r = tree.get(a[2])
            if r is not None:
                held.setdefault(r, set()).add(a[1])
        for p, named, offers in sorted(flagged):
            consumers = sorted(held.get(p.uuid, ()))
            why = (
                f"compute node {named[0].host} in cell:{named[0].cell} now has its name under uuid {named[0].uuid}"
                if named
                else f"no cell has a compute node {p.uuid}"
            )
            load = f"; {len(consumers)} consumer(s) still hold allocations on it" if consumers else ""
            out.found(
                provider_ref(p.uuid),
                f"Resource provider {p.name} ({p.uuid}) is a compute node's (it offers "
                f"{', '.join(offers) or 'a compute name'}), but {why}{load}.",
                evidence={
                    "provider": provider_evidence(p),
                    "offers": offers,
                    "inventory_classes": sorted(px.classes_of.get(p.uuid, ())),
                    "children": sorted(children.get(p.uuid, ())),
                    "consumers": consumers,
                    "same_name_nodes": [node_evidence(n) for n in named],
                },
                changed_at=p.updated_at or p.created_at,
            )
