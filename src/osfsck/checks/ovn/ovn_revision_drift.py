from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, age_seconds
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
    DHCP_OPTIONS,
    FLOATING_IP,
    NETWORK,
    PORT,
    ROUTER,
    ROUTER_PORT,
    SUBNET,
    OvnNbRow,
)
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot

# rows on which Neutron writes neutron:revision_number (port groups and ACLs carry none;
# a port's own DHCP_Options follow the port's extra_dhcp_opts, not judged)
_REVISED = frozenset({NETWORK, PORT, ROUTER, ROUTER_PORT, FLOATING_IP, SUBNET})
GRACE_AGE = 600


class OvnRevisionDriftEvidence(TypedDict):
    """What every OV103 finding's evidence holds."""

    neutron: dict[str, Any]
    row: dict[str, Any]


class OvnRevisionDrift(Check):
    """An OVN northbound row is behind the revision of the Neutron object it stands for.

    Why it matters:
        Neutron bumps an object's revision_number with every change and writes it to the
        row with the change (`neutron:revision_number`).  A row behind Neutron missed an
        update: a port's new fixed IP or security group, a network's MTU, a floating IP's
        new fixed address are not what OVN enforces, and traffic goes where it no longer
        should (or nowhere).

    How it is detected:
        Every Neutron-owned NB row with a `neutron:revision_number` (switches, switch and
        router ports, routers, NAT rows of floating IPs, DHCP_Options of subnets) is
        compared with the `revision_number` of its Neutron object in standardattributes.
        A row behind it is reported once the object's updated_at is older than
        `grace_age` (default 10 min).  Both sides must be complete.

    Known false positives:
        An update in flight: Neutron commits its database first and the NB row a moment
        later; its maintenance task fixes a row left behind within 5 minutes, hence the
        grace.  A row ahead of Neutron is not reported (Neutron's own ovn_revision_numbers
        bookkeeping decides those).

    Repair:
        `mark-ovn-revision-stale` (safe): the object's row in Neutron's
        ovn_revision_numbers is set to the NB row's revision, as Neutron leaves it when its
        own OVN update failed, and Neutron's maintenance task updates the row within 5
        minutes.  The runbook when that cannot be planned: make Neutron write the object
        again, or `neutron-ovn-db-sync-util --ovn-neutron_sync_mode=repair`.
    """

    code = "OV103"
    evidence_shape = OvnRevisionDriftEvidence
    name = "ovn-revision-drift"
    severity = Severity.MEDIUM
    needs = NEEDS
    relies_on = NEEDS
    repairs = ("mark-ovn-revision-stale", "ovn-revision-drift-runbook")
    defaults = {"grace_age": GRACE_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not both_complete(snap, out):
            return
        grace = float(self.params["grace_age"])
        objects = neutron_objects(snap)
        asked = asked_for(snap)  # a --cell run's part
        for r in snap.of(OvnNbRow):
            # a row without a neutron_id names no Neutron object to compare with
            if not r.marked or r.revision is None or r.neutron_id is None or r.neutron_kind not in _REVISED:
                continue
            if r.table == DHCP_OPTIONS and r.neutron_kind != SUBNET:
                continue
            obj = objects[r.neutron_kind].get(r.neutron_id)
            if obj is None:
                if unsettled(asked, r):
                    say_unsettled(out, r)  # its port may be another cell's, behind or not
                continue  # an orphan: OV101's
            out.examine()
            if r.revision >= obj.revision:
                continue
            age = age_seconds(snap, obj.updated_at)
            if age is not None and age < grace:
                continue
            out.found(
                row_ref(r),
                f"{describe(r)} is at revision {r.revision}, behind revision {obj.revision} of "
                f"{r.neutron_kind} {r.neutron_id} in Neutron.",
                related=[neutron_ref(r.neutron_kind, r.neutron_id)],
                evidence={
                    "row": row_evidence(r),
                    "neutron": {
                        "kind": obj.kind,
                        "id": obj.id,
                        "revision_number": obj.revision,
                        "updated_at": obj.updated_at.isoformat() if obj.updated_at else None,
                    },
                },
                changed_at=obj.updated_at,
            )
