"""The OVN northbound database: the rows Neutron owns, read in one atomic dump.

Nothing is added unless the IDL has applied the server's complete initial dump
(clients/ovn.load); otherwise the scope is partial with one line and no fact.
"""

from __future__ import annotations

from osfsck.clients import extras
from osfsck.model.facts import kind_of
from osfsck.model.facts.ovn import (
    ACL,
    DHCP_OPTIONS,
    LOGICAL_ROUTER,
    LOGICAL_SWITCH,
    NAT,
    OVN_NB_SCOPE,
    PORT_GROUP,
    ROUTER_PORT_TABLE,
    SWITCH_PORT,
    OvnNbRow,
)
from osfsck.model.result import SourceStatus
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured, Source, SourceError, cover_all, utcnow
from osfsck.sources.ovn_nb.mapping import to_fact

# only these columns are monitored: the IDL's cost is per cell it parses, and a port
# group's `ports` alone would be another 110,000 references at the L scale
COLUMNS = {
    LOGICAL_SWITCH: ["name", "ports", "acls", "external_ids"],
    SWITCH_PORT: ["name", "type", "external_ids"],
    LOGICAL_ROUTER: ["name", "ports", "nat", "external_ids"],
    ROUTER_PORT_TABLE: ["name", "external_ids"],
    PORT_GROUP: ["name", "acls", "external_ids"],
    ACL: ["external_ids"],
    NAT: ["type", "external_ids"],
    DHCP_OPTIONS: ["external_ids"],
}
# (container table, column) -> what its rows hang on: the parent of each child row
_CONTAINS = (
    (LOGICAL_SWITCH, "ports"),
    (LOGICAL_ROUTER, "ports"),
    (LOGICAL_ROUTER, "nat"),
    (PORT_GROUP, "acls"),
    (LOGICAL_SWITCH, "acls"),
)


class OvnNorthboundSource(Source):
    name = "ovn-nb"
    settings_attr = "ovn"
    provides = (OvnNbRow,)
    stage = 0

    def __init__(self, settings):
        if not getattr(settings, "nb_connection", None):
            raise NotConfigured("[ovn] nb_connection is not configured")
        missing = extras.missing("ovs", "ovsdbapp")
        if missing:
            raise SourceError(f"[ovn] is configured but {missing}")
        self.settings = settings

    def reads(self) -> list[str]:
        ssl = " with the client certificate in [ovn] certificate" if self.settings.uses_ssl else ""
        return [
            f"OVSDB monitor (read only) of OVN_Northbound at {self.settings.nb_connection}{ssl}: "
            + ", ".join(f"{t}({', '.join(c)})" for t, c in COLUMNS.items())
        ]

    def collect(self, kinds, known: Snapshot, sink: Snapshot, scopes=None) -> list[SourceStatus]:
        if scopes is not None and OVN_NB_SCOPE not in scopes:
            return []
        from osfsck.clients.ovn import OvnNbError, load  # the [ovn] extra's libraries: only when read

        at = utcnow()
        try:
            idl = load(self.settings, COLUMNS)
        except OvnNbError as e:
            return [cover_all(sink, (OvnNbRow,), OVN_NB_SCOPE, self.name, False, str(e))]
        try:
            facts = facts_of(idl.tables)
        finally:
            idl.close()
        sink.add(kind_of(OvnNbRow), facts)
        return [cover_all(sink, (OvnNbRow,), OVN_NB_SCOPE, self.name, True, at=at)]


def facts_of(tables) -> list[OvnNbRow]:
    """Facts of every Neutron row in an IDL's `tables` (whose dump is complete)."""
    parent_of: dict = {}
    for table, column in _CONTAINS:
        for row in tables[table].rows.values():
            for child in getattr(row, column):
                parent_of[child.uuid] = row.name
    facts = []
    for table in COLUMNS:
        named = "name" in COLUMNS[table]
        typed = "type" in COLUMNS[table]
        for u, row in tables[table].rows.items():
            f = to_fact(
                table,
                str(u),
                row.name if named else "",
                row.external_ids,
                row.type if typed else "",
                parent_of.get(u, ""),
            )
            if f is not None:
                facts.append(f)
    return facts
