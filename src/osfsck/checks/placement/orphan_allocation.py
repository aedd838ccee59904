from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.instance_index import (
    LIVE,
    UNKNOWN,
    InstanceIndex,
    gone_because,
    instance_index,
    instance_ref,
    may_be_building,
    undecided,
)
from osfsck.checks.placement.common import (
    MIN_AGE,
    allocations_evidence,
    consumer_evidence,
    consumer_ref,
    placement_index,
    provider_ref,
    with_placement,
)
from osfsck.model.facts.nova import (
    API_SCOPE,
    MIGRATION_TERMINAL,
    ArchivedInstance,
    BuildRequest,
    Cell,
    ComputeNode,
    Instance,
    InstanceMapping,
    Migration,
)
from osfsck.model.facts.placement import (
    CONSUMER_INSTANCE,
    CONSUMER_MIGRATION,
    Allocation,
    Consumer,
    Inventory,
    ResourceProvider,
)
from osfsck.model.finding import Confidence, Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

GiB = 1024**3
_NOVA_CONSUMER_TYPES = (None, CONSUMER_INSTANCE, CONSUMER_MIGRATION)


class _OrphanAllocationEvidenceAlways(TypedDict):
    allocations: dict[str, Any]
    consumer: dict[str, Any]


class OrphanAllocationEvidence(_OrphanAllocationEvidenceAlways, total=False):
    """What every PL101 finding's evidence holds (and, below, what some do)."""

    instance: dict[str, Any] | None
    migration: dict[str, Any]


