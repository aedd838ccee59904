"""Runbooks for OVN northbound findings a person settles through Neutron: a missing row
(OV102) and a row behind Neutron's revision (OV103).  Neutron must write its rows itself,
with every column it derives (addresses, port security, options, ACL matches): osfsck
does not forge them.

Neutron's ways to do it: its maintenance task (DBInconsistenciesPeriodics, every 5
minutes in the neutron-server worker holding the maintenance lock) re-syncs every object
whose `ovn_revision_numbers` row is behind its `standardattributes` revision; any update
bumps the revision, so a tag set and unset makes the task (or the update itself) push the
whole object.  `neutron-ovn-db-sync-util` compares everything at once.
"""

from __future__ import annotations

from osfsck.model.finding import Finding
from osfsck.repairs.base import Runbook
from osfsck.repairs.runbooks import steps

# the OpenStackClient resource of each Neutron kind (router ports are ports)
_CLI = {
    "network": "network",
    "port": "port",
    "router": "router",
    "router-port": "port",
    "security-group": "security group",
    "floating-ip": "floating ip",
    "subnet": "subnet",
}

# how `ovn-nbctl find` selects the row of a table whose rows have no telling name
_FIND_BY = {"ACL": 'external_ids:"neutron:security_group_rule_id"={id}', "NAT": 'external_ids:"neutron:fip_id"={id}'}

SYNC_UTIL = (
    "`neutron-ovn-db-sync-util --config-file /etc/neutron/neutron.conf --config-file "
    "/etc/neutron/plugins/ml2/ml2_conf.ini --ovn-neutron_sync_mode=log` first: it lists what it would "
    "change; then the same with `--ovn-neutron_sync_mode=repair`.  Caveats: it walks every network, port, "
    "router and security group (hours on a large cloud; run it in a maintenance window, from one host); "
    "in repair mode it also deletes every Neutron-marked NB row Neutron does not have (the rows OV101 "
    "reports) and rewrites rows that differ; it must reach the NB leader and never run while neutron-server "
    "is being upgraded."
)


def _bump(kind: str, oid: str) -> str:
    if kind == "security-group-rule":
        return (
            f"Security group rules cannot be updated: `openstack security group rule show {oid}`, then create "
            "the same rule again and delete the old one (Neutron writes the new rule's ACL)."
        )
    cli = _CLI.get(kind, kind)
    return (
        f"Make Neutron write it again: `openstack {cli} set --tag osfsck-resync {oid}` then "
        f"`openstack {cli} unset --tag osfsck-resync {oid}`; each update bumps revision_number and ML2/OVN "
        "pushes the whole object to OVN (or its maintenance task does within 5 minutes)."
    )


class MissingOvnObjectRunbook(Runbook):
    name = "missing-ovn-object-runbook"

    def text(self, f: Finding) -> str:
        n = f.evidence.get("neutron", {})
        kind, oid = n.get("kind", f.subject.kind), n.get("id", f.subject.id)
        table, expected = f.evidence.get("expected_table", "?"), f.evidence.get("expected_name", "?")
        where = _FIND_BY.get(table, "name={name}").format(id=oid, name=expected)
        return steps(
            f"Confirm on the NB leader: `ovn-nbctl find {table} {where}`; and in Neutron's database "
            f"`SELECT * FROM ovn_revision_numbers WHERE resource_uuid = '{oid}'` (a row behind "
            "standardattributes is one the maintenance task will retry).",
            "Look in neutron-server's log for the error of the original request (grep the id): an NB leader "
            "change or a timeout leaves the row unwritten.",
            _bump(kind, oid),
            "If many objects are missing: " + SYNC_UTIL,
        )


class OvnRevisionDriftRunbook(Runbook):
    name = "ovn-revision-drift-runbook"

    def text(self, f: Finding) -> str:
        n, row = f.evidence.get("neutron", {}), f.evidence.get("row", {})
        kind, oid = n.get("kind", "?"), n.get("id", "?")
        return steps(
            f"The NB row {row.get('table')} {row.get('uuid')} is at revision {row.get('revision')}, Neutron at "
            f"{n.get('revision_number')}: `ovn-nbctl list {row.get('table')} {row.get('uuid')}` and "
            f"`openstack {_CLI.get(kind, kind)} show {oid}` show what differs.",
            f"`SELECT * FROM ovn_revision_numbers WHERE resource_uuid = '{oid}'`: Neutron's maintenance task retries "
            "objects whose recorded revision is behind; if it never catches up, neutron-server's log says why.",
            _bump(kind, oid),
            "If many rows drift: " + SYNC_UTIL,
        )
