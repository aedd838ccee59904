"""What the OVN checks share: Neutron's objects by the kind an NB row stands for, the NB
rows by the Neutron object they stand for, and the rule that both sides be complete.

Which Neutron objects have which NB rows (ML2/OVN's ovn_client.py; research/
external-systems.md §B.2):
- every network a Logical_Switch `neutron-<id>`;
- every port a Logical_Switch_Port named by its id, except floating IP ports
  (`network:floatingip`), which Neutron never creates in OVN (`is_lsp_ignored`).  Router
  interface *and* gateway ports have one too (type `router`), DHCP and metadata
  (`network:distributed`, device_id `ovnmeta-<net>`) ports as well;
- every router a Logical_Router `neutron-<id>`, and each of its ports (interfaces and
  the gateway, `routerports`) a Logical_Router_Port `lrp-<port id>`;
- every security group a Port_Group `pg_<id>`, each of its rules an ACL carrying
  `neutron:security_group_rule_id`;
- every *associated* floating IP a NAT row (dnat_and_snat) carrying `neutron:fip_id`;
- subnets with DHCP enabled a DHCP_Options row (`subnet_id`).  Neutron's facts do not
  say whether DHCP is enabled, so a missing DHCP_Options row is not judged; an orphan one
  (its subnet gone) is.
Localnet ports (`provnet-<segment>`) stand for segments, which osfsck does not read: not
judged.  `neutron_pg_drop` stands for nothing: Neutron's own, never judged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from osfsck.checks.base import CheckOutput, scope_complete
from osfsck.model.facts.base import kind_of
from osfsck.model.facts.neutron import (
    FLOATINGIP_OWNER,
    NEUTRON_SCOPE,
    FloatingIp,
    NeutronNetwork,
    NeutronPort,
    NeutronRouter,
    NeutronSubnet,
    RouterPort,
    SecurityGroup,
    SecurityGroupRule,
)
from osfsck.model.facts.nova import InstanceNetwork
from osfsck.model.facts.ovn import (
    ACL,
    FLOATING_IP,
    LOGICAL_ROUTER,
    LOGICAL_SWITCH,
    NAT,
    NETWORK,
    OVN_NB_SCOPE,
    PORT,
    PORT_GROUP,
    ROUTER,
    ROUTER_PORT,
    ROUTER_PORT_TABLE,
    RULE,
    SECURITY_GROUP,
    SUBNET,
    SWITCH_PORT,
    OvnNbRow,
)
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

NEUTRON_KINDS = (
    NeutronNetwork,
    NeutronSubnet,
    NeutronPort,
    NeutronRouter,
    RouterPort,
    SecurityGroup,
    SecurityGroupRule,
    FloatingIp,
)
NEEDS = (OvnNbRow, *NEUTRON_KINDS)
# a Neutron write reaches the NB database in its post-commit, within seconds; Neutron's
# own maintenance task (DBInconsistenciesPeriodics) re-syncs what failed every 5 minutes
MIN_AGE = 600


class NeutronObject(NamedTuple):
    kind: str
    id: str
    revision: int
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    parent: str | None  # the network of a port, the router of a router port, the group of a rule


def neutron_objects(snap: Snapshot) -> dict[str, dict[str, NeutronObject]]:
    """Neutron's objects by the kind an NB row stands for, then by id."""
    out: dict[str, dict[str, NeutronObject]] = {
        k: {} for k in (NETWORK, PORT, ROUTER, ROUTER_PORT, SECURITY_GROUP, RULE, FLOATING_IP, SUBNET)
    }
    for n in snap.of(NeutronNetwork):
        out[NETWORK][n.id] = NeutronObject(NETWORK, n.id, n.revision_number, n.created_at, n.updated_at, None)
    for s in snap.of(NeutronSubnet):
        out[SUBNET][s.id] = NeutronObject(SUBNET, s.id, s.revision_number, s.updated_at, s.updated_at, s.network_id)
    ports = out[PORT]
    for port in snap.of(NeutronPort):
        ports[port.id] = NeutronObject(
            PORT, port.id, port.revision_number, port.created_at, port.updated_at, port.network_id
        )
    for r in snap.of(NeutronRouter):
        out[ROUTER][r.id] = NeutronObject(ROUTER, r.id, r.revision_number, r.created_at, r.updated_at, None)
    for rp in snap.of(RouterPort):
        p = ports.get(rp.port_id)
        if p is not None:
            out[ROUTER_PORT][rp.port_id] = p._replace(kind=ROUTER_PORT, parent=rp.router_id)
    for g in snap.of(SecurityGroup):
        out[SECURITY_GROUP][g.id] = NeutronObject(
            SECURITY_GROUP, g.id, g.revision_number, g.created_at, g.updated_at, None
        )
    for rule in snap.of(SecurityGroupRule):
        out[RULE][rule.id] = NeutronObject(
            RULE, rule.id, rule.revision_number, rule.created_at, rule.created_at, rule.security_group_id
        )
    for f in snap.of(FloatingIp):
        out[FLOATING_IP][f.id] = NeutronObject(
            FLOATING_IP, f.id, f.revision_number, f.updated_at, f.updated_at, f.router_id
        )
    return out


