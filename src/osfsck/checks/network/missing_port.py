from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, place_ref, recent
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.instance_index import instance_index, instance_ref
from osfsck.checks.network.common import port_ref, with_neutron
from osfsck.model.facts.neutron import NeutronPort
from osfsck.model.facts.nova import ArchivedInstance, Cell, Instance, InstanceNetwork, Migration, cell_scope
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

# an interface attach or detach updates the cache within seconds of Neutron's change
MIN_AGE = 600


def vif_ref(instance_uuid: str, port_id: str, cell: str) -> ObjectRef:
    """A port as one instance's VIF: "<instance uuid>/<port id>" in the instance's cell."""
    return ObjectRef("instance-vif", f"{instance_uuid}/{port_id}", cell_scope(cell))


class MissingPortEvidence(TypedDict):
    """What every NT104 finding's evidence holds."""

    cache_updated_at: str
    cached_addresses: list[str]
    cached_ports: list[str]
    instance: dict[str, Any]
    port_id: str


class MissingPort(Check):
    """A live instance's network info names a port that Neutron does not have.

    Why it matters:
        Nova believes the instance has the interface: `server show` lists its addresses,
        the metadata service and config drive hand them to the guest, and a reboot,
        migration or unshelve asks Neutron to bind a port that is gone, and fails.  The
        guest has lost the network on that interface.  It happens when a port is deleted
        behind Nova's back and the network-vif-deleted event is lost.

    How it is detected:
        The port ids of each live instance's network info cache
        (`instance_info_caches.network_info`, the copy the API shows) that are not rows of
        Neutron's `ports` table, which must have been read completely.

    Known false positives:
        Instances still building, and caches changed in the last `min_age` (default
        10 min: an interface attach or detach in flight), are skipped.  Nova's
        `_heal_instance_info_cache` periodic task drops a deleted port from the cache on
        its own within hours on a host that runs it; a finding that lasts is a real one.
        A cell that could not be read is inconclusive.

    Repair:
        `missing-port-runbook`: refresh the cache from Neutron (`nova refresh-network`),
        detach the dead interface, and attach a new port if the instance needs one.
    """

    code = "NT104"
    evidence_shape = MissingPortEvidence
    name = "missing-port"
    severity = Severity.MEDIUM
    # ArchivedInstance, Migration: the instance index calls a cell complete only with both read
    needs = (InstanceNetwork, NeutronPort, Instance, ArchivedInstance, Migration, Cell)
    relies_on = (NeutronPort,)
    repairs = ("missing-port-runbook",)
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not with_neutron(snap, out):
            return
        idx = instance_index(snap)
        for c in sorted(idx.cell_names):
            scope = cell_scope(c)
            # each cell is a place the check walks (a scoped run does not walk the others)
            if not snap.is_complete(InstanceNetwork, scope):
                out.inconclusive(scope, snap.why_incomplete(InstanceNetwork, scope), place_ref(scope))
            elif not idx.cell_complete(c):
                out.inconclusive(scope, idx.cell_reason(c), place_ref(scope))
        ports = {p.id for p in snap.of(NeutronPort)}
        min_age = float(self.params["min_age"])
        for net in snap.of(InstanceNetwork):
            if net.deleted or not net.port_ids:
                continue
            row = idx.primary(net.uuid)
            if row is None or row.cell != net.cell or row.vm_state == "building":
                continue
            out.examine()
            if recent(snap, net.cache_updated_at, min_age):
                continue
            for port_id in net.port_ids:
                if port_id in ports:
                    continue
                out.found(
                    vif_ref(net.uuid, port_id, net.cell),
                    f"Instance {net.uuid} ({net.hostname or net.display_name}) has VIF {net.uuid}/{port_id} in its "
                    f"network info cache, but Neutron has no port {port_id}.",
                    related=[instance_ref(net.uuid, net.cell), port_ref(port_id)],
                    evidence={
                        "instance": instance_evidence(row),
                        "port_id": port_id,
                        "cached_ports": list(net.port_ids),
                        "cached_addresses": list(net.addresses),
                        "cache_updated_at": net.cache_updated_at.isoformat() if net.cache_updated_at else None,
                    },
                    changed_at=net.cache_updated_at,
                )
