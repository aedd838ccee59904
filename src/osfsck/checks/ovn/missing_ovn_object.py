from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, age_seconds
from osfsck.checks.evidence import iso
from osfsck.checks.ovn.common import (
    MIN_AGE,
    NEEDS,
    TABLE_OF,
    asked_for,
    associated_floating_ips,
    both_complete,
    floating_ip_ports,
    neutron_objects,
    neutron_ref,
)
from osfsck.model.facts.ovn import (
    FLOATING_IP,
    NETWORK,
    OVN_NB_SCOPE,
    PORT,
    ROUTER,
    ROUTER_PORT,
    RULE,
    SECURITY_GROUP,
    OvnNbRow,
    port_group_name,
    router_name,
    router_port_name,
    switch_name,
)
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

# what an object's row would be called, for the message and the runbook
_EXPECTED_NAME = {
    NETWORK: switch_name,
    PORT: lambda i: i,
    ROUTER: router_name,
    ROUTER_PORT: router_port_name,
    SECURITY_GROUP: port_group_name,
    RULE: lambda i: f"ACL with neutron:security_group_rule_id={i}",
    FLOATING_IP: lambda i: f"NAT with neutron:fip_id={i}",
}
# a port's, router port's or rule's row is reported with its container's when that is missing too
_CONTAINER_KIND = {PORT: NETWORK, ROUTER_PORT: ROUTER, RULE: SECURITY_GROUP}
_WHAT = {
    NETWORK: "Network",
    PORT: "Port",
    ROUTER: "Router",
    ROUTER_PORT: "Router port",
    SECURITY_GROUP: "Security group",
    RULE: "Security group rule",
    FLOATING_IP: "Floating IP",
}


class MissingOvnObjectEvidence(TypedDict):
    """What every OV102 finding's evidence holds."""

    expected_name: str
    expected_table: str
    neutron: dict[str, Any]


class MissingOvnObject(Check):
    """A Neutron object has no row in the OVN northbound database.

    Why it matters:
        Neutron believes the object exists, OVN does not implement it: an instance's port
        without its switch port has no connectivity at all; a network without its switch
        or a router without its router or router port does not forward; a security group
        rule without its ACL is not enforced (traffic it should allow is dropped by
        `neutron_pg_drop`), a group without its port group leaves its ports with the drop
        rules only; a floating IP without its NAT row does not answer.

    How it is detected:
        Every network, port (except floating IP ports, which Neutron never creates in
        OVN), router, router port, security group, rule and associated floating IP in
        Neutron's database is looked up in the NB dump by the row that stands for it
        (checks/ovn/common.py lists them).  Both sides must be complete.  A port, router
        port or rule whose network, router or group is itself missing is reported with
        it.  Subnets' DHCP_Options are not judged: Neutron's facts do not say whether DHCP
        is enabled.  In a `--cell` run only the cells' ports, their networks and
        floating IPs are judged: their rows are all that run reads.

    Known false positives:
        Objects created in the last `min_age` (default 10 min) are skipped: Neutron
        writes the NB row in its post-commit, and its maintenance task re-creates what
        failed within 5 minutes.  An object created between the two reads looks missing
        for that run only.

    Repair:
        `mark-ovn-revision-stale` (safe): the object's row in Neutron's
        ovn_revision_numbers is set to -1, as Neutron leaves it when its own OVN create
        failed, and Neutron's maintenance task creates the row with its own columns within
        5 minutes.  The runbook when that cannot be planned: bump the object, or
        `neutron-ovn-db-sync-util --ovn-neutron_sync_mode=repair`.
    """

    code = "OV102"
    evidence_shape = MissingOvnObjectEvidence
    name = "missing-ovn-object"
    severity = Severity.HIGH
    needs = NEEDS
    relies_on = NEEDS
    repairs = ("mark-ovn-revision-stale", "missing-ovn-object-runbook")
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not both_complete(snap, out):
            return
        min_age = float(self.params["min_age"])
        objects = neutron_objects(snap)
        present = {(r.table, r.neutron_kind, r.neutron_id) for r in snap.of(OvnNbRow)}
        skip_ports = floating_ip_ports(snap)
        fips = associated_floating_ips(snap)
        asked = asked_for(snap)  # a --cell run's part: what it asked of the NB database

        def missing(kind: str, oid: str) -> bool:
            return (TABLE_OF[kind], kind, oid) not in present

        for kind in (NETWORK, ROUTER, SECURITY_GROUP, PORT, ROUTER_PORT, RULE, FLOATING_IP):
            for oid in sorted(objects[kind]):
                obj = objects[kind][oid]
                if (kind == PORT and oid in skip_ports) or (kind == FLOATING_IP and oid not in fips):
                    continue
                if asked is not None and oid not in asked.get(kind, ()):
                    continue  # its rows were not asked for
                out.examine()
                if not missing(kind, oid):
                    continue
                age = age_seconds(snap, obj.created_at or obj.updated_at)
                if age is not None and age < min_age:
                    continue
                container = _CONTAINER_KIND.get(kind)
                if container and obj.parent in objects[container] and missing(container, obj.parent):
                    continue  # reported with its network, router or group
                table = TABLE_OF[kind]
                expected = _EXPECTED_NAME[kind](oid)
                out.found(
                    neutron_ref(kind, oid),
                    f"{_WHAT[kind]} {oid} has no {table} in the OVN northbound database (expected {expected}).",
                    related=[ObjectRef("ovn-" + table.lower().replace("_", "-"), expected, OVN_NB_SCOPE)],
                    evidence={
                        "neutron": {
                            "kind": kind,
                            "id": oid,
                            "revision_number": obj.revision,
                            "created_at": iso(obj.created_at),
                            "updated_at": iso(obj.updated_at),
                            "parent": obj.parent,
                        },
                        "expected_table": table,
                        "expected_name": expected,
                    },
                    changed_at=obj.updated_at or obj.created_at,
                )
