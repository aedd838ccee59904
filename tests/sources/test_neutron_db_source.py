"""NeutronDatabaseSource on SQLite files built from Neutron's real DDL (both releases)."""

import datetime as dt

import pytest

from osfsck.config.settings import Database, NeutronSettings
from osfsck.model.facts.neutron import (
    NEUTRON_SCOPE,
    FloatingIp,
    IpAllocation,
    NeutronNetwork,
    NeutronPort,
    PortBinding,
    RouterPort,
    SecurityGroupRule,
)
from osfsck.model.snapshot import Snapshot
from osfsck.sources.neutron_db import NeutronDatabaseSource, queries
from osfsck_lab import database, schemas
from tests.sources.db_fixture import assert_gives_its_fields, fixture, load

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
NET, SUB, PORT, RPORT, FPORT, ROUTER, FIP, SG = (
    "net-1",
    "sub-1",
    "port-1",
    "rport-1",
    "fport-1",
    "router-1",
    "fip-1",
    "sg-1",
)


@pytest.mark.parametrize("kind, query", queries.KINDS.items())
def test_each_query_returns_the_facts_fields_in_order(kind, query):
    assert_gives_its_fields(kind, query())


def _neutron(tmp_path, release):
    url = database.database_urls(tmp_path, None, "t", ["neutron"])["neutron"]
    database.create(url, "neutron", release)
    attrs = [
        {"id": i, "resource_type": t, "created_at": T0, "updated_at": T0, "revision_number": i}
        for i, t in enumerate(
            [
                "networks",
                "subnets",
                "ports",
                "ports",
                "ports",
                "routers",
                "floatingips",
                "securitygroups",
                "securitygrouprules",
            ],
            1,
        )
    ]
    database.insert_rows(url, "standardattributes", attrs)
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
                "id": PORT,
                "mac_address": "fa:16:3e:00:00:01",
                "device_id": "vm-1",
                "device_owner": "compute:nova",
                "standard_attr_id": 3,
            },
            {
                **port,
                "id": RPORT,
                "mac_address": "fa:16:3e:00:00:02",
                "device_id": ROUTER,
                "device_owner": "network:router_interface",
                "standard_attr_id": 4,
            },
            {
                **port,
                "id": FPORT,
                "mac_address": "fa:16:3e:00:00:03",
                "device_id": FIP,
                "device_owner": "network:floatingip",
                "standard_attr_id": 5,
            },
        ],
    )
    database.insert_rows(
        url,
        "portdnses",
        [
            {
                "port_id": PORT,
                "current_dns_name": "vm1",
                "current_dns_domain": "example.test.",
                "previous_dns_name": "",
                "previous_dns_domain": "",
                "dns_name": "vm1",
            }
        ],
    )
    database.insert_rows(
        url,
        "ml2_port_bindings",
        [
            {"port_id": PORT, "host": "hv1", "vif_type": "ovs", "status": "ACTIVE"},
            {"port_id": PORT, "host": "hv2", "vif_type": "ovs", "status": "INACTIVE"},
        ],
    )
    database.insert_rows(
        url, "ipallocations", [{"port_id": PORT, "ip_address": "10.0.0.5", "subnet_id": SUB, "network_id": NET}]
    )
    database.insert_rows(
        url, "routers", [{"id": ROUTER, "name": "r", "project_id": "p", "standard_attr_id": 6, "enable_snat": True}]
    )
    database.insert_rows(
        url, "routerports", [{"router_id": ROUTER, "port_id": RPORT, "port_type": "network:router_interface"}]
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
                "fixed_port_id": PORT,
                "fixed_ip_address": "10.0.0.5",
                "router_id": ROUTER,
                "status": "ACTIVE",
                "project_id": "p",
                "standard_attr_id": 7,
            }
        ],
    )
    database.insert_rows(
        url,
        "securitygroups",
        [{"id": SG, "name": "default", "project_id": "p", "standard_attr_id": 8, "stateful": True}],
    )
    database.insert_rows(
        url,
        "securitygrouprules",
        [
            {
                "id": "rule-1",
                "security_group_id": SG,
                "project_id": "p",
                "direction": "ingress",
                "ethertype": "IPv4",
                "standard_attr_id": 9,
            }
        ],
    )
    database.insert_rows(url, "securitygroupportbindings", [{"port_id": PORT, "security_group_id": SG}])
    return url


