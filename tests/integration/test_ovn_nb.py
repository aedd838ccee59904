"""The OVN northbound source, checks and delete-ovn-row against a real ovsdb-server serving
Debian's NB schema on loopback (osfsck_lab.ovsdb), populated the way Neutron's ML2/OVN
driver populates it (names and external_ids of research/external-systems.md §B.2), through
ovsdbapp.  The Neutron side comes from the World builder: the Neutron source has its own
tests against Neutron's real schema."""

from __future__ import annotations

import time

import pytest

from osfsck.checks.ovn.missing_ovn_object import MissingOvnObject
from osfsck.checks.ovn.orphan_ovn_object import OrphanOvnObject
from osfsck.clients import ovn as client
from osfsck.config.ovn import OvnSettings
from osfsck.config.settings import Settings
from osfsck.engine.context import RepairContext
from osfsck.model.facts.ovn import OVN_NB_SCOPE, OvnNbRow, port_group_name, router_name, switch_name
from osfsck.model.plan import RepairPlan
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import NotOwned, RepairError
from osfsck.repairs.ovn.rows import DeleteOvnRow
from osfsck.sources.ovn_nb.source import OvnNorthboundSource
from osfsck_lab.loopback import free_port
from osfsck_lab.nsx_standin import make_certificate
from osfsck_lab.ovsdb import OvsdbServer
from tests.support.world import World

pytestmark = pytest.mark.integration

GONE_PORT = "0e0e0e0e-0000-4000-8000-00000000dead"
GONE_NET = "0e0e0e0e-0000-4000-8000-0000000000ee"
GONE_SG = "0e0e0e0e-0000-4000-8000-0000000000aa"
GONE_RULE = "0e0e0e0e-0000-4000-8000-0000000000ab"


def eventually(read, seconds: float = 10.0):
    """`read()` once it gives something (a row an IDL learns of asynchronously)."""
    deadline = time.monotonic() + seconds
    while (got := read()) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return got


@pytest.fixture
def server(tmp_path):
    s = OvsdbServer(tmp_path / "nb")
    yield s
    s.stop()


def settings_of(server, timeout=10) -> OvnSettings:
    return OvnSettings(nb_connection=server.remote, timeout=timeout)


def neutron_side() -> tuple[World, dict]:
    """Neutron's objects: a network with two instance ports, a router on it, a group with a rule."""
    w = World()
    net = w.network()
    u = w.instance()
    sg = w.security_group(rules=1)
    ids = {
        "net": net,
        "p1": w.instance_port(u, network_id=net, security_groups=(sg,)),
        "p2": w.instance_port(u, network_id=net),
        "router": w.router(),
        "sg": sg,
    }
    ids["rif"] = w.router_interface(ids["router"], net)
    return w, ids


def lsp_ids(port_id: str, net: str, owner: str = "compute:nova", rev: int = 3) -> dict:
    return {
        "neutron:device_owner": owner,
        "neutron:device_id": "vm",
        "neutron:network_name": switch_name(net),
        "neutron:revision_number": str(rev),
        "neutron:port_name": "",
        "neutron:project_id": "project-a",
    }


