from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.domains import (
    LIBVIRT_STATE_NAMES,
    LIBVIRT_TO_NOVA_POWER,
    NOVA_POWER_NAMES,
    domain_evidence,
    domain_ref,
    domains_by_uuid,
    host_read,
)
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.instance_index import instance_index, moves_known
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import Cell, ComputeNode, Instance, InstanceMapping, Migration, cell_scope
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class PowerStateDriftEvidence(TypedDict):
    """What every NV102 finding's evidence holds."""

    domain: dict[str, Any]
    instance: dict[str, Any]
    nova_power_state: int
    observed_power_state: int


class PowerStateDrift(Check):
    """Nova's power state for an instance disagrees with its domain's state.

    Why it matters:
        The API shows a server as running while its guest is off (or the reverse):
        monitoring and billing are wrong, and a later `_sync_power_states` pass may stop
        a guest the tenant just started by other means.  Persistent drift usually means
        nova-compute on that host is not running its periodic tasks.

    How it is detected:
        For every live instance with no task in progress and no migration in progress
        (the cell's migrations read completely, else inconclusive), the domain on its
        host (read completely, else inconclusive; hosts of other drivers are not judged)
        is mapped to a Nova power state the way Nova's libvirt
        driver does (blocked counts as running, shut off as shutdown, pmsuspended as
        suspended) and compared with instances.power_state.

    Known false positives:
        Nova itself aligns the two every 10 minutes (sync_power_state_interval); a guest
        that changed state by itself in the last minutes shows drift until then.  The
        finding carries the instance's updated_at so the grace guard can tell.

    Repair:
        `sync-power-state` (safe): record the observed power state, as Nova's
        _sync_power_states does (conditional on the state seen and no task; undoable).
        The runbook says to check that nova-compute on the host runs its periodic tasks.
    """

    code = "NV102"
    evidence_shape = PowerStateDriftEvidence
    name = "power-state-drift"
    severity = Severity.LOW
    needs = (Domain, Instance, Cell, InstanceMapping, Migration, ComputeNode)
    relies_on = (Domain, Migration)
    repairs = ("sync-power-state", "power-state-runbook")

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        idx = instance_index(snap)
        by_uuid = domains_by_uuid(snap)
        for uuid in idx.live:
            row = idx.live_row(uuid)
            if row.task_state or row.power_state is None or not row.host:
                continue
            ref = ObjectRef("instance", uuid, cell_scope(row.cell))
            read = host_read(snap, out, row.host, row.cell, ref)
            if read is None:
                continue  # another driver's host (Ironic, VMware): no libvirt domain
            out.examine()
            if not read:
                continue
            here = [d for d in by_uuid.get(uuid, ()) if d.host == row.host]
            if len(here) != 1:
                continue  # no domain is missing-domain's business
            if not moves_known(out, idx, uuid, ref) or idx.in_progress_migrations(uuid):
                continue  # a move in flight (or one we could not see) is not drift
            d = here[0]
            observed = LIBVIRT_TO_NOVA_POWER.get(d.state)
            if observed is None or observed == row.power_state:
                continue
            out.found(
                ref,
                f"Instance {uuid} is {NOVA_POWER_NAMES.get(row.power_state, row.power_state)} in Nova "
                f"but its domain on {d.host} is {LIBVIRT_STATE_NAMES.get(d.state, d.state)}.",
                related=[domain_ref(d)],
                evidence={
                    "instance": instance_evidence(row),
                    "domain": domain_evidence(d),
                    "nova_power_state": row.power_state,
                    "observed_power_state": observed,
                },
                changed_at=row.updated_at,
            )