@pytest.mark.parametrize("release", schemas.releases())
def test_rows_become_facts_with_revisions_and_dns_names(tmp_path, release):
    src = NeutronDatabaseSource(NeutronSettings(database=Database(_neutron(tmp_path, release))))
    snap = Snapshot(taken_at=T0)
    [status] = src.collect(set(src.provides), snap, snap)
    assert (status.source, status.scope, status.status) == ("neutron-db", NEUTRON_SCOPE, "ok")
    [net] = snap.of(NeutronNetwork)
    assert (net.id, net.name, net.revision_number, net.created_at) == (NET, "private", 1, T0)
    ports = {p.id: p for p in snap.of(NeutronPort)}
    assert set(ports) == {PORT, RPORT, FPORT}
    assert (ports[PORT].device_id, ports[PORT].dns_name, ports[PORT].dns_domain, ports[PORT].revision_number) == (
        "vm-1",
        "vm1",
        "example.test.",
        3,
    )
    assert ports[RPORT].dns_name is None
    assert sorted((b.host, b.status) for b in snap.of(PortBinding)) == [("hv1", "ACTIVE"), ("hv2", "INACTIVE")]
    assert [(a.port_id, a.ip_address) for a in snap.of(IpAllocation)] == [(PORT, "10.0.0.5")]
    [fip] = snap.of(FloatingIp)
    assert (fip.fixed_port_id, fip.floating_ip_address, fip.revision_number) == (PORT, "203.0.113.9", 7)
    assert [(r.router_id, r.port_id) for r in snap.of(RouterPort)] == [(ROUTER, RPORT)]
    assert [r.security_group_id for r in snap.of(SecurityGroupRule)] == [SG]


def test_unreadable_database_is_partial_and_adds_nothing(tmp_path):
    src = NeutronDatabaseSource(NeutronSettings(database=Database(f"sqlite:///{tmp_path}/absent.sqlite")))
    snap = Snapshot(taken_at=T0)
    [status] = src.collect(set(src.provides), snap, snap)
    assert status.status == "partial" and "Neutron database" in status.reason
    assert not snap.of(NeutronPort)


@pytest.mark.parametrize("release", schemas.releases())
@pytest.mark.parametrize(
    "phase, expected",
    [
        ("running", {("hv-a", "ACTIVE", "ovs"), ("hv-b", "INACTIVE", "ovs")}),
        ("activated", {("hv-a", "INACTIVE", "unbound"), ("hv-b", "ACTIVE", "ovs")}),
        ("done", {("hv-b", "ACTIVE", "ovs")}),
        ("rollback-left-inactive", {("hv-a", "ACTIVE", "ovs"), ("hv-b", "INACTIVE", "ovs")}),
    ],
)
def test_port_bindings_through_a_live_migration(tmp_path, release, phase, expected):
    """The recorded binding pair of a live migration (fixtures/neutron/live-migration-bindings.json),
    phase by phase: one binding per host, their status and vif_type as ML2 leaves them."""
    url = database.database_urls(tmp_path, None, "t", ["neutron"])["neutron"]
    database.create(url, "neutron", release)
    load(url, fixture("neutron/live-migration-bindings.json")["phases"][phase])
    src = NeutronDatabaseSource(NeutronSettings(database=Database(url)))
    snap = Snapshot(taken_at=T0)
    [status] = src.collect({PortBinding, NeutronPort}, snap, snap)
    assert status.status == "ok"
    assert {(b.host, b.status, b.vif_type) for b in snap.of(PortBinding)} == expected
    [port] = snap.of(NeutronPort)
    assert port.device_owner == "compute:nova" and port.status == ("DOWN" if phase == "activated" else "ACTIVE")