def populate(api, ids: dict, *, missing: tuple = ()) -> None:
    """NB rows as ML2/OVN makes them for `neutron_side()` (except `missing` port ids), one
    orphan port, an orphan switch with a DHCP port, an orphan group with its ACL, and rows
    made by hand: a switch, a port on Neutron's switch and a port group."""
    net, ls = ids["net"], switch_name(ids["net"])
    with api.transaction(check_error=True) as txn:
        txn.add(
            api.ls_add(
                ls, external_ids={"neutron:network_name": "net1", "neutron:revision_number": "2", "neutron:mtu": "1442"}
            )
        )
        for key in ("p1", "p2"):
            if ids[key] not in missing:
                txn.add(
                    api.lsp_add(
                        ls, ids[key], addresses=["fa:16:3e:00:00:01 10.0.0.2"], external_ids=lsp_ids(ids[key], net)
                    )
                )
        txn.add(
            api.lsp_add(
                ls,
                ids["rif"],
                type="router",
                options={"router-port": f"lrp-{ids['rif']}"},
                external_ids=lsp_ids(ids["rif"], net, "network:router_interface"),
            )
        )
        txn.add(
            api.lsp_add(ls, GONE_PORT, addresses=["fa:16:3e:00:00:99 10.0.0.99"], external_ids=lsp_ids(GONE_PORT, net))
        )
        txn.add(
            api.lr_add(
                router_name(ids["router"]), external_ids={"neutron:router_name": "r1", "neutron:revision_number": "2"}
            )
        )
        txn.add(
            api.lrp_add(
                router_name(ids["router"]),
                f"lrp-{ids['rif']}",
                "fa:16:3e:00:01:01",
                ["10.0.0.1/16"],
                external_ids={"neutron:revision_number": "3", "neutron:network_name": ls},
            )
        )
        txn.add(api.pg_add(port_group_name(ids["sg"]), external_ids={"neutron:security_group_id": ids["sg"]}))
        txn.add(api.pg_add(port_group_name(GONE_SG), external_ids={"neutron:security_group_id": GONE_SG}))
        txn.add(api.pg_add("neutron_pg_drop"))
        txn.add(
            api.ls_add(
                switch_name(GONE_NET), external_ids={"neutron:network_name": "old", "neutron:revision_number": "4"}
            )
        )
        txn.add(
            api.lsp_add(
                switch_name(GONE_NET),
                "0e0e0e0e-0000-4000-8000-0000000000d1",
                external_ids=lsp_ids("d1", GONE_NET, "network:dhcp"),
            )
        )
        # by hand: no neutron:* external_ids
        txn.add(api.ls_add("ops-test-switch"))
        txn.add(api.lsp_add(ls, "ops-mirror-port"))
        txn.add(api.pg_add("ops_group"))
    # a separate transaction: an ACL cannot be added to a group made in the same one (ovsdbapp 3.0.0)
    with api.transaction(check_error=True) as txn:
        txn.add(
            api.pg_acl_add(
                port_group_name(ids["sg"]),
                "to-lport",
                1002,
                f"outport == @{port_group_name(ids['sg'])} && ip4",
                "allow-related",
                **{"neutron:security_group_rule_id": "00000000-0000-5ec7-0000-000000000001"},
            )
        )
        txn.add(
            api.pg_acl_add(
                port_group_name(GONE_SG),
                "to-lport",
                1002,
                f"outport == @{port_group_name(GONE_SG)} && ip4",
                "allow-related",
                **{"neutron:security_group_rule_id": GONE_RULE},
            )
        )
        members = [api.lookup("Logical_Switch_Port", ids["p1"]).uuid] if ids["p1"] not in missing else []
        if members:  # pg_add_ports wants uuids: names are silently ignored
            txn.add(api.pg_add_ports(port_group_name(GONE_SG), members))


def collect(settings) -> tuple[Snapshot, list]:
    sink = Snapshot(taken_at=None)
    return sink, OvnNorthboundSource(settings).collect({OvnNbRow}, sink, sink)


def snapshot_with(world: World, settings) -> Snapshot:
    """Neutron from the World, the NB rows collected from the server."""
    snap = world.snapshot()
    nb, _ = collect(settings)
    snap.facts[OvnNbRow.kind] = nb.of(OvnNbRow)
    snap.cover(nb.coverage[(OvnNbRow.kind, OVN_NB_SCOPE)])
    return snap


@pytest.fixture
def cloud(server):
    w, ids = neutron_side()
    writer = client.NbWriter(settings_of(server))
    populate(writer.api, ids, missing=(ids["p2"],))
    yield server, w, ids, writer
    writer.close()


def by_name(snap, name):
    return [r for r in snap.of(OvnNbRow) if r.name == name]


def test_collects_only_neutrons_rows(cloud):
    server, _, ids, _ = cloud
    snap, statuses = collect(settings_of(server))
    assert [s.status for s in statuses] == ["ok"]
    got = {(r.table, r.neutron_kind, r.neutron_id) for r in snap.of(OvnNbRow)}
    assert ("Logical_Switch", "network", ids["net"]) in got
    assert ("Logical_Switch_Port", "port", ids["p1"]) in got and ("Logical_Switch_Port", "port", GONE_PORT) in got
    assert ("Logical_Router_Port", "router-port", ids["rif"]) in got
    assert ("ACL", "security-group-rule", GONE_RULE) in got and ("Port_Group", None, None) in got
    names = {r.name for r in snap.of(OvnNbRow)}
    assert not names & {"ops-test-switch", "ops-mirror-port", "ops_group"}, "rows made by hand are not ours"
    (lsp,) = by_name(snap, ids["p1"])
    assert lsp.parent == switch_name(ids["net"]) and lsp.revision == 3 and lsp.device_owner == "compute:nova"
    (acl,) = [r for r in snap.of(OvnNbRow) if r.neutron_id == GONE_RULE]
    assert acl.parent == port_group_name(GONE_SG)


