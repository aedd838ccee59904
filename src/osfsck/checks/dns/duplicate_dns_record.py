from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.dns.common import (
    NEUTRON_KINDS,
    DnsIndex,
    ptr_name,
    record_evidence,
    record_id,
    record_ref,
    with_neutron,
)
from osfsck.model.facts.dns import DesignateRecord, DnsRecord, DnsZone
from osfsck.model.facts.nova import Cell, InstanceNetwork
from osfsck.model.finding import Confidence, Severity
from osfsck.model.snapshot import Snapshot


class DuplicateDnsRecordEvidence(TypedDict):
    """What every DN102 finding's evidence holds."""

    address: str
    holder: dict[str, Any]
    made_by: str
    managed_by_designate: bool
    others: list[str]
    own: list[str]
    record: dict[str, Any]


class DuplicateDnsRecord(Check):
    """Several names with address records for one OpenStack address, or several PTRs for it.

    Why it matters:
        A renamed instance's old name, or a record written twice by two integrations
        (PayPal's "duplicated" entries), keeps resolving to the address: clients of the
        old name reach whoever holds the address next, and reverse lookups (mail, logs,
        SSH) answer with a name chosen at random among several PTRs.

    How it is detected:
        The A/AAAA records of every transferred zone are grouped by address, and so are
        the PTRs of the reverse zones.  For an address in a Neutron subnet with more than
        one name (or more than one PTR target), the names its holder may have are found:
        its instance's names by each zone's template, its port's external-DNS name, and
        (for address records) the name its PTR gives.  Every other record for the address
        that OpenStack's naming made is a duplicate: a name a zone's template gives an
        instance Nova knows (live or deleted), a port's Neutron DNS name, a record
        designate-sink made, or a name a hook marked with a known instance's uuid in a
        TXT record.  When none of the names is the holder's, each such record is
        reported with medium confidence.  Every zone involved, the address's reverse
        zone and every cell's instance names must have been read, else the address is
        inconclusive.

    Known false positives:
        One instance named in two zones (a template in each) has two expected names, not
        a duplicate.  A wildcard (`*.apps` on a floating IP), an operator's alias or
        vanity name, a PTR set by hand: no rule of OpenStack's made them, so they are
        never duplicates (and never deleted).  Records outside OpenStack's ranges
        (round-robin or alias names of infrastructure hosts) are not judged.  Needs all
        of Neutron (else inconclusive).

    Repair:
        `delete-dns-records` (unsafe) deletes the duplicate record, conditional on its
        RRset as read, when the holder's own name is known (medium-confidence findings
        are left to `dns-record-runbook`); `osfsck undo` adds it back.
    """

    code = "DN102"
    evidence_shape = DuplicateDnsRecordEvidence
    name = "duplicate-dns-record"
    severity = Severity.LOW
    needs = (DnsRecord, DnsZone, *NEUTRON_KINDS, InstanceNetwork, Cell)
    relies_on = (DnsRecord, DnsZone, *NEUTRON_KINDS, InstanceNetwork, Cell)
    uses = (DesignateRecord,)  # what designate-sink made, when Designate's database is configured
    repairs = ("delete-dns-records", "dns-record-runbook")

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        idx = with_neutron(snap, out)
        if idx is None:
            return
        for address in sorted(set(idx.forward) | set(idx.ptrs)):
            if idx.subnet_of(address) is None:
                continue
            fwd, ptrs = idx.forward.get(address, []), idx.ptrs.get(address, [])
            out.examine()
            names, targets = {r.name for r in fwd}, {p.data for p in ptrs}
            if len(names) < 2 and len(targets) < 2:
                continue
            # which name is the holder's own, and which rule made each, needs every zone
            # involved (its records and template), the reverse zone's PTRs and every
            # instance's names: a partial one would turn an own name into a "duplicate"
            about = record_ref((fwd or ptrs)[0])  # the records of one address lie where it does
            if not idx.zones_read(out, names | targets | {ptr_name(address)}, about) or not idx.instance_names_read(
                out, about
            ):
                continue
            expected = idx.expected_names(address)
            if len(names) > 1:
                own = names & (expected | targets)
                self._report(out, idx, address, fwd, lambda r: r.name, own, "names")
            if len(targets) > 1:
                own = targets & (expected | names)
                self._report(out, idx, address, ptrs, lambda r: r.data, own, "PTR records")

    @staticmethod
    def _report(
        out: CheckOutput,
        idx: DnsIndex,
        address: str,
        records: list[Any],
        name_of: Callable[[Any], str],
        own: Any,
        what: str,
    ) -> None:
        holder = idx.holders.get(address)
        everything = sorted({record_id(r.name, r.type, r.data) for r in records})
        for r in records:
            if name_of(r) in own:
                continue
            made = idx.made_by(r, name_of(r), address)
            if not idx.maker_known(out, made) or made is None:
                continue  # a wildcard, an operator's alias: no rule of OpenStack's made it
            rid = record_id(r.name, r.type, r.data)
            others = [x for x in everything if x != rid]
            out.found(
                record_ref(r),
                f"{r.type} record {rid} in zone {r.zone} is one of {len(everything)} {what} for {address}"
                + (
                    f"; the holder's own is {', '.join(sorted(own))}."
                    if own
                    else f"; none is known to be its holder's (also: {', '.join(others)})."
                ),
                evidence={
                    "record": record_evidence(r),
                    "address": address,
                    "others": others,
                    "own": sorted(own),
                    "holder": holder.evidence() if holder else None,
                    "made_by": made,
                    "managed_by_designate": r.zone in idx.designate_zones,
                },
                confidence=Confidence.HIGH if own else Confidence.MEDIUM,
            )