def floating_ip_ports(snap: Snapshot) -> set[str]:
    return {p.id for p in snap.of(NeutronPort) if p.device_owner == FLOATINGIP_OWNER}


def associated_floating_ips(snap: Snapshot) -> set[str]:
    return {f.id for f in snap.of(FloatingIp) if f.fixed_port_id}


# the NB table that stands for each Neutron kind (DHCP_Options rows of a port are extras)
TABLE_OF = {
    NETWORK: LOGICAL_SWITCH,
    PORT: SWITCH_PORT,
    ROUTER: LOGICAL_ROUTER,
    ROUTER_PORT: ROUTER_PORT_TABLE,
    SECURITY_GROUP: PORT_GROUP,
    RULE: ACL,
    FLOATING_IP: NAT,
}


def asked_for(snap: Snapshot) -> dict[str, set[str]] | None:
    """When the NB database was read as a --cell run's part (Coverage.part,
    model/cell_slice.py `ovn_ask`), the Neutron objects whose rows it asked for, by kind:
    the part's ports, their networks and its floating IPs (nothing else of it was read,
    so nothing else can be missing); and under ASKED_BY_ID the ports Neutron's part was
    asked for by id (its own and those the cells' caches name: one absent there is
    gone).  None when it was read whole."""
    if "ovn_asked_for" in snap.memo:
        return snap.memo["ovn_asked_for"]  # type: ignore[no-any-return]
    found: dict[str, set[str]] | None
    cov = snap.coverage.get((kind_of(OvnNbRow), OVN_NB_SCOPE))
    if cov is None or not cov.part.startswith("cells:"):
        found = None
    else:
        ports = snap.of(NeutronPort)
        cached = {p for n in snap.of(InstanceNetwork) for p in n.port_ids}
        found = {
            PORT: {p.id for p in ports},
            NETWORK: {p.network_id for p in ports},
            FLOATING_IP: {f.id for f in snap.of(FloatingIp)},
            ASKED_BY_ID: {p.id for p in ports} | cached,
        }
    snap.memo["ovn_asked_for"] = found
    return found


ASKED_BY_ID = "asked-by-id"


def unsettled(asked: dict[str, set[str]] | None, row: OvnNbRow) -> bool:
    """Whether a --cell run's part cannot tell what became of the port a switch port names:
    read for naming one of the cells' instances, its port is neither in Neutron's part nor
    asked for by id -- gone, or another cell's now."""
    return (
        asked is not None
        and row.table == SWITCH_PORT
        and row.neutron_kind == PORT
        and row.neutron_id not in asked[ASKED_BY_ID]
    )


def say_unsettled(out: CheckOutput, row: OvnNbRow) -> None:
    out.inconclusive(
        NEUTRON_SCOPE,
        f"{describe(row)} names instance {row.device_id} of the run's cells, but its port {row.neutron_id} "
        "is not among theirs: gone, or another cell's now; run without --cell to tell",
        row_ref(row),
    )


def both_complete(snap: Snapshot, out: CheckOutput) -> bool:
    """Absence on either side needs both sides whole: Neutron's database and the NB dump."""
    nb = scope_complete(snap, out, OVN_NB_SCOPE, (OvnNbRow,))
    neutron = scope_complete(snap, out, NEUTRON_SCOPE, NEUTRON_KINDS)
    return nb and neutron


def row_ref(row: OvnNbRow) -> ObjectRef:
    """An NB row by its _uuid (names are not unique in the NB schema)."""
    return ObjectRef("ovn-" + row.table.lower().replace("_", "-"), row.uuid, OVN_NB_SCOPE)


def neutron_ref(kind: str, id: str) -> ObjectRef:
    return ObjectRef(kind, id, NEUTRON_SCOPE)


def row_evidence(row: OvnNbRow) -> dict[str, Any]:
    return {k: v for k, v in row._asdict().items() if k != "scope"}


def describe(row: OvnNbRow) -> str:
    """ "Logical_Switch_Port 1b2c... (<name>)" for a message."""
    return f"{row.table} {row.uuid}" + (f" ({row.name})" if row.name else "")
