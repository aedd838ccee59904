"""The OVN northbound database: the rows Neutron owns, read in one atomic dump.

One JSON-RPC `transact` selects exactly the columns below from every table, which the
server answers from one state of the database (clients/ovsdb_rpc.py).  Nothing is added
unless that whole reply arrived and parsed; otherwise the scope is partial with one line
and no fact.
"""

from __future__ import annotations

from osfsck.clients import extras, gcpause
from osfsck.clients.ovsdb_rpc import OvnNbError, map_of, select, set_of
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
from osfsck.sources.detach import detached
from osfsck.sources.ovn_nb.mapping import to_fact

# only these columns are asked for: the cost is per cell sent and parsed, and a port
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
SCHEMA = "OVN_Northbound"
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
            f"OVSDB select (read only) of OVN_Northbound at {self.settings.nb_connection}{ssl}: "
            + ", ".join(f"{t}({', '.join(c)})" for t, c in COLUMNS.items())
        ]

    def collect(self, kinds, known: Snapshot, sink: Snapshot, scopes=None) -> list[SourceStatus]:
        if scopes is not None and OVN_NB_SCOPE not in scopes:
            return []
        at = utcnow()
        try:
            tables = select(self.settings, SCHEMA, COLUMNS)
            with gcpause.paused():  # some 56,000 facts from the rows of 40,000 ports
                facts = detached(facts_of(tables))  # while `tables` is held: sources/detach.py
        except OvnNbError as e:
            return [cover_all(sink, (OvnNbRow,), OVN_NB_SCOPE, self.name, False, str(e))]
        sink.add(kind_of(OvnNbRow), facts)
        return [cover_all(sink, (OvnNbRow,), OVN_NB_SCOPE, self.name, True, at=at)]


def facts_of(tables: dict) -> list[OvnNbRow]:
    """Facts of every Neutron row in `tables` ({table: [row as OVSDB's JSON, ...]}, the
    whole reply of the select); OvnNbError when a row is not as OVSDB writes one."""
    try:
        parent_of: dict = {}
        for table, column in _CONTAINS:
            for row in tables[table]:
                name = row["name"]
                for child in set_of(row[column]):
                    parent_of[child[1]] = name
        facts = []
        for table, cols in COLUMNS.items():
            named, typed = "name" in cols, "type" in cols
            for row in tables[table]:
                u = row["_uuid"][1]
                f = to_fact(
                    table,
                    u,
                    row["name"] if named else "",
                    map_of(row["external_ids"]),
                    row["type"] if typed else "",
                    parent_of.get(u, ""),
                )
                if f is not None:
                    facts.append(f)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
        raise OvnNbError(f"malformed row in the NB reply: {type(e).__name__}: {e}") from None
    return facts
