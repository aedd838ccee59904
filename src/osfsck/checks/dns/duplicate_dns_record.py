from __future__ import annotations

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.dns.common import NEUTRON_KINDS, record_evidence, record_id, record_ref, with_neutron
from osfsck.model.facts.dns import DnsRecord, DnsZone
from osfsck.model.facts.nova import InstanceNetwork
from osfsck.model.finding import Confidence, Severity
from osfsck.model.snapshot import Snapshot


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
        is a duplicate.  When none of the names is the holder's, every record of the
        address is reported, with medium confidence.

    Known false positives:
        One instance named in two zones (a template in each) has two expected names, not
        a duplicate.  Records outside OpenStack's ranges (round-robin or alias names of
        infrastructure hosts) are not judged.  Needs all of Neutron (else inconclusive).

    Repair:
        `delete-dns-records` (unsafe) deletes the duplicate record, conditional on its
        RRset as read, when the holder's own name is known (medium-confidence findings
        are left to `dns-record-runbook`); `osfsck undo` adds it back.
    """

    code = "DN102"
    name = "duplicate-dns-record"
    severity = Severity.LOW
    needs = (DnsRecord, DnsZone, *NEUTRON_KINDS, InstanceNetwork)
    relies_on = (*NEUTRON_KINDS,)
    repairs = ("delete-dns-records", "dns-record-runbook")

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        idx = with_neutron(snap, out)
        if idx is None:
            return
        for address in sorted(set(idx.forward) | set(idx.ptrs)):
            if idx.subnet_of(address) is None:
                continue
            expected = idx.expected_names(address)
            fwd, ptrs = idx.forward.get(address, []), idx.ptrs.get(address, [])
            out.examine()
            names = {r.name for r in fwd}
            if len(names) > 1:
                own = names & (expected | {p.data for p in ptrs})
                self._report(out, idx, address, fwd, lambda r: r.name in own, own, "names")
            targets = {p.data for p in ptrs}
            if len(targets) > 1:
                own = targets & (expected | names)
                self._report(out, idx, address, ptrs, lambda r: r.data in own, own, "PTR records")

    @staticmethod
    def _report(out, idx, address, records, is_own, own, what) -> None:
        holder = idx.holders.get(address)
        everything = sorted({record_id(r.name, r.type, r.data) for r in records})
        for r in records:
            if is_own(r):
                continue
            rid = record_id(r.name, r.type, r.data)
            others = [x for x in everything if x != rid]
            out.found(
                record_ref(r),
                f"{r.type} record {rid} in zone {r.zone} is one of {len(everything)} {what} for {address}"
                + (f"; the holder's own is {', '.join(sorted(own))}." if own else
                   f"; none is known to be its holder's (also: {', '.join(others)})."),
                evidence={"record": record_evidence(r), "address": address, "others": others,
                          "own": sorted(own), "holder": holder.evidence() if holder else None,
                          "managed_by_designate": r.zone in idx.designate_zones},
                confidence=Confidence.HIGH if own else Confidence.MEDIUM)
