from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.instance_index import instance_index, instance_ref
from osfsck.checks.network.common import (
    ORPHAN_MIN_AGE,
    binding_evidence,
    bindings_of,
    orphan_port,
    owner_evidence,
    port_evidence,
    port_ref,
    with_neutron,
)
from osfsck.model.facts.neutron import NeutronPort, PortBinding
from osfsck.model.facts.nova import ArchivedInstance, BuildRequest, Cell, Instance, InstanceMapping, Migration
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot
from osfsck.rules.ownership import is_compute_port


class OrphanPortEvidence(TypedDict):
    """What every NT101 finding's evidence holds."""

    bindings: list[dict[str, Any]]
    owner: dict[str, Any]
    port: dict[str, Any]


class OrphanPort(Check):
    """A compute port whose instance is gone from every cell.

    Why it matters:
        The port keeps its fixed IP and MAC address, its security group memberships and
        its quota: the address cannot be given to anyone else, a DNS record for it stays
        "in use", and the SDN (OVN, NSX) keeps a logical port for it.  Ports leak when an
        instance is deleted while Neutron is unreachable, or when a delete on a down
        compute host never finished its cleanup.

    How it is detected:
        Every port whose device_owner is `compute:*` and whose device_id names an
        instance is looked up in every cell: deleted, archived to shadow_instances, or
        unknown to the API database and every cell makes it an orphan.

    Known false positives:
        Ports changed in the last `min_age` (default 1 h) are skipped: a port made for a
        server being booted, or by hand for `server create --port`.  So are ports of
        build requests (the instance is not in a cell yet) and of instances deleted within
        `min_age`.  Ports of live instances are never orphans whatever their binding: an
        instance mid-migration (its host moves) or shelved-offloaded (unbound) keeps them.
        Router, DHCP and spare ports (no device_id) are not compute ports.  When a cell
        cannot be read, a port whose instance may live there is inconclusive for that
        cell, never a finding.

    Repair:
        `delete-port` (unsafe) deletes the port through the Neutron API when `[neutron]`
        has API settings (its JSON is the before-image; Neutron cannot re-create a port
        with the same id, so it cannot be undone); otherwise `orphan-port-runbook` gives
        the `openstack port delete` commands and what to check first.
    """

    code = "NT101"
    evidence_shape = OrphanPortEvidence
    name = "orphan-port"
    severity = Severity.MEDIUM
    # Migration: the instance index calls a cell complete only with its migrations read
    needs = (NeutronPort, PortBinding, Instance, ArchivedInstance, InstanceMapping, BuildRequest, Migration, Cell)
    relies_on = (NeutronPort, Instance, ArchivedInstance, InstanceMapping, BuildRequest, Cell)
    repairs = ("delete-port", "orphan-port-runbook")
    defaults = {"min_age": ORPHAN_MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not with_neutron(snap, out, PortBinding):
            return
        idx = instance_index(snap)
        min_age = float(self.params["min_age"])
        compute_ports = [p for p in snap.of(NeutronPort) if p.device_id and is_compute_port(p)]
        out.examine(len(compute_ports))
        orphans = [
            (p, orphan) for p in compute_ports if (orphan := orphan_port(snap, idx, out, p, min_age)) is not None
        ]
        bindings = bindings_of(snap, (p.id for p, _ in orphans))
        for p, (why, st) in orphans:
            hosts = sorted({b.host for b in bindings.get(p.id, ()) if b.host})
            cell = st.instance.cell if st.instance else (st.archived.cell if st.archived else None)
            out.found(
                port_ref(p.id),
                f"Port {p.id} ({p.device_owner}, MAC {p.mac_address}"
                f"{', bound to ' + ', '.join(hosts) if hosts else ''}) belongs to instance {p.device_id}, "
                f"which {why}.",
                related=[instance_ref(p.device_id, cell)],
                evidence={
                    "port": port_evidence(p),
                    "owner": owner_evidence(st),
                    "bindings": [binding_evidence(b) for b in sorted(bindings.get(p.id, ()))],
                },
                changed_at=p.updated_at or p.created_at,
            )
