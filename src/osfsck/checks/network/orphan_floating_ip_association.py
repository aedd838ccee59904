from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.instance_index import instance_index, instance_ref
from osfsck.checks.network.common import (
    ORPHAN_MIN_AGE,
    floating_ip_evidence,
    orphan_port,
    owner_evidence,
    port_evidence,
    port_ref,
    ports_by_id,
    with_neutron,
)
from osfsck.model.facts.neutron import NEUTRON_SCOPE, FloatingIp, NeutronPort
from osfsck.model.facts.nova import ArchivedInstance, BuildRequest, Cell, Instance, InstanceMapping, Migration
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class OrphanFloatingIpAssociationEvidence(TypedDict):
    """What every NT105 finding's evidence holds."""

    floating_ip: dict[str, Any]
    owner: dict[str, Any]
    port: dict[str, Any]


class OrphanFloatingIpAssociation(Check):
    """A floating IP associated with a compute port whose instance is gone.

    Why it matters:
        The public address still forwards (DNAT) to the fixed IP of a port nobody uses:
        the tenant pays for an address that reaches nothing, cannot move it to a new
        server while Neutron believes it is in use, and if the fixed IP is ever given to
        another port on the network, public traffic reaches that port instead.

    How it is detected:
        Every floating IP with a fixed_port_id is checked with the orphan-port rule
        (NT101, stated once in `checks/network/common.py`) applied to that port: a
        compute port whose device_id is deleted, archived or unknown in every cell.

    Known false positives:
        The same as orphan-port: ports and floating IPs changed within `min_age` (default
        1 h), ports of build requests or of instances deleted within `min_age`, and ports
        whose instance may be in a cell that could not be read (inconclusive for that
        cell) are skipped.  Floating IPs on router, load balancer or other non-compute
        ports are not judged.

    Repair:
        `disassociate-floating-ip` (unsafe) clears the association in Neutron's database
        as `openstack floating ip unset --port` does, conditional on the association
        seen, and bumps the floating IP's revision so Neutron's OVN maintenance task
        re-syncs its NAT row; `osfsck undo` restores the association.  Deleting the
        orphan port (NT101) disassociates it as well.
    """

    code = "NT105"
    evidence_shape = OrphanFloatingIpAssociationEvidence
    name = "orphan-floating-ip-association"
    severity = Severity.MEDIUM
    # Migration: the instance index calls a cell complete only with its migrations read
    needs = (FloatingIp, NeutronPort, Instance, ArchivedInstance, InstanceMapping, BuildRequest, Migration, Cell)
    relies_on = (FloatingIp, NeutronPort, Instance, ArchivedInstance, InstanceMapping, BuildRequest, Cell)
    repairs = ("disassociate-floating-ip",)
    defaults = {"min_age": ORPHAN_MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not with_neutron(snap, out, FloatingIp):
            return
        idx = instance_index(snap)
        ports = ports_by_id(snap)
        min_age = float(self.params["min_age"])
        for f in snap.of(FloatingIp):
            port = ports.get(f.fixed_port_id) if f.fixed_port_id else None
            if port is None:
                continue  # not associated (the foreign key keeps fixed_port_id to a real port)
            out.examine()
            if recent(snap, f.updated_at, min_age):
                continue  # associated a moment ago: the port may be about to get its instance
            orphan = orphan_port(snap, idx, out, port, min_age)
            if orphan is None:
                continue
            why, st = orphan
            out.found(
                ObjectRef("floating-ip", f.id, NEUTRON_SCOPE),
                f"Floating IP {f.id} ({f.floating_ip_address}) is associated with port {port.id} "
                f"({f.fixed_ip_address}) of instance {port.device_id}, which {why}.",
                related=[port_ref(port.id), instance_ref(port.device_id, st.instance.cell if st.instance else None)],
                evidence={
                    "floating_ip": floating_ip_evidence(f),
                    "port": port_evidence(port),
                    "owner": owner_evidence(st),
                },
                changed_at=max((t for t in (f.updated_at, port.updated_at) if t), default=None),
            )
