from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.instance_index import LIVE, instance_index, instance_ref, moves_known, undecided
from osfsck.checks.network.common import binding_evidence, port_evidence, port_ref, ports_by_id, with_neutron
from osfsck.model.facts.neutron import NeutronPort, PortBinding
from osfsck.model.facts.nova import (
    API_SCOPE,
    ArchivedInstance,
    Cell,
    ComputeService,
    Instance,
    InstanceMapping,
    Migration,
    cell_scope,
)
from osfsck.model.finding import Confidence, Severity
from osfsck.model.snapshot import Snapshot
from osfsck.rules.ownership import is_compute_port

# a binding change (a move, a rebind) finishes in minutes; anything older is settled
MIN_AGE = 3600


class PortBoundToDeadHostEvidence(TypedDict):
    """What every NT102 finding's evidence holds."""

    binding: dict[str, Any]
    instance: dict[str, Any]
    port: dict[str, Any]
    service: dict[str, Any] | None


class PortBoundToDeadHost(Check):
    """A live instance's port is bound to a host that no longer runs nova-compute.

    Why it matters:
        The port's active binding tells the mechanism driver (OVS agent, OVN chassis) where
        to wire it.  A host whose compute service was deleted (`openstack compute service
        delete`) is gone: nothing plugs the port there, so the instance has no network
        wherever it really runs, and Neutron keeps the port's flows and DHCP entries for a
        host that is not there.

    How it is detected:
        The ACTIVE binding of every compute port of a live instance names a host; the
        hosts of live nova-compute rows of every cell's `services` table are the hosts
        that exist.  A binding to any other host is a finding.  Every cell's services must
        have been read (the host may be in the cell that was not), and the API database's
        list of cells must be complete.

    Known false positives:
        Ports changed in the last `min_age` (default 1 h) and ports of instances with a
        migration in progress (the binding moves with it) are skipped; unbound ports
        (shelved-offloaded, building) have no host.  A host whose service is only late
        with its heartbeat is not dead here: that is a host failure (a compute-service
        check's subject), and a reboot brings it back.  A host an operator has *forced
        down* is reported with low confidence: the operator declared it dead, and its
        instances are waiting for an evacuation.

    Repair:
        `port-dead-host-runbook`: rebind the port to the instance's host (`openstack port
        set --host`) when the instance already runs elsewhere, or evacuate the instance
        when its host is the dead one.
    """

    code = "NT102"
    evidence_shape = PortBoundToDeadHostEvidence
    name = "port-bound-to-dead-host"
    severity = Severity.HIGH
    needs = (NeutronPort, PortBinding, ComputeService, Instance, ArchivedInstance, InstanceMapping, Migration, Cell)
    relies_on = (PortBinding, ComputeService, Cell, Instance, Migration)
    repairs = ("port-dead-host-runbook",)
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not with_neutron(snap, out, PortBinding):
            return
        idx = instance_index(snap)
        if not idx.api_complete:
            out.inconclusive(API_SCOPE, idx.api_reason())
            return
        partial = [c for c in sorted(idx.cell_names) if not snap.is_complete(ComputeService, cell_scope(c))]
        # the cells a scoped run did not read may run nova-compute on a host too: each port
        # bound to a host not alive in the cells read says so
        unread = [c for c in partial if snap.outside(cell_scope(c))]
        for c in partial:
            if c not in unread:
                out.inconclusive(cell_scope(c), snap.why_incomplete(ComputeService, cell_scope(c)))
        if len(partial) > len(unread):
            return  # the host may run nova-compute in the cell that could not be read
        alive = {s.host for s in snap.of(ComputeService) if not s.forced_down}
        forced = {s.host: s for s in snap.of(ComputeService) if s.forced_down}
        ports = ports_by_id(snap)
        min_age = float(self.params["min_age"])
        # Dead hosts are few: only an ACTIVE binding to a host that is not alive is worth a
        # look at its port and instance.
        active = [b for b in snap.of(PortBinding) if b.status == "ACTIVE" and b.host]
        out.examine(len(active))
        reported = set()
        for b in active:
            if b.host in alive or b.port_id in reported:
                continue
            p = ports.get(b.port_id)
            if p is None or not p.device_id or not is_compute_port(p):
                continue
            ref = port_ref(p.id)
            st = idx.status(p.device_id)
            if undecided(out, st, ref) or st.state != LIVE:
                continue  # an orphan port is orphan-port's subject
            if recent(snap, p.updated_at or p.created_at, min_age):
                continue
            if not moves_known(out, idx, p.device_id, ref) or idx.in_progress_migrations(p.device_id):
                continue
            if unread:
                for c in unread:
                    out.inconclusive(cell_scope(c), snap.why_incomplete(ComputeService, cell_scope(c)), ref)
                continue
            svc = forced.get(b.host)
            reported.add(p.id)
            row = st.row
            where = "the instance's own host" if row.host == b.host else f"the instance is on {row.host or 'no host'}"
            state = "is forced down" if svc is not None else "runs no nova-compute service in any cell"
            out.found(
                ref,
                f"Port {p.id} of instance {p.device_id} is bound to {b.host}, which {state} ({where}).",
                related=[instance_ref(p.device_id, row.cell)],
                evidence={
                    "port": port_evidence(p),
                    "binding": binding_evidence(b),
                    "instance": instance_evidence(row),
                    "service": None
                    if svc is None
                    else {
                        "cell": svc.cell,
                        "host": svc.host,
                        "disabled": bool(svc.disabled),
                        "forced_down": bool(svc.forced_down),
                    },
                },
                confidence=Confidence.LOW if svc is not None else Confidence.HIGH,
                changed_at=p.updated_at or p.created_at,
            )
