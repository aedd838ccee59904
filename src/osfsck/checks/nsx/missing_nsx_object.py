from __future__ import annotations

from collections import defaultdict
from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.nsx.common import MIN_AGE, NeutronFact, complete, external_networks, neutron_ref, read_as_part
from osfsck.model.facts.neutron import FloatingIp, NeutronNetwork, NeutronPort, NeutronRouter, SecurityGroup
from osfsck.model.facts.nsx import (
    GROUP_TYPES,
    NETWORK,
    PORT,
    ROUTER,
    RULES_TYPES,
    SECURITY_GROUP,
    NsxObject,
)
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot
from osfsck.rules.ownership import is_compute_port

# what a Neutron object needs on NSX, as (resource types that will do, how to name them)
_NEEDS = {
    NETWORK: ((frozenset({"Segment", "LogicalSwitch"}), "segment (logical switch)"),),
    PORT: ((frozenset({"SegmentPort", "LogicalPort"}), "segment port (logical port)"),),
    ROUTER: ((frozenset({"Tier1", "LogicalRouter"}), "tier-1 (logical router)"),),
    SECURITY_GROUP: ((GROUP_TYPES, "group (NSGroup)"), (RULES_TYPES, "security policy (firewall section)")),
}
_NOUN = {NETWORK: "Network", PORT: "Port", ROUTER: "Router", SECURITY_GROUP: "Security group"}


class MissingNsxObjectEvidence(TypedDict):
    """What every NX102 finding's evidence holds."""

    missing: list[str]
    neutron: dict[str, Any]
    present: list[str]


class MissingNsxObject(Check):
    """A Neutron network, port, router or security group has no NSX object.

    Why it matters:
        Neutron reports the object as working while NSX has nothing behind it: an instance
        whose port has no segment port has no network at all, a network without a segment
        cannot carry traffic, a router without its tier-1 routes nothing, and a security
        group without its group and security policy filters nothing (its rules are not
        enforced: a tenant believes traffic is blocked that is not).

    How it is detected:
        Every Neutron network, router and security group, and every port the plugins give
        an NSX port (compute ports and ports without an owner, on networks that are not
        external), is looked up on NSX by the plugin's tag that names it: a network needs
        a segment or logical switch, a port a segment port or logical port, a router a
        tier-1 or logical router, a security group both a group (NSGroup) and a security
        policy (firewall section).  Both the NSX manager and Neutron's database must have
        been read completely.  In a `--cell` run only the cells' ports are judged: their
        NSX ports are all that run reads.

    Known false positives:
        Objects created in the last `min_age` (default 10 min) are skipped: the plugin may
        still be making them.  DHCP, router-interface, gateway and floating IP ports are
        not expected (the Policy plugin makes none for them; the Manager plugin only for
        some).  External networks are recognised by a floating IP or router gateway on
        them (Neutron's `router:external` is not read): an external network with neither,
        or a provider network on an NSX segment of the operator's own (NSX_NETWORK), is
        reported, as are the ports of networks of another backend when one Neutron drives
        several (the NSX TVD plugin).

    Repair:
        `missing-nsx-object-runbook` (manual): the plugin makes NSX objects when the
        Neutron object is created, so they are made again from Neutron: nsxadmin confirms
        (`-r networks|routers|ports -o list-mismatches`), `nsxadmin -r security-groups -o
        fix-mismatch` re-creates a security group's NSGroup and section (Manager plugin),
        and otherwise the Neutron object is created again (an instance gets a new port and
        the broken one is detached).
    """

    code = "NX102"
    evidence_shape = MissingNsxObjectEvidence
    name = "missing-nsx-object"
    severity = Severity.HIGH
    needs = (NsxObject, NeutronNetwork, NeutronPort, NeutronRouter, SecurityGroup, FloatingIp)
    relies_on = (NsxObject, NeutronNetwork, NeutronPort, NeutronRouter, SecurityGroup)
    repairs = ("missing-nsx-object-runbook",)
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not complete(snap, out):
            return
        min_age = float(self.params["min_age"])
        # another deployment's or not, an object tagged with this id answers for it
        have: dict[tuple[str, str | None], set[str]] = defaultdict(set)
        for o in snap.of(NsxObject):
            if o.neutron_kind is not None and not o.internal:
                have[(o.neutron_kind, o.neutron_id)].add(o.resource_type)
        external = external_networks(snap)
        whole = not read_as_part(snap)  # a --cell run's part holds the ports' objects only
        expected: list[tuple[str, NeutronFact]] = [
            (NETWORK, n) for n in snap.of(NeutronNetwork) if whole and n.id not in external
        ]
        expected += [
            (PORT, p)
            for p in snap.of(NeutronPort)
            if (is_compute_port(p) or not p.device_owner) and p.network_id not in external
        ]
        if whole:
            expected += [(ROUTER, r) for r in snap.of(NeutronRouter)]
            expected += [(SECURITY_GROUP, g) for g in snap.of(SecurityGroup)]
        for kind, obj in expected:
            out.examine()
            if recent(snap, obj.created_at, min_age):
                continue
            types = have.get((kind, obj.id), set())
            lacking = [name for accepted, name in _NEEDS[kind] if not types & accepted]
            if not lacking:
                continue
            out.found(
                neutron_ref(kind, obj.id),
                f"{_NOUN[kind]} {obj.id} ({obj.name or 'no name'}, project {obj.project_id}) has no NSX "
                f"{' and no '.join(lacking)} tagged with its id.",
                evidence={
                    "neutron": {
                        "kind": kind,
                        "id": obj.id,
                        "name": obj.name,
                        "project_id": obj.project_id,
                        "created_at": obj.created_at.isoformat() if obj.created_at else None,
                    },
                    "missing": lacking,
                    "present": sorted(types),
                },
                changed_at=obj.updated_at or obj.created_at,
            )
