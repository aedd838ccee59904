"""The OVN northbound database: the rows Neutron owns, read in one atomic dump.

One JSON-RPC `transact` selects exactly the columns below from every table, which the
server answers from one state of the database (clients/ovsdb_rpc.py).  Nothing is added
unless that whole reply arrived and parsed; otherwise the scope is partial with one line
and no fact.

A `--cell` run reads, after Neutron's part, only the rows that stand for it or name its
cells' instances (model/cell_slice.py `ovn_ask`): the switch ports' table is transferred
whole (ovsdb-server cannot find a `neutron:device_id` in external_ids but by a scan per
value, slower than the whole table) and cut to those; switches and routers are selected
by `==` on their names and NAT rows by their floating IPs' ids (clients/ovsdb_rpc.py
`select_where`), in the same consistent state; a switch port or NAT row whose switch or
router was not among them is given it by a second read, by the name Neutron writes on
it (`neutron:network_name`, `neutron:router_name`).
"""

from __future__ import annotations

from dataclasses import replace

from osfsck.clients import extras, gcpause
from osfsck.clients.ovsdb_rpc import OvnNbError, map_of, select, select_where, set_of
from osfsck.model.cell_slice import KEY_KINDS, OvnAsk, ovn_ask
from osfsck.model.facts import kind_of
from osfsck.model.facts.neutron import FloatingIp, NeutronPort
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
from osfsck.sources.base import NotConfigured, SourceError, cover_all, utcnow
from osfsck.sources.cell_part import CellPartSource
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


class OvnNorthboundSource(CellPartSource):
    name = "ovn-nb"
    settings_attr = "ovn"
    provides = (OvnNbRow,)
    part_requires = (*KEY_KINDS, NeutronPort, FloatingIp)

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
        keys = self.cell_keys(known)
        ask = ovn_ask(keys, known.of(NeutronPort), known.of(FloatingIp)) if keys is not None else None
        try:
            if ask is None:
                made = NbFacts()
                select(self.settings, SCHEMA, {t: COLUMNS[t] for t in ORDER}, made.add)
                facts = made.facts()
            else:
                facts = facts_of(self._part(ask))
        except OvnNbError as e:
            part = keys.part if keys is not None else ""
            return [cover_all(sink, (OvnNbRow,), OVN_NB_SCOPE, self.name, False, str(e), part=part)]
        sink.add(kind_of(OvnNbRow), facts)
        if keys is None or ask is None:
            return [cover_all(sink, (OvnNbRow,), OVN_NB_SCOPE, self.name, True, at=at)]
        status = cover_all(sink, (OvnNbRow,), OVN_NB_SCOPE, self.name, True, at=at, part=keys.part)
        said = (
            f"only what stands for {keys.part[6:]}'s part of Neutron or names its instances: the switch "
            f"ports of {len(ask.ports)} port(s) and {len(ask.instances)} instance(s) (of every switch port "
            f"transferred), {len(ask.switches)} switch(es), the NAT rows of {len(ask.fips)} floating IP(s) "
            "and their routers (the rest is network-wide)"
        )
        return [replace(status, reason=said)]

    def _part(self, ask: OvnAsk) -> dict:
        """The tables' rows that stand for a --cell run's part of Neutron, with the switches
        and routers holding them (a second read for those not named by the first)."""
        tables = select_where(self.settings, SCHEMA, part_conditions(ask))
        try:
            tables[SWITCH_PORT] = [r for r in tables[SWITCH_PORT] if _asked(ask, r)]
            held = {u[1] for t, c in _CONTAINS for row in tables[t] for u in set_of(row[c])}
            more = part_holders([r for t in (SWITCH_PORT, NAT) for r in tables[t] if r["_uuid"][1] not in held])
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
            raise OvnNbError(f"malformed row in the NB reply: {type(e).__name__}: {e}") from None
        if any(conditions for _, conditions in more.values()):
            extra = select_where(self.settings, SCHEMA, more)
            for table, rows in extra.items():
                seen = {r["_uuid"][1] for r in tables[table]}
                tables[table] += [r for r in rows if r["_uuid"][1] not in seen]
        return tables


