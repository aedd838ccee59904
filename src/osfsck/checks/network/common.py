"""What the network checks share: Neutron's completeness, references, evidence, and the
one rule that says a compute port is an orphan (orphan-port and
orphan-floating-ip-association both apply it, so they can never disagree)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from osfsck.checks.base import CheckOutput, recent, scope_complete
from osfsck.checks.evidence import iso
from osfsck.checks.instance_index import DELETED, LIVE, InstanceIndex, Status, gone_because, may_be_building, undecided
from osfsck.model.facts.base import FactType
from osfsck.model.facts.neutron import NEUTRON_SCOPE, NeutronPort, PortBinding
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot
from osfsck.rules.ownership import is_compute_port

# How long a compute port may wait for its instance.  Nova creates ports before the
# instance reaches a cell's database only for a moment, but a port created by hand for a
# server about to be booted (`openstack server create --port`) can wait longer: an hour
# keeps both out while a leak is still caught on the next daily run.
ORPHAN_MIN_AGE = 3600


def port_ref(port_id: str) -> ObjectRef:
    return ObjectRef("port", port_id, NEUTRON_SCOPE)


def with_neutron(snap: Snapshot, out: CheckOutput, *kinds: FactType) -> bool:
    """True when every kind of Neutron's database a check reads is complete; otherwise the
    check records "neutron" inconclusive and must not judge anything."""
    return scope_complete(snap, out, NEUTRON_SCOPE, (NeutronPort, *kinds))


def ports_by_id(snap: Snapshot) -> dict[str, NeutronPort]:
    """Neutron's ports by id, built once per run and shared by the network checks."""
    found = snap.memo.get("ports_by_id")
    if found is None:
        found = snap.memo["ports_by_id"] = {p.id: p for p in snap.of(NeutronPort)}
    return found


def bindings_of(snap: Snapshot, port_ids: Iterable[str]) -> dict[str, list[PortBinding]]:
    """The bindings of a few ports (the ones a check judges), in one pass: a full index of
    10^5 bindings would cost more than every check uses of it."""
    wanted = set(port_ids)
    found = defaultdict(list)
    for b in snap.of(PortBinding):
        if b.port_id in wanted:
            found[b.port_id].append(b)
    return found


def port_evidence(p: NeutronPort) -> dict[str, Any]:
    return {
        "id": p.id,
        "network_id": p.network_id,
        "device_id": p.device_id,
        "device_owner": p.device_owner,
        "status": p.status,
        "project_id": p.project_id,
        "mac_address": p.mac_address,
        "revision_number": p.revision_number,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
    }


def binding_evidence(b: PortBinding) -> dict[str, Any]:
    return {"port_id": b.port_id, "host": b.host, "status": b.status, "vif_type": b.vif_type}


def floating_ip_evidence(f: Any) -> dict[str, Any]:
    return {
        "id": f.id,
        "floating_ip_address": f.floating_ip_address,
        "floating_network_id": f.floating_network_id,
        "fixed_port_id": f.fixed_port_id,
        "fixed_ip_address": f.fixed_ip_address,
        "router_id": f.router_id,
        "status": f.status,
        "project_id": f.project_id,
        "revision_number": f.revision_number,
        "updated_at": iso(f.updated_at),
    }


def owner_evidence(st: Status) -> dict[str, Any]:
    """How Nova sees a port's device_id: the row that decided it, if any."""
    row = st.instance
    return {
        "state": st.state,
        "cell": row.cell if row else (st.archived.cell if st.archived else None),
        "vm_state": row.vm_state if row else None,
        "host": row.host if row else None,
        "deleted_at": iso(row.deleted_at if row else (st.archived.deleted_at if st.archived else None)),
    }


def orphan_port(
    snap: Snapshot, idx: InstanceIndex, out: CheckOutput, port: NeutronPort, min_age: float
) -> tuple[str | None, Status] | None:
    """The orphan-port rule: (why the port is an orphan, the owner's Status) for a compute
    port whose device_id is no live instance in any cell, else None.

    Not an orphan: a port that is not compute:* or names no device (a spare port), one
    changed within `min_age` (a boot or an attach in flight), one whose instance is still a
    build request (no cell holds it yet, or the build requests could not be read) or was deleted within `min_age` (Nova deallocates
    ports before it marks the row deleted, but a delete on a down compute host cleans up
    later).  An owner that cannot be decided (a cell down) records that cell inconclusive.
    """
    if not is_compute_port(port) or not port.device_id or port.device_id in idx.primaries:
        return None  # the common case first: a live instance's port
    if recent(snap, port.updated_at or port.created_at, min_age):
        return None
    if may_be_building(out, idx, port.device_id, port_ref(port.id)):
        return None
    st = idx.status(port.device_id)
    if st.state == LIVE or undecided(out, st, port_ref(port.id)):
        return None
    if st.state == DELETED and recent(snap, st.row.deleted_at, min_age):
        return None
    return gone_because(st), st
