"""What the NSX checks share: both sides' completeness, which Neutron objects exist, how an
NSX object is named and shown as evidence."""

from __future__ import annotations

from typing import Any

from osfsck.checks.base import CheckOutput, scope_complete
from osfsck.model.facts.base import kind_of
from osfsck.model.facts.neutron import (
    FLOATINGIP_OWNER,
    NEUTRON_SCOPE,
    ROUTER_GATEWAY_OWNER,
    FloatingIp,
    NeutronNetwork,
    NeutronPort,
    NeutronRouter,
    SecurityGroup,
)
from osfsck.model.facts.nsx import (
    FIREWALL_SECTION,
    NETWORK,
    NSX_SCOPE,
    PORT,
    ROUTER,
    SECURITY_GROUP,
    SECURITY_POLICY,
    NsxObject,
)
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

# the plugin makes the NSX objects within the Neutron API call that makes the Neutron
# object (before or after its row): ten minutes covers a slow call and its retries
MIN_AGE = 600

# a Neutron object the plugin makes NSX objects for
NeutronFact = NeutronNetwork | NeutronPort | NeutronRouter | SecurityGroup
NEUTRON_FACTS: dict[str, type[NeutronFact]] = {
    NETWORK: NeutronNetwork,
    PORT: NeutronPort,
    ROUTER: NeutronRouter,
    SECURITY_GROUP: SecurityGroup,
}
NEUTRON_KINDS = (NeutronNetwork, NeutronPort, NeutronRouter, SecurityGroup)

# The order repairs must follow: NSX refuses to delete a segment that has ports or a group
# that a security policy uses.  Repairs are applied in order of severity, so what must go
# first (ports, a security group's rules, which also act on traffic) is ranked higher.
_FIRST = frozenset({"SegmentPort", "LogicalPort", SECURITY_POLICY, FIREWALL_SECTION})


def severity_of(o: NsxObject) -> Severity:
    return Severity.MEDIUM if o.resource_type in _FIRST else Severity.LOW


def complete(snap: Snapshot, out: CheckOutput) -> bool:
    """True when NSX and the Neutron kinds the NSX checks compare are both complete;
    otherwise each incomplete side is recorded inconclusive and nothing may be judged."""
    nsx = scope_complete(snap, out, NSX_SCOPE, (NsxObject,))
    neutron = scope_complete(snap, out, NEUTRON_SCOPE, NEUTRON_KINDS)
    return nsx and neutron


def read_as_part(snap: Snapshot) -> bool:
    """Whether NSX was read as a --cell run's part (Coverage.part, model/cell_slice.py):
    then only the ports standing for Neutron's part were read, and only they are judged."""
    cov = snap.coverage.get((kind_of(NsxObject), NSX_SCOPE))
    return cov is not None and cov.part.startswith("cells:")


def external_networks(snap: Snapshot) -> set[str]:
    """Networks that are evidently external (a floating IP or a router gateway on them): the
    plugins make no segment port for their ports, and for a provider network of NSX's own
    (NSX_NETWORK) no segment either.  Neutron's `router:external` flag is not collected."""
    found = {f.floating_network_id for f in snap.of(FloatingIp)}
    found.update(
        p.network_id for p in snap.of(NeutronPort) if p.device_owner in (ROUTER_GATEWAY_OWNER, FLOATINGIP_OWNER)
    )
    return found


def _kebab(resource_type: str) -> str:
    out = []
    for i, ch in enumerate(resource_type):
        if ch.isupper() and i and not resource_type[i - 1].isupper():
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


def nsx_ref(o: NsxObject) -> ObjectRef:
    """nsx-segment, nsx-segment-port, nsx-tier1, nsx-group, nsx-security-policy,
    nsx-logical-switch, nsx-logical-port, nsx-logical-router, nsx-nsgroup, nsx-firewall-section."""
    return ObjectRef(f"nsx-{_kebab(o.resource_type)}", o.id, NSX_SCOPE)


def neutron_ref(kind: str, neutron_id: str) -> ObjectRef:
    return ObjectRef(kind, neutron_id, NEUTRON_SCOPE)


def nsx_evidence(o: NsxObject) -> dict[str, Any]:
    return {
        "api": o.api,
        "resource_type": o.resource_type,
        "id": o.id,
        "display_name": o.display_name,
        "path": o.path,
        "parent_id": o.parent_id,
        "neutron_kind": o.neutron_kind,
        "neutron_id": o.neutron_id,
        "api_version": o.api_version,
        "project_id": o.project_id,
        "internal": bool(o.internal),
        "other_deployment": bool(o.other_deployment),
        "attached": bool(o.attached),
        "revision": o.revision,
        "created_at": o.created_at.isoformat() if o.created_at else None,
        "updated_at": o.updated_at.isoformat() if o.updated_at else None,
    }