def part_conditions(ask: OvnAsk) -> dict:
    """{table: (columns, conditions)} of a --cell run's first read (`select_where`)."""
    fip = "neutron:fip_id"
    return {
        table: (
            cols,
            {
                SWITCH_PORT: [True],  # all of them: cut to the part's by `_asked`
                LOGICAL_SWITCH: [["name", "==", n] for n in sorted(ask.switches)],
                NAT: [["external_ids", "includes", ["map", [[fip, f]]]] for f in sorted(ask.fips)],
                LOGICAL_ROUTER: [["name", "==", n] for n in sorted(ask.routers)],
            }.get(table, []),
        )
        for table, cols in COLUMNS.items()
    }


def _asked(ask: OvnAsk, row: dict) -> bool:
    """Whether a switch port's row (as OVSDB's JSON) is one `ask` holds."""
    return row["name"] in ask.ports or map_of(row["external_ids"]).get("neutron:device_id") in ask.instances


def part_holders(rows: list) -> dict:
    """The second read's conditions: the switches and routers of the switch ports and NAT
    rows the first did not find in one, by the name Neutron writes on them."""
    names: dict[str, set] = {LOGICAL_SWITCH: set(), LOGICAL_ROUTER: set()}
    for row in rows:
        ext = map_of(row["external_ids"])
        if ext.get("neutron:network_name"):
            names[LOGICAL_SWITCH].add(ext["neutron:network_name"])
        if ext.get("neutron:router_name"):
            names[LOGICAL_ROUTER].add(ext["neutron:router_name"])
    return {t: (COLUMNS[t], [["name", "==", n] for n in sorted(v)]) for t, v in names.items()}


# the tables in the order they are read: those holding others first (a row's parent is
# known before its fact is made, as when every table was read before any fact)
_HOLDERS = tuple(dict.fromkeys(t for t, _ in _CONTAINS))
ORDER = (*_HOLDERS, *(t for t in COLUMNS if t not in _HOLDERS))


class NbFacts:
    """Facts of the Neutron rows of NB tables given (`add`) in ORDER, a table in one or
    more pieces from its last rows to its first (clients/ovsdb_rpc.py `select`); each
    piece's facts are detached from its rows (sources/detach.py) before the next piece is
    decoded, so that only one piece's rows are held at a time (and the holders' rows,
    until their last piece is in)."""

    def __init__(self) -> None:
        self._holders: dict[str, list] = {}  # the pieces of _CONTAINS' tables until all are in
        self._parent_of: dict | None = None
        self._facts: dict[str, list] = {t: [] for t in COLUMNS}  # each table's pieces' facts

    def add(self, table: str, rows: list) -> None:
        if self._parent_of is None and table in _HOLDERS:
            self._holders.setdefault(table, []).append(rows)
            return
        if self._parent_of is None:
            self._parents()
        self._made(table, rows)

    def facts(self) -> list[OvnNbRow]:
        """Every fact, table by table in COLUMNS' order, each table's in its rows' order."""
        if self._parent_of is None:
            self._parents()
        return [f for t in COLUMNS for piece in reversed(self._facts[t]) for f in piece]

    def _parents(self) -> None:
        held = {t: [r for piece in reversed(pieces) for r in piece] for t, pieces in self._holders.items()}
        self._holders = {}
        parent_of: dict = {}
        try:
            for table, column in _CONTAINS:
                for row in held.get(table, ()):
                    name = row["name"]
                    for child in set_of(row[column]):
                        parent_of[child[1]] = name
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
            raise OvnNbError(f"malformed row in the NB reply: {type(e).__name__}: {e}") from None
        self._parent_of = detached([parent_of])[0]
        for table in _HOLDERS:
            self._made(table, held.get(table, []))

    def _made(self, table: str, rows: list) -> None:
        parent_of = self._parent_of or {}
        cols = COLUMNS[table]
        named, typed = "name" in cols, "type" in cols
        facts = []
        try:
            with gcpause.paused():
                for row in rows:
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
        self._facts[table].append(detached(facts))  # while `rows` is held: sources/detach.py


def facts_of(tables: dict) -> list[OvnNbRow]:
    """Facts of every Neutron row in `tables` ({table: [row as OVSDB's JSON, ...]});
    OvnNbError when a row is not as OVSDB writes one."""
    made = NbFacts()
    for table in ORDER:
        made.add(table, tables[table])
    return made.facts()
