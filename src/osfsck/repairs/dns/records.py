"""Delete DNS records with an RFC 2136 update signed with TSIG: exactly the records of a
finding, on the condition that each RRset is still as it was read just before."""

from __future__ import annotations

from typing import Any

from osfsck.model.finding import Confidence, Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, NotOwned, Repair, RepairError, Undone

CODES = ("DN101", "DN102", "DN103")


def _server(ctx: Context, zone: str):
    from osfsck.clients.dns import server_for  # dnspython, the [dns] extra: only when repairing

    dns = ctx.settings.dns
    z = dns.zone(zone)
    if z is None:
        raise RepairError(f"zone {zone} is not in [dns.zones]: osfsck has no server or key for it")
    return ctx.client(f"dns:{zone}", lambda: server_for(z, dns.timeout))


class DeleteDnsRecords(Repair):
    name = "delete-dns-records"
    safety = Safety.UNSAFE
    writes = (
        "the DNS server of the record's zone: one RFC 2136 update signed with the zone's TSIG key, "
        "prerequisite 'RRset exists with exactly the records read' (RFC 2136 §2.4.2), then "
        "'delete an RR from an RRset' for each record of the finding"
    )
    undoable = True

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        if finding.code not in CODES or "record" not in finding.evidence:
            return f"{self.name} deletes DNS records; {finding.code} is not about one"
        r = finding.evidence["record"]
        if finding.evidence.get("managed_by_designate"):
            return f"zone {r['zone']} is written by Designate: change it through Designate (see the runbook)"
        if finding.confidence != Confidence.HIGH:
            return "which of the names is the right one is not known: a person must choose (see the runbook)"
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"delete {r['type']} record {r['name']} -> {r['data']} from zone {r['zone']} (RFC 2136, TSIG)",
            params={"zone": r["zone"], "records": [{k: r[k] for k in ("name", "type", "ttl", "data")}]},
        )

    def ownership(self, plan: RepairPlan, snap: Snapshot) -> None:
        # the checks judge only addresses inside Neutron's subnets; a finding without
        # that evidence is not about an OpenStack address and is not ours to touch
        if not plan.finding.evidence.get("address"):
            raise NotOwned(f"{plan.target.id}: no OpenStack address recorded for it")
        # a wildcard, an operator's alias, a PTR set by hand: OpenStack's naming did not
        # make it, so it is not OpenStack's to delete (issue 15 #9)
        if not plan.finding.evidence.get("made_by"):
            raise NotOwned(f"{plan.target.id}: no naming rule of OpenStack's made this record")

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        from osfsck.clients.dns import DnsError

        zone = plan.params["zone"]
        server = _server(ctx, zone)
        rrsets = []
        for rec in plan.params["records"]:
            try:
                found = server.rrset(rec["name"], rec["type"])
            except DnsError as e:
                raise RepairError(str(e)) from None
            if found is None or rec["data"] not in found[1]:
                raise RepairError(
                    f"{rec['name']} {rec['type']} {rec['data']} is no longer in zone {zone} at "
                    f"{server}; nothing changed"
                )
            rrsets.append({"name": rec["name"], "type": rec["type"], "ttl": found[0], "data": found[1]})
        return {"zone": zone, "server": str(server), "rrsets": rrsets, "deleted": plan.params["records"]}

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str | tuple[str, dict[str, Any]]:
        from osfsck.clients.dns import DnsError, Rr, UpdateRefused

        zone = before["zone"]
        server = _server(ctx, zone)
        deleted = [Rr(d["name"], d["type"], d["ttl"], d["data"]) for d in before["deleted"]]
        try:
            server.update(zone, require=[(s["name"], s["type"], s["data"]) for s in before["rrsets"]], delete=deleted)
        except UpdateRefused as e:
            raise RepairError(f"{e}; nothing changed") from None
        except DnsError as e:
            raise RepairError(str(e)) from None
        return f"deleted {', '.join(f'{d.name} {d.type} {d.data}' for d in deleted)} from zone {zone} at {server}"

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        from osfsck.clients.dns import DnsError, Rr

        before = entry["before"]
        zone = before["zone"]
        ttl = {(s["name"], s["type"]): s["ttl"] for s in before["rrsets"]}
        back = [
            Rr(d["name"], d["type"], ttl.get((d["name"], d["type"]), d["ttl"]), d["data"]) for d in before["deleted"]
        ]
        server = _server(ctx, zone)
        try:
            server.update(zone, add=back)
        except DnsError as e:
            raise RepairError(str(e)) from None
        return Undone(
            f"added back {', '.join(f'{b.name} {b.type} {b.data}' for b in back)} (with their TTLs) to zone "
            f"{zone} at {server}",
            [
                "the zone's SOA serial, which the server moves forward with every update (and, in a signed "
                "zone, the records' signatures, which it makes anew)"
            ],
        )
