from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.dns.common import (
    NEUTRON_KINDS,
    judged_address,
    record_evidence,
    record_id,
    record_ref,
    with_neutron,
)
from osfsck.checks.instance_index import ARCHIVED, DELETED, UNDECIDED, instance_index
from osfsck.model.facts.dns import JUDGED_TYPES, DesignateRecord, DnsRecord, DnsZone
from osfsck.model.facts.nova import (
    ArchivedInstance,
    BuildRequest,
    Cell,
    Instance,
    InstanceMapping,
    InstanceNetwork,
    Migration,
)
from osfsck.model.finding import Confidence, Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class _StaleDnsRecordEvidenceAlways(TypedDict):
    address: str
    holder: dict[str, Any] | None
    made_by: str | None
    managed_by_designate: bool
    record: dict[str, Any]
    subnet: str


class StaleDnsRecordEvidence(_StaleDnsRecordEvidenceAlways, total=False):
    """What every DN101 finding's evidence holds (and, below, what some do)."""

    deleted_instance: dict[str, Any]


class StaleDnsRecord(Check):
    """An A, AAAA or PTR record for an address no port or floating IP holds, or named for a deleted instance.

    Why it matters:
        A record left behind when an instance was deleted (designate-sink's
        `compute.instance.delete.start` lost, a hook that never ran) keeps pointing at
        its address.  Once Neutron gives that address to another tenant, the old name
        sends that tenant's traffic (mail, TLS, monitoring, an application's backend) to
        someone else's machine.

    How it is detected:
        Every A/AAAA record and every PTR of a transferred zone whose address lies in a
        Neutron subnet (floating IP networks included) is looked up in Neutron: it is
        stale when no port (ipallocations of an existing port) and no floating IP holds
        the address; or when its name (a PTR's target) maps by the zone's name template
        to a deleted or archived instance that no live instance shares it with, while
        the address now belongs to another live instance and is not that instance's
        port's external-DNS name (`dns_name.dns_domain`).

    Known false positives:
        Records outside OpenStack's ranges (name servers, mail, ...) are never judged.
        A record no naming rule of OpenStack's made (a wildcard, an operator's alias or
        VIP name) on an address nothing holds is still reported, since the address's
        next holder gets the name, but with medium confidence: it is never deleted.
        A record for a floating IP is held by the floating IP.  A name Neutron's external
        DNS gave the new holder's port is its own.  Needs all of Neutron and the whole
        zone: a partial one makes the check inconclusive, never a finding.  A record
        created in the moment between Neutron's allocation and the snapshot cannot look
        stale (the port exists first).

    Repair:
        `delete-dns-records` (unsafe) deletes exactly that record with an RFC 2136 update
        signed with TSIG, conditional on its RRset being as it was read; `osfsck undo`
        adds it back.  In a zone Designate writes, `dns-record-runbook` gives the
        `openstack recordset` commands instead.
    """

    code = "DN101"
    evidence_shape = StaleDnsRecordEvidence
    name = "stale-dns-record"
    severity = Severity.MEDIUM
    needs = (
        DnsRecord,
        DnsZone,
        *NEUTRON_KINDS,
        InstanceNetwork,
        Instance,
        ArchivedInstance,
        InstanceMapping,
        Cell,
        Migration,
        BuildRequest,
    )
    relies_on = (DnsRecord, *NEUTRON_KINDS, InstanceNetwork)
    uses = (DesignateRecord,)  # what designate-sink made, when Designate's database is configured
    repairs = ("delete-dns-records", "dns-record-runbook")

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        idx = with_neutron(snap, out)
        if idx is None:
            return
        nova = instance_index(snap)
        for r in snap.of(DnsRecord):
            if r.type not in JUDGED_TYPES:
                continue
            address = judged_address(idx, r)
            if address is None:
                continue
            out.examine()
            holder = idx.holders.get(address)
            named = r.data if r.type == "PTR" else r.name
            evidence = {
                "record": record_evidence(r),
                "address": address,
                "subnet": str(idx.subnet_of(address)),
                "holder": holder.evidence() if holder else None,
                "managed_by_designate": r.zone in idx.designate_zones,
            }
            rid = record_id(r.name, r.type, r.data)
            if holder is None:
                # stale whoever made it (the next holder of the address gets its name), but
                # a record no rule of OpenStack's made is the operator's: a person decides
                made = evidence["made_by"] = idx.made_by(r, named, address)
                out.found(
                    record_ref(r),
                    f"{r.type} record {rid} in zone {r.zone}: no port or floating IP "
                    f"holds {address} (in Neutron subnet {evidence['subnet']})"
                    + ("." if made else "; no OpenStack naming rule made it."),
                    evidence=evidence,
                    confidence=Confidence.HIGH if made else Confidence.MEDIUM,
                )
                continue
            if holder.instance_uuid is None or named in idx.expected_names(address):
                continue
            if not idx.instance_names_read(out, record_ref(r)):
                continue  # the name may be a live instance's we could not see (or the holder's)
            candidates = idx.instances_named(named, address)
            if any(c.uuid in idx.live_nets for c in candidates):
                continue
            for c in candidates:
                st = nova.status(c.uuid)
                if st.state == UNDECIDED:
                    for scope in st.scopes:
                        out.inconclusive(scope, st.reason, record_ref(r))
                    break
                if st.state in (DELETED, ARCHIVED) and c.uuid != holder.instance_uuid:
                    evidence["deleted_instance"] = {"uuid": c.uuid, "hostname": c.hostname, "state": st.state}
                    evidence["made_by"] = idx.made_by(r, named, address)
                    out.found(
                        record_ref(r),
                        f"{r.type} record {rid} in zone {r.zone} names instance {c.uuid} ({c.hostname}), which "
                        f"was {'archived' if st.state == ARCHIVED else 'deleted'}; {address} now belongs to "
                        f"instance {holder.instance_uuid} ({holder.kind} {holder.id}).",
                        related=[ObjectRef("instance", holder.instance_uuid, "api")],
                        evidence=evidence,
                        severity=Severity.HIGH,
                    )
                    break
