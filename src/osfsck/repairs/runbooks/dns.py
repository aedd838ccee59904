"""Runbooks for DNS findings: `nsupdate` for a zone osfsck may update, `openstack recordset`
for a zone Designate writes (a record deleted behind Designate's back comes back at its
next sync, and Designate's database would still list it)."""

from __future__ import annotations

from osfsck.model.finding import Finding
from osfsck.repairs.base import Runbook
from osfsck.repairs.runbooks import steps


class DnsRecordRunbook(Runbook):
    name = "dns-record-runbook"

    def text(self, f: Finding) -> str:
        ev = f.evidence
        r = ev.get("record", {})
        zone, name, rtype, data = r.get("zone"), r.get("name"), r.get("type"), r.get("data")
        choose = ""
        if f.code == "DN102" and not ev.get("own"):
            choose = (
                f"Decide which of the names for {ev.get('address')} is right (the holder is "
                f"{(ev.get('holder') or {}).get('kind', 'nothing')} {(ev.get('holder') or {}).get('id', '')}; "
                f"the other records: {', '.join(ev.get('others', []))}); delete the others as below."
            )
        if ev.get("managed_by_designate"):
            delete = (
                f"Through Designate: `openstack recordset list {zone} --name {name} --type {rtype} --all-projects` "
                f"shows the recordset; if {data} is its only record, `openstack recordset delete {zone} {name} "
                f"--all-projects`, else `openstack recordset set {zone} {name} --record <each other record> "
                "--all-projects` to keep the rest."
            )
        else:
            delete = (
                f"With the zone's TSIG key: `nsupdate -k <key file>` then `server <the zone's server>`, "
                f"`zone {zone}`, `prereq yxrrset {name} {rtype} {data}`, `update delete {name} {rtype} {data}`, "
                "`send` (the prerequisite makes the server refuse if the record changed meanwhile)."
            )
        readd = ""
        if f.code == "DN103":
            names = ev.get("expected_names") or []
            readd = (
                f"Give {ev.get('address')} its right name: `update add {name} <ttl> PTR "
                f"{names[0] if names else '<the holder instance name>'}` in the same way."
            )
        check = f"Run `osfsck check --select {f.code}` again: the finding must be gone."
        return steps(choose, delete, readd, check)
