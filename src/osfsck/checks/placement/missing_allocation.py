from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.instance_index import instance_index, instance_ref, moves_known
from osfsck.checks.placement.common import MIN_AGE, node_evidence, placement_index, provider_ref, with_placement
from osfsck.model.facts.nova import ArchivedInstance, Cell, ComputeNode, Instance, InstanceMapping, Migration
from osfsck.model.facts.placement import Allocation, ResourceProvider
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot

# vm_states whose instance holds no allocation by design: shelve-offload and delete remove
# it, a build has not been claimed yet
_HOLDS_NOTHING = frozenset({"shelved_offloaded", "building", "deleted"})


class MissingAllocationEvidence(TypedDict):
    """What every PL102 finding's evidence holds."""

    compute_node: dict[str, Any]
    instance: dict[str, Any]
    provider_exists: bool


class MissingAllocation(Check):
    """A live instance on a host holds no allocation in Placement.

    Why it matters:
        The scheduler believes the instance's vCPUs, RAM and disk are free and places
        other instances on top of them: the host is overcommitted beyond its allocation
        ratios, and guests are OOM-killed or starve.  Usage counted from Placement misses
        the instance, so its tenant can exceed the quota.  A later resize or migration
        of the instance fails, since there is no allocation to move.

    How it is detected:
        Every live instance (the copy the API shows) with a host, in a settled state (no
        task, no migration in progress, not building, not shelved-offloaded), whose uuid
        holds no allocation at all in Placement.

    Known false positives:
        Instances changed within `min_age` (default 30 min) are skipped: a build or an
        unshelve claims moments after the host is set, and Nova's periodic
        update_available_resource heals some cases by itself.  Instances with a task in
        flight are skipped as `nova-manage placement heal_allocations` does.

    Repair:
        `create-missing-allocation` (unsafe) creates the allocation as `heal_allocations`
        does, from the instance's flavor as its cell database holds it now (VCPU,
        MEMORY_MB, DISK_GB = root + ephemeral, none for a boot-from-volume root) against
        its compute node's provider, only if the consumer still does not exist (consumer
        generation null: Placement refuses with 409 otherwise); `osfsck undo` deletes it.
    """

    code = "PL102"
    evidence_shape = MissingAllocationEvidence
    name = "missing-allocation"
    severity = Severity.HIGH
    needs = (Allocation, ResourceProvider, ComputeNode, Instance, ArchivedInstance, InstanceMapping, Cell, Migration)
    relies_on = (Allocation, ResourceProvider, Migration)
    repairs = ("create-missing-allocation", "missing-allocation-runbook")
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not with_placement(snap, out):
            return
        idx = instance_index(snap)
        px = placement_index(snap)
        min_age = float(self.params["min_age"])
        allocated = px.allocated
        for uuid, row in idx.primaries.items():
            if not row.host or row.task_state or row.vm_state in _HOLDS_NOTHING:
                continue
            out.examine()
            if uuid in allocated or recent(snap, row.updated_at or row.created_at, min_age):
                continue
            if not moves_known(out, idx, uuid, instance_ref(uuid, row.cell)) or idx.in_progress_migrations(uuid):
                continue
            nodes = [n for n in px.nodes_of_host.get(row.host, ()) if n.cell == row.cell]
            node = next((n for n in nodes if n.hypervisor_hostname == row.node), nodes[0] if len(nodes) == 1 else None)
            # every node PlacementIndex keeps has a uuid: node_uuid is set exactly when node is
            node_uuid = node.uuid if node else None
            rp = px.providers.get(node_uuid) if node_uuid else None
            where = f"compute node {node.hypervisor_hostname} (provider {node_uuid})" if node else f"host {row.host}"
            out.found(
                instance_ref(uuid, row.cell),
                f"Instance {uuid} ({row.vm_state}, {row.vcpus} vCPU, {row.memory_mb} MiB RAM, {row.root_gb} GB root) "
                f"runs on {where} in cell:{row.cell}, but Placement holds no allocation for it.",
                related=[provider_ref(node_uuid)] if node_uuid else [],
                evidence={
                    "instance": {
                        **instance_evidence(row),
                        "node": row.node,
                        "vcpus": row.vcpus,
                        "memory_mb": row.memory_mb,
                        "root_gb": row.root_gb,
                    },
                    "compute_node": node_evidence(node) if node else None,
                    "provider_exists": rp is not None,
                },
                changed_at=row.updated_at or row.created_at,
            )
