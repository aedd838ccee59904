from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.nsx.common import MIN_AGE, NEUTRON_FACTS, complete, neutron_ref, nsx_evidence, nsx_ref, severity_of
from osfsck.model.facts.neutron import NeutronNetwork, NeutronPort, NeutronRouter, SecurityGroup
from osfsck.model.facts.nsx import NsxObject
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot
from osfsck.rules.ownership import is_neutrons

_NOUN = {"network": "network", "port": "port", "router": "router", "security-group": "security group"}


class OrphanNsxObjectEvidence(TypedDict):
    """What every NX101 finding's evidence holds."""

    nsx_object: dict[str, Any]


class OrphanNsxObject(Check):
    """An NSX object the Neutron plugin made stands for a Neutron object that is gone.

    Why it matters:
        A leaked segment port or logical port keeps its address bindings and SpoofGuard
        entries, a leaked security policy or firewall section keeps rules in the
        distributed firewall of every host, and leaked segments, tier-1s and groups pile up
        in the manager: NSX's object limits are per manager, and every realization and
        firewall publish grows with them.  Neutron no longer knows them, so nothing will
        ever delete them.

    How it is detected:
        Every segment, segment port, tier-1, group and security policy (Policy API), or
        logical switch, logical port, logical router, NSGroup and firewall section (Manager
        API), that carries the plugin's tag naming a Neutron object (`os-neutron-net-id`,
        `os-neutron-port-id`, `-dport-id`, `-rport-id`, `os-neutron-router-id`,
        `os-neutron-secgr-id` or `os-neutron-secg-id`) is looked up in Neutron's database:
        the network, port, router or security group with that id is not there.  The same
        rule as nsxadmin's orphaned-networks/-routers/-firewall-sections, by tag.  Both the
        NSX manager and Neutron's database must have been read completely.

    Known false positives:
        Objects without those tags were made by hand or by other tools and are never
        judged; the plugin's own objects (tagged `os-neutron-id: NSX Neutron plugin`, or
        with its fixed ids such as `os_default_section`, `os_default_group`,
        `neutron_excluded_ports_group`) are not orphans.  Objects created in the last
        `min_age` (default 10 min) are skipped: the plugin makes some NSX objects before
        Neutron's row is committed.  When several clouds share one manager, another
        cloud's objects look orphaned here: set `[nsx] deployment_scope` and
        `deployment_tags`, and objects without that tag are left alone.

    Repair:
        `delete-nsx-object` (unsafe, Policy API) deletes the object, conditional on its
        `_revision` being the one seen, with its JSON journaled; `osfsck undo` puts it
        back with the same id.  `delete-nsx-manager-object` (unsafe, Manager API) does the
        same with `detach=true` for logical ports, and cannot be undone (NSX gives a new
        id to an object created again).  Ports go before their segment and security
        policies before their groups (ranked higher); a segment that still has ports is
        refused.
    """

    code = "NX101"
    evidence_shape = OrphanNsxObjectEvidence
    name = "orphan-nsx-object"
    severity = Severity.LOW
    needs = (NsxObject, NeutronNetwork, NeutronPort, NeutronRouter, SecurityGroup)
    relies_on = (NsxObject, NeutronNetwork, NeutronPort, NeutronRouter, SecurityGroup)
    repairs = ("delete-nsx-object", "delete-nsx-manager-object")
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not complete(snap, out):
            return
        min_age = float(self.params["min_age"])
        present = {kind: {f.id for f in snap.of(cls)} for kind, cls in NEUTRON_FACTS.items()}
        for o in snap.of(NsxObject):
            kind, nid = o.neutron_kind, o.neutron_id
            # the source tags a kind only with its id: an object without one (a damaged or
            # hand-edited snapshot) names no object that could be gone
            if kind is None or nid is None or not is_neutrons(o):
                continue
            out.examine()
            if nid in present[kind] or recent(snap, o.created_at, min_age):
                continue
            noun = _NOUN[kind]
            where = o.path or f"{o.resource_type} {o.id}"
            out.found(
                nsx_ref(o),
                f"NSX {o.api} object {where} ({o.display_name}) stands for Neutron {noun} {nid}, "
                "which Neutron no longer has.",
                related=[neutron_ref(kind, nid)],
                evidence={"nsx_object": nsx_evidence(o)},
                changed_at=o.updated_at or o.created_at,
                severity=severity_of(o),
            )
