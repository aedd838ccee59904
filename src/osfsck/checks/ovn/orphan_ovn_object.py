from __future__ import annotations

from collections import defaultdict
from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.ovn.common import (
    NEEDS,
    asked_for,
    both_complete,
    describe,
    neutron_objects,
    neutron_ref,
    row_evidence,
    row_ref,
    say_unsettled,
    unsettled,
)
from osfsck.model.facts.ovn import (
    ACL,
    FLOATING_IP,
    LOGICAL_ROUTER,
    LOGICAL_SWITCH,
    NAT,
    NETWORK,
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
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot

# the Neutron kinds osfsck can judge (segments are not read)
JUDGED = frozenset({NETWORK, PORT, ROUTER, ROUTER_PORT, SECURITY_GROUP, RULE, FLOATING_IP, SUBNET})
# (child table, its container's table): a container's children go with it
CONTAINER_OF = {SWITCH_PORT: LOGICAL_SWITCH, ROUTER_PORT_TABLE: LOGICAL_ROUTER, NAT: LOGICAL_ROUTER, ACL: PORT_GROUP}
_WHAT = {
    NETWORK: "network",
    PORT: "port",
    ROUTER: "router",
    ROUTER_PORT: "router port",
    SECURITY_GROUP: "security group",
    RULE: "security group rule",
    FLOATING_IP: "floating IP",
    SUBNET: "subnet",
}


class OrphanOvnObjectEvidence(TypedDict):
    """What every OV101 finding's evidence holds."""

    children: list[dict[str, Any]]
    children_in_use: list[str]
    row: dict[str, Any]


class OrphanOvnObject(Check):
    """An OVN northbound row Neutron owns stands for a Neutron object that is gone.

    Why it matters:
        Neutron deletes its OVN rows after its own database commit; when that delete fails
        (the NB leader changed, neutron-server was restarted mid-request, a bug) the row
        stays.  An orphan switch port keeps its MAC and IPs in OVN's ARP/ND responders and
        port security, so the address answers on the network after Neutron has given it to
        someone else; an orphan NAT row keeps a floating IP pointing at an old fixed IP; an
        orphan ACL or port group keeps filtering; every orphan adds logical flows that
        ovn-northd and each ovn-controller recompute, and they pile up until the
        controller slows down.

    How it is detected:
        Every NB row carrying Neutron's external_ids (`neutron:*`, DHCP_Options'
        `subnet_id`) is mapped to the Neutron object its naming or external_ids name
        (model/facts/ovn.py): a switch `neutron-<network>`, a port named by its port id,
        a router, `lrp-<port>`, `pg_<security group>`, an ACL's rule, a NAT's floating
        IP, a DHCP_Options' subnet or port.  The row is an orphan when Neutron's database
        has no such object.  Both Neutron's database and the NB dump must be complete.
        The rows of an orphan switch, router or port group (its ports, NAT rows, ACLs) are
        reported with it, not on their own: deleting it deletes them.

    Known false positives:
        Rows made by hand or by other NB users (ovn-octavia-provider, ovn-bgp-agent, an
        operator's ovn-nbctl) carry no `neutron:*` external_ids and are never judged, even
        when named like Neutron's; Neutron's `neutron_pg_drop` group and `provnet-*`
        localnet ports (segments are not read) are not judged either.  NB rows carry no
        timestamps: an object deleted from Neutron between the two reads looks orphaned
        for that run; the repair re-reads both sides first.

    Repair:
        `delete-ovn-row` (unsafe) deletes the row (with its ports, NAT rows or ACLs) only
        if it is still the same row with the same name, external_ids and children, in one
        NB transaction; the before-image is every column; `osfsck undo` recreates it
        (OVSDB gives it a new _uuid).
    """

    code = "OV101"
    evidence_shape = OrphanOvnObjectEvidence
    name = "orphan-ovn-object"
    severity = Severity.MEDIUM
    needs = NEEDS
    relies_on = NEEDS
    repairs = ("delete-ovn-row",)

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not both_complete(snap, out):
            return
        objects = neutron_objects(snap)
        rows = snap.of(OvnNbRow)
        asked = asked_for(snap)  # a --cell run's part
        orphan: dict[str, tuple[OvnNbRow, str, str]] = {}  # by the row's uuid: (row, kind, Neutron id)
        for r in rows:
            kind, nid = r.neutron_kind, r.neutron_id
            # the source sets a kind only with its id: a row without one (a damaged or
            # hand-edited snapshot) names no object that could be gone
            if not r.marked or kind not in JUDGED or nid is None:
                continue
            out.examine()
            if nid not in objects[kind]:
                if unsettled(asked, r):
                    say_unsettled(out, r)
                    continue
                orphan[r.uuid] = (r, kind, nid)
        orphan_containers = {(r.table, r.name) for r, _, _ in orphan.values() if r.table in CONTAINER_OF.values()}
        children = defaultdict(list)
        for r in rows:
            container = CONTAINER_OF.get(r.table)
            if container and r.parent and (container, r.parent) in orphan_containers:
                children[(container, r.parent)].append(r)
        for r, kind, nid in orphan.values():
            container = CONTAINER_OF.get(r.table)
            if container and r.parent and (container, r.parent) in orphan_containers:
                continue  # goes with its orphan container
            kids = sorted(children.get((r.table, r.name), ()), key=lambda c: (c.table, c.uuid))
            in_use = [c.uuid for c in kids if not c.marked or (c.neutron_kind in JUDGED and c.uuid not in orphan)]
            what = _WHAT[kind]
            with_kids = f"; it holds {len(kids)} more row(s) of Neutron's" if kids else ""
            out.found(
                row_ref(r),
                f"{describe(r)} stands for {what} {nid}, which Neutron no longer has{with_kids}.",
                related=[neutron_ref(kind, nid)],
                evidence={
                    "row": row_evidence(r),
                    "children": [row_evidence(c) for c in kids],
                    "children_in_use": in_use,
                },
                severity=Severity.HIGH if r.table in (NAT, SWITCH_PORT) else None,
            )
