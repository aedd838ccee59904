from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.evidence import instance_evidence, iso
from osfsck.checks.instance_index import LIVE, instance_index, instance_ref, undecided
from osfsck.checks.network.common import (
    binding_evidence,
    bindings_of,
    port_evidence,
    port_ref,
    ports_by_id,
    with_neutron,
)
from osfsck.model.facts.neutron import NEUTRON_SCOPE, NeutronPort, PortBinding
from osfsck.model.facts.nova import (
    ArchivedInstance,
    Cell,
    Instance,
    InstanceMapping,
    Migration,
    cell_scope,
)
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot
from osfsck.rules.ownership import is_compute_port

# a live migration's destination binding lives for the migration; half an hour after the
# migration (or the port) last changed, a leftover is no longer in anyone's hands
MIN_AGE = 1800


def binding_ref(port_id: str, host: str) -> ObjectRef:
    return ObjectRef("port-binding", f"{port_id}/{host}", NEUTRON_SCOPE)


class StalePortBindingEvidence(TypedDict):
    """What every NT103 finding's evidence holds."""

    binding: dict[str, Any]
    bindings: list[dict[str, Any]]
    instance: dict[str, Any]
    last_migration: dict[str, Any]
    port: dict[str, Any]


class StalePortBinding(Check):
    """An INACTIVE port binding left behind by a live migration that is over.

    Why it matters:
        A live migration creates an INACTIVE binding of each port on the destination and
        activates it at the end; Nova then deletes the source's binding, and a rollback
        deletes the destination's.  A binding left behind when that cleanup fails keeps
        the port half-bound to another host: the next live migration to that host fails
        with "binding for port ... already exists" (a 409 from Neutron), and some
        mechanism drivers keep flows or OVN `requested-chassis` entries for it.

    How it is detected:
        Every INACTIVE binding of a compute port whose instance is live, when no migration
        of that instance is in progress (any status that is not terminal) in its cell.

    Known false positives:
        A live migration (or cross-cell resize, which also binds ports on the destination
        ahead of time) in progress is normal and skipped.  Bindings whose port, or whose
        instance's last migration, changed within `min_age` (default 30 min) are skipped:
        Nova removes the leftover binding as the migration completes.  When the instance's
        cell could not be read (its migrations are unknown) the binding is inconclusive
        for that cell.  Ports of deleted instances are orphan-port's subject.

    Repair:
        `delete-port-binding` (unsafe) deletes the INACTIVE `ml2_port_bindings` row (and
        its binding levels) in Neutron's database, conditional on it being as seen, in one
        transaction; `osfsck undo` re-inserts the rows.  Through the API it would be
        `DELETE /v2.0/ports/{id}/bindings/{host}` (port-bindings extension).
    """

    code = "NT103"
    evidence_shape = StalePortBindingEvidence
    name = "stale-port-binding"
    severity = Severity.LOW
    needs = (NeutronPort, PortBinding, Instance, ArchivedInstance, InstanceMapping, Migration, Cell)
    relies_on = (Migration,)
    repairs = ("delete-port-binding",)
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not with_neutron(snap, out, PortBinding):
            return
        idx = instance_index(snap)
        ports = ports_by_id(snap)
        min_age = float(self.params["min_age"])
        # INACTIVE bindings exist only during (or after) a live migration: few, so start there
        with_inactive = sorted({b.port_id for b in snap.of(PortBinding) if b.status == "INACTIVE"})
        bindings_by_port = bindings_of(snap, with_inactive)
        for port_id in with_inactive:
            p = ports.get(port_id)
            bindings = bindings_by_port[port_id]
            inactive = [b for b in bindings if b.status == "INACTIVE"]
            if p is None or not is_compute_port(p) or not p.device_id:
                continue
            st = idx.status(p.device_id)
            if st.state != LIVE:
                undecided(out, st, port_ref(p.id))
                continue
            row = st.row
            if not idx.cell_complete(row.cell):
                out.inconclusive(cell_scope(row.cell), idx.cell_reason(row.cell), port_ref(p.id))
                continue
            out.examine(len(inactive))
            if idx.in_progress_migrations(p.device_id):
                continue
            last = max(
                idx.migrations.get(p.device_id, ()), key=lambda m: (m.updated_at or m.created_at, m.id), default=None
            )
            if recent(snap, p.updated_at or p.created_at, min_age) or (
                last is not None and recent(snap, last.updated_at or last.created_at, min_age)
            ):
                continue
            active = sorted(b.host for b in bindings if b.status == "ACTIVE")
            after = (
                f" after {last.migration_type or 'migration'} {last.uuid or last.id} ({last.status}, "
                f"{last.source_compute} -> {last.dest_compute})"
                if last
                else ""
            )
            for b in inactive:
                out.found(
                    binding_ref(p.id, b.host),
                    f"Port binding {p.id}/{b.host} of instance {p.device_id} is INACTIVE with no migration in "
                    f"progress{after}; the active binding is on {', '.join(active) or 'no host'}.",
                    related=[port_ref(p.id), instance_ref(p.device_id, row.cell)],
                    evidence={
                        "binding": binding_evidence(b),
                        "port": port_evidence(p),
                        "bindings": [binding_evidence(x) for x in sorted(bindings)],
                        "instance": instance_evidence(row),
                        "last_migration": None
                        if last is None
                        else {
                            "id": last.id,
                            "uuid": last.uuid,
                            "type": last.migration_type,
                            "status": last.status,
                            "source_compute": last.source_compute,
                            "dest_compute": last.dest_compute,
                            "updated_at": iso(last.updated_at or last.created_at),
                        },
                    },
                    changed_at=max((t for t in (p.updated_at, last and last.updated_at) if t), default=None),
                )
