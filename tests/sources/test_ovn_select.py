"""The OVN source's facts from the select's reply decoded in pieces (clients/ovsdb_rpc.py
`_spans`, `_pieces`; sources/ovn_nb/source.py `NbFacts`) are the facts it made when every
row was decoded at once and every parent known before any fact: against a real
ovsdb-server (osfsck_lab.ovsdb) holding the small lab's NB rows (with their faults and
near misses), and rows made here: Neutron's, others', rows that hang on two parents, and
values that look like the places where the reply is cut."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from osfsck.clients import ovsdb_rpc
from osfsck.clients.ovsdb_rpc import map_of, set_of
from osfsck.config.ovn import OvnSettings
from osfsck.model.facts.ovn import OvnNbRow
from osfsck.model.snapshot import Snapshot
from osfsck.sources.ovn_nb.mapping import to_fact
from osfsck.sources.ovn_nb.source import _CONTAINS, COLUMNS, SCHEMA, OvnNorthboundSource, facts_of
from osfsck_lab import build, ovn_nb, services
from osfsck_lab.ovsdb import OvsdbServer

pytestmark = pytest.mark.integration

ODD = [',{"a', ']},{"rows":[', '{"rows":[]}', "x,{", '\\"', "é ☃ \u2028", ""]


def _map(d: dict) -> list:
    return ["map", [[k, v] for k, v in d.items()]]


def network_ops(n: int, ports: int) -> list:
    """A Neutron network's rows, with odd values, a port Neutron did not mark, a localnet
    port, a port group and a switch sharing one ACL, a router with NAT and a router port."""
    net, sg, rid = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    ops: list = []
    for i in range(ports):
        ids = {"neutron:device_owner": "compute:nova", "neutron:device_id": str(uuid.uuid4())}
        ids |= {"neutron:revision_number": str(i % 7), "neutron:port_name": ODD[i % len(ODD)]}
        row = {"name": str(uuid.uuid4()), "external_ids": _map(ids if i % 10 else {})}
        ops.append({"op": "insert", "table": "Logical_Switch_Port", "uuid-name": f"p{i}", "row": row})
    row = {"name": f"provnet-{uuid.uuid4()}", "type": "localnet"}
    ops.append({"op": "insert", "table": "Logical_Switch_Port", "uuid-name": "ln", "row": row})
    rule = _map({"neutron:security_group_rule_id": str(uuid.uuid4()), "odd": ODD[n % len(ODD)]})
    ops.append({"op": "insert", "table": "ACL", "uuid-name": "a", "row": _acl(rule)})
    ops.append({"op": "insert", "table": "ACL", "uuid-name": "b", "row": _acl(_map({"by": "hand"}))})
    ports_ = ["set", [["named-uuid", f"p{i}"] for i in range(ports)] + [["named-uuid", "ln"]]]
    row = {"name": f"neutron-{net}" if n % 5 else f"by-hand-{n}", "ports": ports_, "acls": ["named-uuid", "a"]}
    row["external_ids"] = _map({"neutron:network_name": ODD[n % len(ODD)], "neutron:revision_number": "2"})
    ops.append({"op": "insert", "table": "Logical_Switch", "row": row})
    row = {"name": "pg_" + sg.replace("-", "_"), "acls": ["set", [["named-uuid", "a"], ["named-uuid", "b"]]]}
    row["external_ids"] = _map({"neutron:security_group_id": sg} if n % 2 else {})
    ops.append({"op": "insert", "table": "Port_Group", "row": row})
    nat = {"type": "dnat_and_snat", "external_ip": "198.51.100.1", "logical_ip": "10.0.0.1"}
    nat["external_ids"] = _map({"neutron:fip_id": str(uuid.uuid4()), "neutron:revision_number": "2"})
    ops.append({"op": "insert", "table": "NAT", "uuid-name": "n", "row": nat})
    lrp = {"name": f"lrp-{uuid.uuid4()}", "mac": "fa:16:3e:ff:00:01", "networks": "10.0.0.1/16"}
    ops.append({"op": "insert", "table": "Logical_Router_Port", "uuid-name": "lrp", "row": lrp})
    row = {"name": f"neutron-{rid}", "ports": ["named-uuid", "lrp"], "nat": ["named-uuid", "n"]}
    ops.append({"op": "insert", "table": "Logical_Router", "row": row})
    dhcp = {"cidr": "10.0.0.0/24", "external_ids": _map({"subnet_id": str(uuid.uuid4())} if n % 3 else {"x": "y"})}
    ops.append({"op": "insert", "table": "DHCP_Options", "row": dhcp})
    return ops


def _acl(external_ids: list) -> dict:
    return {"direction": "to-lport", "priority": 1002, "action": "allow", "match": "ip4", "external_ids": external_ids}


@pytest.fixture(scope="module", params=["made here", "the lab's"])
def server(tmp_path_factory, request):
    with OvsdbServer(tmp_path_factory.mktemp("nb")) as s:
        settings = OvnSettings(nb_connection=s.remote, timeout=30)
        if request.param == "the lab's":
            ovn_nb.load(s.remote, services.ovn_northbound(build.spec("small", 3, dt.datetime(2026, 6, 1, 12))))
        for n in range(12 if request.param == "made here" else 0):
            ops = [SCHEMA, *network_ops(n, 150)]
            got = ovsdb_rpc._first_answer(settings, None, lambda rpc, ops=ops: rpc.call("transact", ops, "fill"))
            assert not any(r and "error" in r for r in got), got
        yield request.param, settings


def as_before(tables: dict) -> list[OvnNbRow]:
    """The facts as the source made them before reading in pieces (every parent first)."""
    parent_of = {}
    for table, column in _CONTAINS:
        for row in tables[table]:
            for child in set_of(row[column]):
                parent_of[child[1]] = row["name"]
    return [
        f
        for table, cols in COLUMNS.items()
        for row in tables[table]
        if (
            f := to_fact(
                table,
                row["_uuid"][1],
                row.get("name", ""),
                map_of(row["external_ids"]),
                row.get("type", ""),
                parent_of.get(row["_uuid"][1], ""),
            )
        )
        is not None
    ]


def whole_tables(settings) -> dict:
    """The same select decoded at once (no `claim`)."""

    def read(rpc):
        ops = [{"op": "select", "table": t, "where": [], "columns": ["_uuid", *c]} for t, c in COLUMNS.items()]
        return rpc.call("transact", [SCHEMA, *ops], "the select")

    return {t: r["rows"] for t, r in zip(COLUMNS, ovsdb_rpc._first_answer(settings, None, read))}


@pytest.mark.parametrize("piece", [300, 1 << 20])
def test_facts_in_pieces_are_the_facts_of_the_whole_reply(server, monkeypatch, piece):
    made, settings = server
    pieces = []
    real = ovsdb_rpc._pieces
    monkeypatch.setattr(ovsdb_rpc, "PIECE", piece)
    monkeypatch.setattr(ovsdb_rpc, "_pieces", lambda *a: (pieces.append(1) or rows for rows in real(*a)))
    sink = Snapshot(taken_at=None)
    (status,) = OvnNorthboundSource(settings).collect({OvnNbRow}, sink, sink)
    tables = whole_tables(settings)
    expected = as_before(tables)
    assert status.status == "ok" and len(pieces) > (100 if piece < 1000 else 7)
    assert sink.of(OvnNbRow) == expected and len(expected) > 200
    assert facts_of(tables) == expected  # the --cell run's path: its tables given whole
    by_table = {t: sum(f.table == t for f in expected) for t in COLUMNS}
    assert all(by_table.values()), by_table  # every table has Neutron's rows in it
    if made == "made here":  # an ACL of a switch and a group is the switch's (its parent)
        assert any(f.parent.startswith("neutron-") for f in expected if f.table == "ACL")


def test_a_source_whose_select_fails_keeps_nothing_it_was_given(server, monkeypatch):
    """A row that does not decode after others did: partial, and none of the others."""
    real = ovsdb_rpc._pieces

    def failing(whole, start, end, what):
        yield from real(whole, start, end, what)
        if "Logical_Switch_Port" in what:
            raise ovsdb_rpc.OvnNbError(f"{what}: malformed reply: made up")

    monkeypatch.setattr(ovsdb_rpc, "_pieces", failing)
    sink = Snapshot(taken_at=None)
    (status,) = OvnNorthboundSource(server[1]).collect({OvnNbRow}, sink, sink)
    assert status.status == "partial" and status.reason.endswith(
        "rows of Logical_Switch_Port: malformed reply: made up"
    )
    assert sink.of(OvnNbRow) == []