def test_stopped_server_is_partial_with_no_fact(cloud):
    server = cloud[0]
    server.stop()
    snap, (status,) = collect(settings_of(server))
    assert status.status == "partial" and "Connection refused" in status.reason and "\n" not in status.reason
    assert snap.of(OvnNbRow) == [] and not snap.is_complete(OvnNbRow, OVN_NB_SCOPE)


def test_hung_server_times_out_partial(cloud):
    server = cloud[0]
    server.pause()
    try:
        started = time.monotonic()
        snap, (status,) = collect(settings_of(server, timeout=1))
        assert time.monotonic() - started < 5
    finally:
        server.resume()
    assert status.status == "partial" and "in time" in status.reason and snap.of(OvnNbRow) == []


def test_nothing_is_read_before_the_initial_dump(cloud):
    """The schema arrived, the socket is connected, but the monitor reply does not come:
    the IDL never reports a complete dump and the wait ends in an error, not in rows."""
    server = cloud[0]
    settings = settings_of(server)
    helper = client.helper_for(settings, None, time.monotonic() + 5)
    server.pause()
    idl = client.ovs_idl.Idl(settings.nb_connection, helper)
    try:
        with pytest.raises(client.OvnNbError, match="initial dump did not arrive"):
            client.wait_for_dump(idl, time.monotonic() + 1, settings.nb_connection)
        assert not client.dump_complete(idl)
        server.resume()
        client.wait_for_dump(idl, time.monotonic() + 5, settings.nb_connection)
        assert client.dump_complete(idl) and idl.tables["Logical_Switch_Port"].rows
    finally:
        server.resume()
        idl.close()


def test_wrong_schema_is_partial(tmp_path):
    with OvsdbServer(tmp_path / "sb", schema="/usr/share/ovn/ovn-sb.ovsschema") as sb:
        snap, (status,) = collect(settings_of(sb))
    assert status.status == "partial" and "no OVN_Northbound database" in status.reason
    assert snap.of(OvnNbRow) == []


def test_checks_find_the_orphans_and_the_missing_port(cloud):
    server, w, ids, _ = cloud
    snap = snapshot_with(w, settings_of(server))
    orphans = OrphanOvnObject().evaluate(snap)
    found = {f.evidence["row"]["name"] or f.evidence["row"]["neutron_id"] for f in orphans.findings}
    assert found == {GONE_PORT, switch_name(GONE_NET), port_group_name(GONE_SG)}
    (sw,) = [f for f in orphans.findings if f.evidence["row"]["name"] == switch_name(GONE_NET)]
    assert len(sw.evidence["children"]) == 1, "its DHCP port goes with it"
    missing = MissingOvnObject().evaluate(snap)
    assert {(f.code, f.subject.id) for f in missing.findings} == {("OV102", ids["p2"])}


def _repair(ctx, finding) -> tuple[DeleteOvnRow, RepairPlan, dict]:
    repair = DeleteOvnRow()
    plan = repair.plan(finding, Snapshot(taken_at=None))
    assert isinstance(plan, RepairPlan), plan
    repair.ownership(plan, Snapshot(taken_at=None))
    before = repair.before_image(plan, ctx)
    return repair, plan, before


def _orphan(snap, name):
    return next(
        f
        for f in OrphanOvnObject().evaluate(snap).findings
        if (f.evidence["row"]["name"] or f.evidence["row"]["neutron_id"]) == name
    )


