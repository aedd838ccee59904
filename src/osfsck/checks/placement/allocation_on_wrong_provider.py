from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.instance_index import instance_index, instance_ref, moves_known, undecided
from osfsck.checks.placement.common import (
    MIN_AGE,
    allocations_evidence,
    consumer_ref,
    node_evidence,
    placement_index,
    provider_ref,
    with_placement,
)
from osfsck.model.facts.nova import (
    API_SCOPE,
    ArchivedInstance,
    Cell,
    ComputeNode,
    Instance,
    InstanceMapping,
    Migration,
)
from osfsck.model.facts.placement import Allocation, Consumer, ResourceProvider
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot


class AllocationOnWrongProviderEvidence(TypedDict):
    """What every PL103 finding's evidence holds."""

    allocations: dict[str, Any]
    compute_node: dict[str, Any]
    consumer_generation: int
    instance: dict[str, Any]
    wrong_providers: list[str]


class AllocationOnWrongProvider(Check):
    """A live instance's allocation is against another host's compute node.

    Why it matters:
        The instance's resources are counted on a host it does not run on: that host
        looks fuller than it is (builds are refused there) while its own host looks
        emptier (the scheduler overcommits it).  A later migration or resize moves the
        wrong allocation and can fail.  It is left behind by a migration or evacuation
        that failed after moving the guest, or by an operator's `nova-manage` edit.

    How it is detected:
        For every live instance with a host and no migration in progress, each of its
        allocations is traced to its provider's root; a root that is a compute node's
        provider (the node's uuid) must be a node of the instance's host, or of the
        source of an evacuation that Nova has not cleaned up yet (the source keeps its
        allocation until its nova-compute starts again).  Nested providers (vGPUs,
        bandwidth) count by their root; sharing providers (no compute node) are not judged.

    Known false positives:
        Instances changed within `min_age` (default 30 min) and instances with a
        migration in progress (a resize or live migration holds the destination on the
        instance and the source on the migration) are skipped, as are instances with a
        task in flight.

    Repair:
        `move-allocation-to-compute-node` (unsafe) rewrites the consumer's allocations
        through the Placement API with the same resources against the instance's compute
        node's provider, conditional on the consumer generation read (409: it changed,
        left alone); `osfsck undo` puts the old allocations back.
    """

    code = "PL103"
    evidence_shape = AllocationOnWrongProviderEvidence
    name = "allocation-on-wrong-provider"
    severity = Severity.MEDIUM
    needs = (
        Allocation,
        Consumer,
        ResourceProvider,
        ComputeNode,
        Instance,
        ArchivedInstance,
        InstanceMapping,
        Cell,
        Migration,
    )
    relies_on = (Allocation, ResourceProvider, ComputeNode, Instance, Migration)
    repairs = ("move-allocation-to-compute-node", "allocation-on-wrong-provider-runbook")
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not with_placement(snap, out, Consumer):
            return
        idx = instance_index(snap)
        px = placement_index(snap)
        min_age = float(self.params["min_age"])
        node_of, primaries = px.node_of_provider.get, idx.primaries.get
        suspects = {}
        out.examine(len(px.allocated))
        # a provider of a node we could not read is not known as a compute node's, and a
        # consumer live only in a cell we could not read is not known as an instance
        if not idx.api_complete:
            out.inconclusive(API_SCOPE, idx.api_reason())  # a cell it does not list has both
        nodes_read = px.nodes_complete(out, sorted(idx.cell_names), walked=True)
        unsure = bool(idx.partial_cells)
        for a in snap.of(Allocation):  # 10^5-10^6 rows: two dict lookups each
            node = node_of(a[2])
            if node is not None:
                row = primaries(a[1])
                if row is not None and row.host and node.host != row.host:
                    suspects[a[1]] = row
                elif row is None and unsure and not idx.mapped_outside(a[1]):
                    undecided(out, idx.status(a[1]), consumer_ref(a[1]))
            elif not nodes_read and a[1] in idx.primaries and px.is_compute_like(px.root_of(a[2])):
                # a live instance's allocation against a compute provider of no node read:
                # a node of a cell not read, maybe another host's
                px.nodes_complete(out, sorted(idx.cell_names), consumer_ref(a[1]))
        allocs = px.allocations_of(suspects)
        consumers = px.consumers_of(suspects)
        for uuid in sorted(suspects):
            row = suspects[uuid]
            if row.task_state or recent(snap, row.updated_at or row.created_at, min_age):
                continue
            if not moves_known(out, idx, uuid, consumer_ref(uuid)) or idx.in_progress_migrations(uuid):
                continue
            c = consumers.get(uuid)
            if c is not None and recent(snap, c.updated_at or c.created_at, min_age):
                continue
            if not px.nodes_complete(out, [row.cell], consumer_ref(uuid)):
                continue
            hosts = idx.expected_hosts(uuid)  # its host, and an evacuation's source not yet cleaned
            wrong = sorted(
                {
                    a.provider_uuid
                    for a in allocs[uuid]
                    if (n := px.node_of_provider.get(a.provider_uuid)) is not None and n.host not in hosts
                }
            )
            if not wrong:
                continue
            own = [n for n in px.nodes_of_host.get(row.host, ()) if n.cell == row.cell]
            node = next((n for n in own if n.hypervisor_hostname == row.node), own[0] if len(own) == 1 else None)
            others = ", ".join(f"{px.node_of_provider[p].host}'s provider {p}" for p in wrong)
            out.found(
                consumer_ref(uuid),
                f"Instance {uuid} runs on {row.host} in cell:{row.cell}, but its allocation is against "
                f"{others}{'' if node is None else f' instead of its compute node {node.uuid}'}.",
                related=[instance_ref(uuid, row.cell), *(provider_ref(p) for p in wrong)],
                evidence={
                    "instance": {**instance_evidence(row), "node": row.node},
                    "compute_node": node_evidence(node) if node else None,
                    "wrong_providers": wrong,
                    "allocations": allocations_evidence(allocs[uuid]),
                    "consumer_generation": c.generation if c else None,
                },
                changed_at=row.updated_at or row.created_at,
            )
