"""The Neutron repairs against Neutron's real schema (both releases; SQLite, and MariaDB
in the integration run).  Findings come from the real checks over facts the real
NeutronDatabaseSource read from the same database (Nova's side from a World); each repair
applies, the finding is gone when the database is read again, a second apply is refused,
and undo restores the rows (revision numbers move forward: see repairs/neutron/common.py).

delete-port goes through the Networking API (the real neutron-server is in
tests/integration/test_neutron_server.py); here its test answers through a double
(tests/support/http_double.py) written to the documented API (GET and DELETE
/v2.0/ports/{id}, If-Match: revision_number), whose DELETE removes the port's rows from
the same real-schema database as neutron-server would (bindings, addresses, floating IP
associations, the port)."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from sqlalchemy import create_engine, select, table, text
from sqlalchemy.pool import NullPool

from osfsck.checks.network.missing_port import MissingPort
from osfsck.checks.network.orphan_floating_ip_association import OrphanFloatingIpAssociation
from osfsck.checks.network.orphan_port import OrphanPort
from osfsck.checks.network.port_bound_to_dead_host import PortBoundToDeadHost
from osfsck.checks.network.stale_port_binding import StalePortBinding
from osfsck.clients.neutron_api import NeutronApi
from osfsck.config.settings import Database, NeutronSettings, Settings
from osfsck.model.facts.nova import ComputeService
from osfsck.repairs.base import NotOwned, RepairError
from osfsck.repairs.conditional_update import now_stored
from osfsck.repairs.neutron.bindings import DeletePortBinding
from osfsck.repairs.neutron.floating_ips import DisassociateFloatingIp
from osfsck.repairs.neutron.ports import DeletePort
from osfsck.repairs.runbooks.network import MissingPortRunbook, OrphanPortRunbook, PortDeadHostRunbook
from osfsck.sources.neutron_db import NeutronDatabaseSource
from osfsck_lab import database, schemas
from tests.repairs.helpers import apply, context, execute, plan_of, refused_again_then_undone
from tests.support.http_double import http
from tests.support.world import DAY, World

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
HOUR = dt.timedelta(hours=1)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


NET, SUB, ROUTER, FIP = "net-1", "sub-1", "router-1", "fip-1"
ORPHAN, LIVE_PORT, FPORT = ("0a0a0a0a-0000-4000-8000-00000000000%d" % i for i in (1, 2, 3))
GONE, LIVE = "11111111-aaaa-4000-8000-000000000001", "11111111-aaaa-4000-8000-000000000002"
SA = {"networks": 1, "subnets": 2, ORPHAN: 3, LIVE_PORT: 4, FPORT: 5, "routers": 6, FIP: 7}
OLD = T0 - dt.timedelta(days=3)


def neutron_db(url: str, release: str) -> str:
    database.create(url, "neutron", release)
    database.insert_rows(
        url,
        "standardattributes",
        [
            {
                "id": i,
                "resource_type": "ports" if isinstance(k, str) and k.startswith("0a") else k,
                "revision_number": 5,
                "created_at": OLD,
                "updated_at": OLD,
            }
            for k, i in SA.items()
        ],
    )
    database.insert_rows(
        url,
        "networks",
        [
            {
                "id": NET,
                "name": "private",
                "project_id": "p",
                "mtu": 1450,
                "standard_attr_id": 1,
                "status": "ACTIVE",
                "admin_state_up": True,
            }
        ],
    )
    database.insert_rows(
        url,
        "subnets",
        [
            {
                "id": SUB,
                "network_id": NET,
                "ip_version": 4,
                "cidr": "10.0.0.0/24",
                "standard_attr_id": 2,
                "project_id": "p",
            }
        ],
    )
    port = {"network_id": NET, "admin_state_up": True, "status": "ACTIVE", "project_id": "p"}
    database.insert_rows(
        url,
        "ports",
        [
            {
                **port,
                "id": ORPHAN,
                "mac_address": "fa:16:3e:00:00:01",
                "device_id": GONE,
                "device_owner": "compute:nova",
                "standard_attr_id": SA[ORPHAN],
            },
            {
                **port,
                "id": LIVE_PORT,
                "mac_address": "fa:16:3e:00:00:02",
                "device_id": LIVE,
                "device_owner": "compute:nova",
                "standard_attr_id": SA[LIVE_PORT],
            },
            {
                **port,
                "id": FPORT,
                "mac_address": "fa:16:3e:00:00:03",
                "device_id": FIP,
                "status": "N/A",
                "device_owner": "network:floatingip",
                "standard_attr_id": SA[FPORT],
            },
        ],
    )
    database.insert_rows(
        url,
        "ipallocations",
        [
            {"port_id": ORPHAN, "ip_address": "10.0.0.5", "subnet_id": SUB, "network_id": NET},
            {"port_id": LIVE_PORT, "ip_address": "10.0.0.6", "subnet_id": SUB, "network_id": NET},
        ],
    )
    details = json.dumps({"port_filter": True, "ovs_hybrid_plug": False})
    database.insert_rows(
        url,
        "ml2_port_bindings",
        [
            {
                "port_id": ORPHAN,
                "host": "hv1",
                "vif_type": "ovs",
                "status": "ACTIVE",
                "vif_details": details,
                "profile": "",
            },
            {
                "port_id": LIVE_PORT,
                "host": "hv2",
                "vif_type": "ovs",
                "status": "ACTIVE",
                "vif_details": details,
                "profile": "",
            },
            # left by the live migration hv1 -> hv2 that completed a day ago
            {
                "port_id": LIVE_PORT,
                "host": "hv1",
                "vif_type": "ovs",
                "status": "INACTIVE",
                "vif_details": details,
                "profile": json.dumps({"migrating_to": "hv2"}),
            },
        ],
    )
    database.insert_rows(
        url,
        "ml2_port_binding_levels",
        [
            {"port_id": LIVE_PORT, "host": "hv1", "level": 0, "driver": "openvswitch"},
            {"port_id": LIVE_PORT, "host": "hv2", "level": 0, "driver": "openvswitch"},
        ],
    )
    database.insert_rows(
        url, "routers", [{"id": ROUTER, "name": "r", "project_id": "p", "standard_attr_id": 6, "enable_snat": True}]
    )
    database.insert_rows(
        url,
        "floatingips",
        [
            {
                "id": FIP,
                "floating_ip_address": "203.0.113.9",
                "floating_network_id": NET,
                "floating_port_id": FPORT,
                "fixed_port_id": ORPHAN,
                "fixed_ip_address": "10.0.0.5",
                "router_id": ROUTER,
                "status": "ACTIVE",
                "project_id": "p",
                "standard_attr_id": SA[FIP],
            }
        ],
    )
    return url


def snapshot(url: str, at: dt.datetime = T0):
    """Nova's side from a World, Neutron's read by the real source from `url`."""
    w = World(taken_at=at)
    w.host("hv1")
    w.host("hv2")
    w.instance(GONE, host="hv1", deleted=True, deleted_age=2 * DAY)
    w.instance(LIVE, host="hv2")
    w.migration(LIVE, type="live-migration", status="completed", source="hv1", dest="hv2", age=DAY)
    snap = w.snapshot()
    src = NeutronDatabaseSource(NeutronSettings(database=Database(url)))
    [status] = src.collect(set(src.provides), snap, snap)
    assert status.status == "ok", status
    return snap


def finding(check, url: str):
    (f,) = check().evaluate(snapshot(url)).findings
    return f


def table_rows(url: str, name: str) -> list[dict]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        found = sorted(
            (dict(r) for r in conn.execute(select(text("*")).select_from(table(name))).mappings()),
            key=lambda r: json.dumps(r, sort_keys=True, default=str),
        )
    engine.dispose()
    return found


def revision(url: str, sa_id: int) -> int:
    return next(r["revision_number"] for r in table_rows(url, "standardattributes") if r["id"] == sa_id)


@pytest.fixture(params=schemas.releases())
def neutron(request, new_db):
    url = neutron_db(new_db("neutron"), request.param)
    ctx = context(neutron=NeutronSettings(database=Database(url)))
    yield url, ctx
    ctx.close()


# -- disassociate-floating-ip ---------------------------------------------------------------
def test_disassociate_floating_ip_settles_is_refused_twice_and_undoes(neutron):
    url, ctx = neutron
    fips = table_rows(url, "floatingips")
    repair = DisassociateFloatingIp()
    plan = plan_of(repair, finding(OrphanFloatingIpAssociation, url))
    started = now_stored()
    entry = apply(repair, plan, ctx)
    (fip,) = table_rows(url, "floatingips")
    assert (fip["fixed_port_id"], fip["fixed_ip_address"], fip["router_id"]) == (None, None, None)
    assert (fip["last_known_router_id"], fip["status"]) == (ROUTER, "DOWN")
    assert revision(url, SA[FIP]) == 6  # OVN's maintenance task re-syncs the NAT
    (attr,) = [r for r in table_rows(url, "standardattributes") if r["id"] == SA[FIP]]
    assert str(attr["updated_at"])[:19] >= str(started)[:19], "a bump is a change: updated_at is now"
    assert OrphanFloatingIpAssociation().evaluate(snapshot(url)).findings == []

    assert "restored" in refused_again_then_undone(repair, plan, ctx, entry)
    assert table_rows(url, "floatingips") == fips
    assert revision(url, SA[FIP]) == 7  # forward again, never back
    # the association is back, and new: the check waits `min_age` before judging it again
    assert OrphanFloatingIpAssociation().evaluate(snapshot(url, at=utc_now())).findings == []
    assert len(OrphanFloatingIpAssociation().evaluate(snapshot(url, at=utc_now() + 2 * HOUR)).findings) == 1


def test_a_floating_ip_moved_to_another_port_is_left_alone(neutron):
    url, ctx = neutron
    repair = DisassociateFloatingIp()
    plan = plan_of(repair, finding(OrphanFloatingIpAssociation, url))
    execute(url, "UPDATE floatingips SET fixed_port_id = :p, fixed_ip_address = '10.0.0.6'", p=LIVE_PORT)
    with pytest.raises(RepairError, match=f"now on port {LIVE_PORT}"):
        repair.before_image(plan, ctx)


def test_disassociation_is_all_or_nothing(neutron):
    url, ctx = neutron
    fips = table_rows(url, "floatingips")
    repair = DisassociateFloatingIp()
    plan = plan_of(repair, finding(OrphanFloatingIpAssociation, url))
    before = repair.before_image(plan, ctx)
    execute(url, "UPDATE standardattributes SET revision_number = 9 WHERE id = :i", i=SA[FIP])  # Neutron wrote it
    with pytest.raises(RepairError, match="standardattributes row 7 is no longer in the state"):
        repair.apply(plan, ctx, before)
    assert table_rows(url, "floatingips") == fips


# -- delete-port-binding ------------------------------------------------------------------------
def test_delete_port_binding_settles_is_refused_twice_and_undoes(neutron):
    url, ctx = neutron
    bindings, levels = table_rows(url, "ml2_port_bindings"), table_rows(url, "ml2_port_binding_levels")
    repair = DeletePortBinding()
    f = finding(StalePortBinding, url)
    assert f.subject.id == f"{LIVE_PORT}/hv1"
    plan = plan_of(repair, f)
    entry = apply(repair, plan, ctx)
    assert {(b["port_id"], b["host"]) for b in table_rows(url, "ml2_port_bindings")} == {
        (ORPHAN, "hv1"),
        (LIVE_PORT, "hv2"),
    }
    assert table_rows(url, "ml2_port_binding_levels") == [lv for lv in levels if lv["host"] == "hv2"]
    assert revision(url, SA[LIVE_PORT]) == 6
    assert StalePortBinding().evaluate(snapshot(url)).findings == []

    with pytest.raises(RepairError, match="no longer in the state that was seen"):
        repair.apply(plan, ctx, entry["before"])
    assert "re-inserted" in repair.undo(entry, ctx)
    assert table_rows(url, "ml2_port_bindings") == bindings and table_rows(url, "ml2_port_binding_levels") == levels
    assert revision(url, SA[LIVE_PORT]) == 7


def test_a_binding_activated_since_the_check_is_not_deleted(neutron):
    url, ctx = neutron
    repair = DeletePortBinding()
    plan = plan_of(repair, finding(StalePortBinding, url))
    execute(url, "UPDATE ml2_port_bindings SET status = 'ACTIVE' WHERE port_id = :p AND host = 'hv1'", p=LIVE_PORT)
    with pytest.raises(RepairError, match="no longer INACTIVE"):
        repair.before_image(plan, ctx)


def test_a_binding_changed_after_the_before_image_deletes_nothing(neutron):
    url, ctx = neutron
    levels = table_rows(url, "ml2_port_binding_levels")
    repair = DeletePortBinding()
    plan = plan_of(repair, finding(StalePortBinding, url))
    before = repair.before_image(plan, ctx)
    execute(
        url, "UPDATE ml2_port_bindings SET vif_type = 'binding_failed' WHERE port_id = :p AND host = 'hv1'", p=LIVE_PORT
    )
    with pytest.raises(RepairError, match="ml2_port_bindings row .*hv1 is no longer in the state"):
        repair.apply(plan, ctx, before)
    assert table_rows(url, "ml2_port_binding_levels") == levels  # rolled back with it


# -- delete-port, through the Networking API ---------------------------------------------------
class NeutronServer:
    """The documented port calls, on the real-schema database (see the module docstring)."""

    def __init__(self, url: str):
        self.url = url
        self.deleted: list[str] = []

    def _port(self, port_id: str) -> dict | None:
        engine = create_engine(self.url, poolclass=NullPool)
        with engine.connect() as conn:
            row = (
                conn.execute(
                    text(
                        "SELECT p.id, p.device_id, p.device_owner, p.mac_address, p.network_id, p.project_id, p.status, "
                        "s.revision_number FROM ports p JOIN standardattributes s ON s.id = p.standard_attr_id "
                        "WHERE p.id = :i"
                    ),
                    {"i": port_id},
                )
                .mappings()
                .first()
            )
            ips = [
                r[0]
                for r in conn.execute(text("SELECT ip_address FROM ipallocations WHERE port_id = :i"), {"i": port_id})
            ]
        engine.dispose()
        return None if row is None else {**row, "fixed_ips": [{"subnet_id": SUB, "ip_address": ip} for ip in ips]}

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["X-Auth-Token"] == "tok"
        port_id = request.url.path.rsplit("/", 1)[1]
        port = self._port(port_id)
        if port is None:
            return httpx.Response(
                404,
                json={
                    "NeutronError": {
                        "type": "PortNotFound",
                        "detail": "",
                        "message": f"Port {port_id} could not be found.",
                    }
                },
            )
        if request.method == "GET":
            return httpx.Response(200, json={"port": port})
        if (
            request.headers.get("If-Match", f"revision_number={port['revision_number']}")
            != f"revision_number={port['revision_number']}"
        ):
            return httpx.Response(
                412,
                json={
                    "NeutronError": {
                        "type": "RevisionNumberConstraintFailed",
                        "message": "revision changed",
                        "detail": "",
                    }
                },
            )
        engine = create_engine(self.url, poolclass=NullPool)
        with engine.begin() as conn:
            p = {"i": port_id}
            conn.execute(
                text(
                    "UPDATE floatingips SET fixed_port_id = NULL, fixed_ip_address = NULL, router_id = NULL "
                    "WHERE fixed_port_id = :i"
                ),
                p,
            )
            for t in ("ml2_port_binding_levels", "ml2_port_bindings", "ipallocations"):
                conn.execute(text(f"DELETE FROM {t} WHERE port_id = :i"), p)
            sa = conn.execute(text("SELECT standard_attr_id FROM ports WHERE id = :i"), p).scalar()
            conn.execute(text("DELETE FROM ports WHERE id = :i"), p)
            conn.execute(text("DELETE FROM standardattributes WHERE id = :s"), {"s": sa})
        engine.dispose()
        self.deleted.append(port_id)
        return httpx.Response(204)


def api_context(url: str, server: NeutronServer):
    settings = NeutronSettings(database=Database(url), endpoint="https://neutron.example:9696", token="tok")
    ctx = context(neutron=settings)
    ctx.client("neutron-api", lambda: NeutronApi(settings, http(server.handler)))
    return ctx


def test_delete_port_through_the_api_settles_and_cannot_be_undone(neutron):
    url, _ = neutron
    server = NeutronServer(url)
    ctx = api_context(url, server)
    repair = DeletePort()
    assert DeletePort.unavailable(ctx.settings) is None
    plan = plan_of(repair, finding(OrphanPort, url))
    repair.ownership(plan, None)
    entry = apply(repair, plan, ctx)
    assert entry["before"]["port"]["id"] == ORPHAN and entry["before"]["port"]["revision_number"] == 5
    assert entry["before"]["port"]["fixed_ips"][0]["ip_address"] == "10.0.0.5"
    assert "10.0.0.5" in entry["result"] and server.deleted == [ORPHAN]
    snap = snapshot(url)
    assert OrphanPort().evaluate(snap).findings == [] and OrphanFloatingIpAssociation().evaluate(snap).findings == []
    assert not repair.undoable
    with pytest.raises(RepairError, match="cannot be undone"):
        repair.undo(entry, ctx)
    with pytest.raises(RepairError, match=f"no port {ORPHAN} any more"):
        repair.before_image(plan, ctx)
    ctx.close()


def test_a_port_reused_or_changed_since_the_check_is_not_deleted(neutron):
    url, _ = neutron
    server = NeutronServer(url)
    ctx = api_context(url, server)
    repair = DeletePort()
    plan = plan_of(repair, finding(OrphanPort, url))
    before = repair.before_image(plan, ctx)
    execute(url, "UPDATE standardattributes SET revision_number = 6 WHERE id = :i", i=SA[ORPHAN])
    with pytest.raises(RepairError, match="changed since it was read"):
        repair.apply(plan, ctx, before)
    execute(url, "UPDATE ports SET device_id = :d WHERE id = :i", d=LIVE, i=ORPHAN)
    with pytest.raises(RepairError, match=f"now belongs to compute:nova {LIVE}"):
        repair.before_image(plan, ctx)
    assert server.deleted == []
    ctx.close()


def test_without_api_settings_delete_port_says_to_follow_the_runbook(neutron):
    url, ctx = neutron
    repair = DeletePort()
    f = finding(OrphanPort, url)
    assert "orphan-port-runbook" in DeletePort.unavailable(ctx.settings)
    with pytest.raises(RepairError, match="no Networking API settings"):
        repair.before_image(plan_of(repair, f), ctx)
    text_ = OrphanPortRunbook().plan(f, None).runbook
    assert f"openstack port delete {ORPHAN}" in text_ and f"openstack floating ip list --port {ORPHAN}" in text_
    assert f"openstack server show {GONE}" in text_


def test_delete_port_touches_only_compute_ports():
    f = OrphanPort().evaluate(_router_port_world()).findings
    assert f == []  # never found; and were it planned, ownership refuses
    plan = DeletePort().plan(_port_finding("network:router_interface"), None)
    with pytest.raises(NotOwned, match="not a port Nova made"):
        DeletePort().ownership(plan, None)


def _router_port_world():
    w = World(taken_at=T0)
    w.router_interface(w.router())
    return w.snapshot()


def _port_finding(owner: str):
    from osfsck.model.finding import Finding, Severity
    from osfsck.model.refs import ObjectRef

    port = {"id": ORPHAN, "mac_address": "fa:16:3e:00:00:01", "device_owner": owner, "device_id": ROUTER}
    return Finding(
        "NT101", "orphan-port", Severity.MEDIUM, ObjectRef("port", ORPHAN, "neutron"), "m", evidence={"port": port}
    )


# -- runbooks -------------------------------------------------------------------------------------
def test_missing_port_runbook_names_the_instance_and_the_port():
    w = World(taken_at=T0)
    u = w.instance(updated_age=DAY)
    w.neutron()
    w.cache_port(u, ORPHAN)
    (f,) = MissingPort().evaluate(w.snapshot()).findings
    text_ = MissingPortRunbook().plan(f, None).runbook
    assert f"nova refresh-network {u}" in text_ and f"openstack server remove port {u} {ORPHAN}" in text_


def test_dead_host_runbook_rebinds_a_moved_instance_and_evacuates_a_stranded_one():
    w = World(taken_at=T0)
    moved = w.instance(host="hv2")
    w.instance_port(moved, host="hv-gone")
    stranded = w.instance(host="hv9")
    w.instance_port(stranded, host="hv9")
    snap = w.snapshot()
    snap.facts[ComputeService.kind] = [s for s in snap.facts[ComputeService.kind] if s.host not in ("hv-gone", "hv9")]
    found = {f.evidence["instance"]["uuid"]: f for f in PortBoundToDeadHost().evaluate(snap).findings}
    rebind = PortDeadHostRunbook().plan(found[moved], None).runbook
    evacuate = PortDeadHostRunbook().plan(found[stranded], None).runbook
    assert f"openstack port set --host hv2 {found[moved].subject.id}" in rebind
    assert f"nova evacuate {stranded}" in evacuate and "openstack port set" not in evacuate


def test_settings_default_has_no_api():
    assert DeletePort.unavailable(Settings()) is not None