@pytest.mark.parametrize("name", [GONE_PORT, switch_name(GONE_NET), port_group_name(GONE_SG)])
def test_delete_settles_and_undo_recreates(cloud, name):
    server, w, ids, writer = cloud
    settings = settings_of(server)
    ctx = RepairContext(Settings(ovn=settings), None)
    try:
        finding = _orphan(snapshot_with(w, settings), name)
        repair, plan, before = _repair(ctx, finding)
        message = repair.apply(plan, ctx, before)
        assert "deleted" in message
        after = snapshot_with(w, settings)
        assert finding.fingerprint not in {f.fingerprint for f in OrphanOvnObject().evaluate(after).findings}
        assert not any(r.uuid == plan.params["uuid"] for r in after.of(OvnNbRow))
        children = {c["uuid"] for c in before.get("children", ())}
        assert not children & {r.uuid for r in after.of(OvnNbRow)}, "its rows went with it"
        # rows made by hand are untouched
        assert writer.api.lookup("Logical_Switch", "ops-test-switch") and writer.api.lookup("Port_Group", "ops_group")
        assert writer.api.lookup("Logical_Switch_Port", "ops-mirror-port")

        entry = {"before": before}
        assert "taken" not in repair.undo(entry, ctx)
        again = snapshot_with(w, settings)
        (back,) = [
            f
            for f in OrphanOvnObject().evaluate(again).findings
            if (f.evidence["row"]["name"] or f.evidence["row"]["neutron_id"]) == name
        ]
        assert back.evidence["row"]["uuid"] == plan.params["uuid"], "the row gets its own _uuid back"
        assert back.fingerprint == finding.fingerprint
        assert {c["uuid"] for c in back.evidence["children"]} == children
        assert len(back.evidence["children"]) == len(before.get("children", ()))
        # the select read the row back; the fixture's own IDL sees it when its update arrives
        restored = eventually(lambda: writer.image(before["table"], back.evidence["row"]["uuid"]))
        for column in ("name", "external_ids", "addresses"):
            if column in before["columns"]:
                assert restored["columns"][column] == before["columns"][column]
        if name == port_group_name(GONE_SG):
            # its member port (p1, still there) is a member again
            assert restored["columns"]["ports"] == [
                "uuid",
                str(writer.api.lookup("Logical_Switch_Port", ids["p1"]).uuid),
            ]
    finally:
        ctx.close()


def test_a_row_changed_since_is_refused(cloud):
    server, w, _, writer = cloud
    settings = settings_of(server)
    ctx = RepairContext(Settings(ovn=settings), None)
    try:
        repair, plan, before = _repair(ctx, _orphan(snapshot_with(w, settings), GONE_PORT))
        # another client (Neutron re-using the row) changes its external_ids in between
        writer.api.db_set(
            "Logical_Switch_Port", plan.params["uuid"], ("external_ids", {"neutron:revision_number": "9"})
        ).execute(check_error=True)
        with pytest.raises(RepairError, match="external_ids changed"):
            repair.apply(plan, ctx, before)
        assert writer.image("Logical_Switch_Port", plan.params["uuid"]) is not None, "nothing was deleted"
    finally:
        ctx.close()


def test_a_container_holding_a_hand_made_row_is_not_touched(cloud):
    server, w, ids, writer = cloud
    settings = settings_of(server)
    writer.api.lsp_add(switch_name(GONE_NET), "ops-debug-port").execute(check_error=True)
    finding = _orphan(snapshot_with(w, settings), switch_name(GONE_NET))
    ctx = RepairContext(Settings(ovn=settings), None)
    try:
        with pytest.raises(NotOwned, match="not Neutron's"):
            _repair(ctx, finding)
        assert writer.api.lookup("Logical_Switch_Port", "ops-debug-port")
    finally:
        ctx.close()


class _SslOvsdb(OvsdbServer):
    """The same server with an ssl: remote too (a self-signed certificate, its own CA,
    which both sides present and trust, as Neutron's ovn_nb_* files do)."""

    def __init__(self, folder, cert: str, key: str):
        self.cert, self.key, self.ssl_port = cert, key, free_port()
        super().__init__(folder)

    @property
    def argv(self) -> list[str]:
        return [
            *super().argv,
            f"--remote=pssl:{self.ssl_port}:127.0.0.1",
            f"--private-key={self.key}",
            f"--certificate={self.cert}",
            f"--ca-cert={self.cert}",
        ]


def test_reads_over_unix_and_ssl_alike(tmp_path, cloud):
    server, _, ids, _ = cloud
    tcp, _ = collect(settings_of(server))
    unix, (status,) = collect(OvnSettings(nb_connection=server.unix_remote, timeout=10))
    assert status.status == "ok" and unix.of(OvnNbRow) == tcp.of(OvnNbRow)
    cert, key = make_certificate(str(tmp_path))
    with _SslOvsdb(tmp_path / "ssl", cert, key) as s:
        remote = f"ssl:127.0.0.1:{s.ssl_port}"
        writer = client.NbWriter(OvnSettings(nb_connection=s.remote, timeout=10))
        try:
            populate(writer.api, ids)
        finally:
            writer.close()
        ok = OvnSettings(nb_connection=remote, private_key=key, certificate=cert, ca_cert=cert, timeout=10)
        snap, (status,) = collect(ok)
        assert status.status == "ok" and {r.name for r in snap.of(OvnNbRow)} >= {ids["p1"], ids["p2"]}
        # a CA that did not sign the server's certificate: refused, partial, one line
        (tmp_path / "other").mkdir()
        other, _ = make_certificate(str(tmp_path / "other"))
        snap, (status,) = collect(OvnSettings(nb_connection=remote, private_key=key, certificate=cert, ca_cert=other))
        assert status.status == "partial" and "TLS failed" in status.reason and snap.of(OvnNbRow) == []