class OrphanAllocation(Check):
    """An allocation's consumer is neither a live instance nor a migration in progress.

    Why it matters:
        Leaked allocations make hypervisors look full: the scheduler refuses hosts that
        have room (NoValidHost), and usage counted from Placement (`count_usage_from_placement`)
        charges tenants for servers they deleted.  They come from evacuations of a host
        that was down, forced-down computes, failed resizes whose migration kept the
        source's allocation, and deletes that failed half-way.

    How it is detected:
        Every consumer with an allocation on a compute node's provider tree (a root whose
        uuid is a compute node's, or that offers VCPU, PCPU or MEMORY_MB) is looked up
        among Nova's instances and migrations: a consumer that is a live instance is
        settled at once (a set difference over the consumers, so 10^5 allocations cost
        milliseconds).  Of the rest, a migration in progress, a build request or an
        instance mapping without a cell (scheduled, not yet in a cell) are left alone; a
        deleted instance (archived or not), a finished or failed migration, or a uuid that
        no cell and no API database knows is an orphan.  Consumers of other services (a
        consumer type other than INSTANCE or MIGRATION) and allocations on sharing
        providers only are not Nova's to judge.

    Known false positives:
        The race that `nova-manage placement audit --delete` misses: the scheduler claims
        before the compute sets `instance.host`, so an instance scheduled but not yet
        claimed (no host, still a build request, or a mapping without a cell) is never
        reported.  A consumer changed within `min_age` (default 30 min) and an instance
        deleted within it are skipped: Nova may still be deleting its allocations.  A
        uuid whose cell could not be read is inconclusive, never an orphan.

    Repair:
        `delete-orphan-allocations` (unsafe) removes all the consumer's allocations
        through the Placement API (PUT of an empty set, conditional on the consumer
        generation read: a consumer that changed meanwhile is left alone); the
        before-image is the consumer's allocations with its project, user and type, and
        `osfsck undo` puts them back.
    """

    code = "PL101"
    evidence_shape = OrphanAllocationEvidence
    name = "orphan-allocation"
    severity = Severity.MEDIUM
    needs = (
        Allocation,
        Consumer,
        ResourceProvider,
        Inventory,
        ComputeNode,
        Instance,
        ArchivedInstance,
        InstanceMapping,
        BuildRequest,
        Cell,
        Migration,
    )
    relies_on = (Instance, ArchivedInstance, InstanceMapping, BuildRequest, Cell, Migration)
    repairs = ("delete-orphan-allocations", "orphan-allocation-runbook")
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not with_placement(snap, out, Consumer, Inventory):
            return
        idx = instance_index(snap)
        px = placement_index(snap)
        out.examine(len(px.allocated))
        suspects = px.allocated - idx.primaries.keys()  # every live instance settled in C
        if not suspects:
            return
        min_age = float(self.params["min_age"])
        migrations = {m.uuid: m for m in snap.of(Migration) if m.uuid in suspects}
        allocs = px.allocations_of(suspects)
        consumers = px.consumers_of(suspects)
        for uuid in sorted(suspects):
            consumer = consumers.get(uuid)
            if consumer is not None and consumer.consumer_type not in _NOVA_CONSUMER_TYPES:
                continue
            mine = allocs[uuid]
            if not any(px.is_compute_like(px.root_of(a.provider_uuid)) for a in mine):
                continue
            if consumer is not None and recent(snap, consumer.updated_at or consumer.created_at, min_age):
                continue
            orphan = self._why_orphan(snap, out, idx, uuid, migrations.get(uuid), min_age)
            if orphan is None:
                continue
            why, related, evidence, confidence = orphan
            totals: dict[str, int] = {}
            for a in mine:
                totals[a.resource_class] = totals.get(a.resource_class, 0) + a.used
            providers = sorted({a.provider_uuid for a in mine})
            held = ", ".join(f"{n} {rc}" for rc, n in sorted(totals.items()))
            out.found(
                consumer_ref(uuid),
                f"Placement consumer {uuid} holds {held} on {_providers_phrase(px, providers)}, but it {why}.",
                related=[*related, *(provider_ref(p) for p in providers)],
                evidence={
                    "consumer": consumer_evidence(consumer),
                    "allocations": allocations_evidence(mine),
                    **evidence,
                },
                confidence=confidence,
                changed_at=consumer.updated_at or consumer.created_at if consumer else None,
                reclaim={
                    "vcpus": totals.get("VCPU", 0) + totals.get("PCPU", 0),
                    "memory_mb": totals.get("MEMORY_MB", 0),
                    "disk_bytes": totals.get("DISK_GB", 0) * GiB,
                },
            )

    @staticmethod
    def _why_orphan(
        snap: Snapshot, out: CheckOutput, idx: InstanceIndex, uuid: str, migration: Migration | None, min_age: float
    ) -> tuple[str, tuple[ObjectRef, ...], dict[str, Any], Confidence] | None:
        """(why the consumer is an orphan, related refs, evidence, confidence), or None when it
        is not one or cannot be decided."""
        if migration is not None:
            if (migration.status or "") not in MIGRATION_TERMINAL or recent(snap, migration.updated_at, min_age):
                return None
            ev: dict[str, Any] = {
                "migration": {
                    "cell": migration.cell,
                    "id": migration.id,
                    "uuid": migration.uuid,
                    "instance_uuid": migration.instance_uuid,
                    "type": migration.migration_type,
                    "status": migration.status,
                    "source_compute": migration.source_compute,
                    "dest_compute": migration.dest_compute,
                }
            }
            why = (
                f"is {migration.migration_type or 'migration'} {migration.id} of instance "
                f"{migration.instance_uuid}, {migration.status} in cell:{migration.cell}"
            )
            related = (instance_ref(migration.instance_uuid, migration.cell),) if migration.instance_uuid else ()
            return why, related, ev, Confidence.HIGH
        ref = consumer_ref(uuid)
        if may_be_building(out, idx, uuid, ref):
            return None  # still a build request: scheduled, not yet in a cell
        mapping = idx.mappings.get(uuid)
        if (
            mapping is not None
            and mapping.cell_uuid is not None
            and idx.cell_name(mapping.cell_uuid) is None
            and not idx.api_complete
        ):
            out.inconclusive(API_SCOPE, idx.api_reason(), ref)  # its cell may be one we could not list
            return None
        if mapping is not None and (mapping.cell_uuid is None or idx.cell_name(mapping.cell_uuid) is None):
            # scheduled and not yet in a cell; or mapped to a cell the API database does not
            # list, which another check reports: nothing to say about its allocations
            return None
        st = idx.status(uuid)
        if undecided(out, st, ref) or st.state == LIVE:
            return None
        if st.instance is not None and recent(snap, st.instance.deleted_at, min_age):
            return None
        ev = {"instance": instance_evidence(st.instance) if st.instance else None}
        cell = st.instance.cell if st.instance else (st.archived.cell if st.archived else None)
        related = (instance_ref(uuid, cell),) if cell else ()
        # a uuid nobody knows may be another service's untyped consumer: say so
        confidence = Confidence.MEDIUM if st.state == UNKNOWN else Confidence.HIGH
        return f"{gone_because(st)}", related, ev, confidence


def _providers_phrase(px: Any, providers: Iterable[str]) -> str:
    names = []
    for p in providers:
        rp = px.providers.get(p)
        names.append(f"{rp.name} ({p})" if rp and rp.name else p)
    return ("provider " if len(names) == 1 else "providers ") + ", ".join(names)
