from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.dns.common import NEUTRON_KINDS, judged_address, record_evidence, record_id, record_ref, with_neutron
from osfsck.model.facts.dns import DesignateRecord, DnsRecord, DnsZone, zone_scope
from osfsck.model.facts.nova import InstanceNetwork
from osfsck.model.finding import Confidence, Severity
from osfsck.model.snapshot import Snapshot


class DnsPtrMismatchEvidence(TypedDict):
    """What every DN103 finding's evidence holds."""

    address: str
    expected_names: list[str]
    holder: dict[str, Any]
    made_by: str | None
    managed_by_designate: bool
    record: dict[str, Any]
    target_addresses: list[str]
    target_zone: str


class DnsPtrMismatch(Check):
    """A PTR names a host whose address records do not point back at the address.

    Why it matters:
        Forward-confirmed reverse DNS fails: mail servers reject the host's mail, SSH and
        logs show another machine's name, and the name the PTR gives may be another
        tenant's instance.  Usually the PTR outlived its A record or was never updated
        when the address moved.

    How it is detected:
        For every PTR of a transferred reverse zone whose address is in a Neutron subnet,
        the zone holding its target is looked up: when that zone is transferred, the
        target must have an A/AAAA record for the address, directly, through CNAMEs or
        through a wildcard.  A target with no address record, or whose records are other
        addresses, is a mismatch; with high confidence only when OpenStack's naming made
        the PTR's target (else it is someone's own reverse name: a person decides).  The other direction
        (an A record whose address has a PTR naming another name) is covered too: either
        that PTR is itself a mismatch, or its name also points at the address, which is
        `duplicate-dns-record`; so no second finding is made for it.

    Known false positives:
        A target in a zone osfsck does not transfer, or under a delegation to one, is not
        judged (it may be right in someone else's zone), nor are addresses outside
        OpenStack's ranges.  A target
        zone that could not be read makes the check inconclusive for it.

    Repair:
        `delete-dns-records` (unsafe) deletes the PTR, conditional on its RRset as read
        (`osfsck undo` adds it back); the runbook says how to add the right one.
    """

    code = "DN103"
    evidence_shape = DnsPtrMismatchEvidence
    name = "dns-ptr-mismatch"
    severity = Severity.LOW
    needs = (DnsRecord, DnsZone, *NEUTRON_KINDS, InstanceNetwork)
    relies_on = (DnsRecord, DnsZone, *NEUTRON_KINDS)
    uses = (DesignateRecord,)  # what designate-sink made, when Designate's database is configured
    repairs = ("delete-dns-records", "dns-record-runbook")

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        idx = with_neutron(snap, out)
        if idx is None:
            return
        for address in sorted(idx.ptrs):
            for r in idx.ptrs[address]:
                if judged_address(idx, r) is None:
                    continue
                zone = idx.zone_of(r.data)
                if zone is None:
                    continue
                out.examine()
                points_to, unread = idx.resolve(r.data)
                if unread is not None:
                    out.inconclusive(zone_scope(unread), idx.zone_reason(unread), record_ref(r))
                    continue
                if points_to is None or address in points_to:
                    continue  # an alias into a zone osfsck does not read, or the right answer
                made = idx.made_by(r, r.data, address)
                rid = record_id(r.name, r.type, r.data)
                why = (
                    f"{r.data} has no address record in zone {zone}"
                    if not points_to
                    else f"{r.data} resolves to {', '.join(sorted(points_to))}"
                )
                holder = idx.holders.get(address)
                out.found(
                    record_ref(r),
                    f"PTR record {rid} in zone {r.zone} gives {address} the name {r.data}, but {why}.",
                    evidence={
                        "record": record_evidence(r),
                        "address": address,
                        "target_zone": zone,
                        "target_addresses": sorted(points_to),
                        "holder": holder.evidence() if holder else None,
                        "expected_names": sorted(idx.expected_names(address)),
                        "made_by": made,
                        "managed_by_designate": r.zone in idx.designate_zones,
                    },
                    confidence=Confidence.HIGH if made else Confidence.MEDIUM,
                )