def test_the_first_remote_that_answers_is_read(cloud):
    server = cloud[0]
    snap, (status,) = collect(OvnSettings(nb_connection=f"tcp:127.0.0.1:{free_port()},{server.remote}", timeout=10))
    assert status.status == "ok" and snap.of(OvnNbRow)


def test_a_cell_runs_part_is_what_the_spec_cuts_of_the_whole(cloud):
    """--cell: after Neutron's part, the switch ports naming its ports or its instances (one
    here on a switch no port of the part is on: found by a second read, by the
    `neutron:network_name` on it), their switches; row for row what model/cell_slice.py
    cuts of the whole read, through monitor_cond on the real server."""
    from osfsck.model.cell_slice import cell_keys, ovn_ask, ovn_rows
    from osfsck.model.facts.neutron import FloatingIp, NeutronPort
    from osfsck.model.scope import RunScope

    server, w, ids, writer = cloud
    instance = next(p.device_id for p in w.snapshot().of(NeutronPort) if p.id == ids["p1"])
    leaked = "0e0e0e0e-0000-4000-8000-0000000000c1"
    with writer.api.transaction(check_error=True) as txn:
        txn.add(
            writer.api.lsp_add(
                switch_name(GONE_NET), leaked, external_ids={**lsp_ids(leaked, GONE_NET), "neutron:device_id": instance}
            )
        )
    scope = RunScope(cells=("cell1",))
    known = w.snapshot().narrowed(scope)
    whole, _ = collect(settings_of(server))
    src = OvnNorthboundSource(settings_of(server))
    src.within = scope
    part = Snapshot(taken_at=None)
    (status,) = src.collect({OvnNbRow}, known, part)
    assert status.status == "ok" and "cell1's part" in status.reason
    assert part.coverage[(OvnNbRow.kind, OVN_NB_SCOPE)].part == "cells:cell1"
    keys = cell_keys(known.facts, known.coverage, {"cell1"})
    spec = ovn_rows(ovn_ask(keys, known.of(NeutronPort), known.of(FloatingIp)), whole.of(OvnNbRow))
    assert set(part.of(OvnNbRow)) == set(spec)
    got = {(r.table, r.name) for r in part.of(OvnNbRow)}
    assert ("Logical_Switch_Port", leaked) in got and ("Logical_Switch", switch_name(GONE_NET)) in got
    assert ("Logical_Switch_Port", ids["p1"]) in got and ("Logical_Switch_Port", GONE_PORT) not in got
    assert not {t for t, _ in got} & {"ACL", "Port_Group", "Logical_Router_Port"}  # network-wide: not read
    assert next(r for r in part.of(OvnNbRow) if r.name == leaked).parent == switch_name(GONE_NET)


def test_a_cell_runs_part_of_a_stopped_server_is_partial_and_its_checks_undecided(cloud):
    """--cell with the NB server down: the part is partial, no row; OV101-OV103 inside the
    cell say they could not decide (never "clean", never a finding)."""
    from osfsck.checks.ovn.ovn_revision_drift import OvnRevisionDrift
    from osfsck.engine.judge import judge
    from osfsck.model.scope import RunScope

    server, w, _, _ = cloud
    server.stop()
    scope = RunScope(cells=("cell1",))
    snap = w.snapshot().narrowed(scope)
    src = OvnNorthboundSource(settings_of(server))
    src.within = scope
    sink = Snapshot(taken_at=None)
    (status,) = src.collect({OvnNbRow}, snap, sink)
    assert status.status == "partial" and "Connection refused" in status.reason
    cov = sink.coverage[(OvnNbRow.kind, OVN_NB_SCOPE)]
    assert not cov.complete and cov.part == "cells:cell1" and not sink.of(OvnNbRow)
    snap.cover(cov)
    for check in (OrphanOvnObject, MissingOvnObject, OvnRevisionDrift):
        out = judge(check(), snap)
        assert not out.findings and OVN_NB_SCOPE in {i.scope for i in out.inconclusive_list}, check.code
