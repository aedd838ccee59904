"""The lab's Neutron, as written: every live instance with a host has its ports bound there,
in the subnet of their network, listed in its network info cache; Neutron's rows hang
together (foreign keys, revisions); only the faults truth.json names break that."""

import ipaddress
import json
import sqlite3
from pathlib import Path

import pytest

from osfsck_lab import build, network


def _rows(out: Path, db: str, sql: str) -> list[dict]:
    with sqlite3.connect(out / "db" / f"{db}.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab")
    build.build(out, "small", seed=2, hv_mode="testfiles")
    yield out
    build.stop(out)  # its DNS and OVN servers


def test_ports_are_bound_where_their_instances_run(lab):
    truth = json.loads((lab / "truth.json").read_text())["faults"]
    faulted = {t["subject"].split("/")[0] for t in truth if t["code"] in ("NT101", "NT102", "NT103")}
    instances = {r["uuid"]: r for c in ("nova_cell1", "nova_cell2") for r in _rows(lab, c, "SELECT * FROM instances")}
    ports = _rows(lab, "neutron", "SELECT * FROM ports")
    bindings = _rows(lab, "neutron", "SELECT * FROM ml2_port_bindings")
    compute = [p for p in ports if p["device_owner"].startswith("compute:") and p["device_id"] in instances]
    assert compute
    for p in compute:
        if p["id"] in faulted:
            continue
        row = instances[p["device_id"]]
        assert not row["deleted"], f"port {p['id']} of a deleted instance outside the truth"
        active = [b["host"] for b in bindings if b["port_id"] == p["id"] and b["status"] == "ACTIVE"]
        assert active == [row["host"] or ""]


def test_addresses_are_in_their_subnets_and_caches_name_real_ports(lab):
    subnets = {s["id"]: ipaddress.ip_network(s["cidr"]) for s in _rows(lab, "neutron", "SELECT * FROM subnets")}
    ips = _rows(lab, "neutron", "SELECT * FROM ipallocations")
    assert all(ipaddress.ip_address(a["ip_address"]) in subnets[a["subnet_id"]] for a in ips)
    assert len({a["ip_address"] for a in ips}) == len(ips)
    port_ids = {p["id"] for p in _rows(lab, "neutron", "SELECT id FROM ports")}
    missing = {
        t["subject"].split("/")[1]
        for t in json.loads((lab / "truth.json").read_text())["faults"]
        if t["code"] == "NT104"
    }
    cached = {
        vif["id"]
        for c in ("nova_cell1", "nova_cell2")
        for r in _rows(lab, c, "SELECT network_info FROM instance_info_caches")
        for vif in json.loads(r["network_info"])
    }
    assert cached - port_ids == missing and missing


def test_revisions_and_floating_ips_hang_together(lab):
    attrs = {a["id"]: a for a in _rows(lab, "neutron", "SELECT * FROM standardattributes")}
    for table, resource in (
        ("ports", "ports"),
        ("networks", "networks"),
        ("floatingips", "floatingips"),
        ("routers", "routers"),
        ("securitygroups", "securitygroups"),
    ):
        rows = _rows(lab, "neutron", f"SELECT standard_attr_id FROM {table}")
        assert rows and all(attrs[r["standard_attr_id"]]["resource_type"] == resource for r in rows)
    ports = {p["id"]: p for p in _rows(lab, "neutron", "SELECT * FROM ports")}
    for f in _rows(lab, "neutron", "SELECT * FROM floatingips"):
        assert ports[f["floating_port_id"]]["device_owner"] == "network:floatingip"
        if f["fixed_port_id"]:
            assert f["router_id"] and ports[f["fixed_port_id"]]["device_owner"].startswith("compute:")


# -- as ML2/OVN writes them (spec level: no servers) --------------------------------------


@pytest.fixture(scope="module")
def spec():
    import datetime as dt

    c = build.spec("small", 2, dt.datetime(2026, 6, 1, 12, 0, 0))
    from osfsck_lab import services

    services.ovn_northbound(c)
    return c


def test_bound_bindings_have_their_level_and_networks_their_segment(spec):
    """ml2 stores the driver and segment that bound a port per host (db.set_binding_levels)
    and every network has a segment (segments_db.add_network_segment)."""
    n = spec.net
    segments = {s["network_id"]: s for s in n.segments}
    assert set(segments) == {net["id"] for net in n.networks}
    assert segments[n.external["id"]]["network_type"] == "flat" and segments[n.external["id"]]["physical_network"]
    nets = {p["id"]: p["network_id"] for p in n.ports}
    levels = {(lv["port_id"], lv["host"]): lv for lv in n.levels}
    for b in n.bindings:
        level = levels.get((b["port_id"], b["host"]))
        if b["vif_type"] == "ovs":
            assert level and level["driver"] == "ovn" and level["segment_id"] == segments[nets[b["port_id"]]]["id"]
            assert json.loads(b["vif_details"]) == {
                "port_filter": True,
                "connectivity": "l2",
                "bridge_name": "br-int",
                "datapath_type": "system",
            }
        else:
            assert level is None and b["vif_details"] == "" and b["host"] == ""


def test_a_running_live_migration_binds_each_port_on_both_hosts(spec):
    """Nova's conductor binds each port on the destination (INACTIVE, bound there: ml2
    create_port_binding) and pre_live_migration sets "migrating_to" in the source binding's
    profile (setup_networks_on_host); the OVN port is requested on both chassis."""
    n = spec.net
    row = next(r for rows in spec.instances.values() for r in rows if r["task_state"] == "migrating")
    mig = next(m for ms in spec.migrations.values() for m in ms if m["instance_uuid"] == row["uuid"])
    ports = [p for p in n.ports if p["device_id"] == row["uuid"]]
    assert ports
    nb = _nb(spec).by_name
    for p in ports:
        mine = {b["host"]: b for b in n.bindings if b["port_id"] == p["id"]}
        assert set(mine) == {mig["source_compute"], mig["dest_compute"]}
        source, dest = mine[mig["source_compute"]], mine[mig["dest_compute"]]
        assert source["status"] == "ACTIVE" and json.loads(source["profile"]) == {"migrating_to": mig["dest_compute"]}
        assert dest["status"] == "INACTIVE" and dest["vif_type"] == "ovs" and dest["profile"] == ""
        assert {lv["host"] for lv in n.levels if lv["port_id"] == p["id"]} == set(mine)
        options = nb[("Logical_Switch_Port", p["id"])].row["options"]
        assert options == {
            "requested-chassis": f"{mig['source_compute']},{mig['dest_compute']}",
            "activation-strategy": "rarp",
        }


def test_router_and_metadata_ports_as_ml2_ovn_makes_them(spec):
    """OVN's routers are distributed: interfaces are never bound, and set ACTIVE; the
    gateway is bound to its chassis; each network has OVN's metadata port
    (create_metadata_port), unbound, addressed only on DHCP subnets."""
    n = spec.net
    bindings = {b["port_id"]: b for b in n.bindings if b["status"] == "ACTIVE"}
    dhcp = {s["network_id"]: s["enable_dhcp"] for s in n.subnets}
    assert not [p for p in n.ports if p["device_owner"] == "network:dhcp"]
    meta = [p for p in n.ports if p["device_owner"] == "network:distributed"]
    assert {p["network_id"] for p in meta} == {net["id"] for net in n.networks} and len(meta) == len(n.networks)
    for p in meta:
        assert p["device_id"] == f"ovnmeta-{p['network_id']}" and bindings[p["id"]]["host"] == ""
        assert bool(p["_ip"]) == bool(dhcp[p["network_id"]])
    for p in n.ports:
        if p["device_owner"] == "network:router_interface":
            assert bindings[p["id"]]["host"] == "" and p["status"] == "ACTIVE"
        elif p["device_owner"] == "network:router_gateway":
            assert bindings[p["id"]]["host"] and bindings[p["id"]]["vif_type"] == "ovs"


def _nb(c):
    from osfsck_lab import ovn_nb

    return ovn_nb.rows(c)


def _shape(value):
    """A JSON value's structure: dicts by their keys (recursively), lists by their first item."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


def test_network_info_has_the_shape_nova_writes(spec):
    """The lab's cache VIFs have the recorded VIF model's structure, key for key
    (tests/sources/fixtures/nova/network_info.json: nova/network/neutron.py _build_vif_model)."""
    from tests.sources.db_fixture import fixture

    [recorded, _] = fixture("nova/network_info.json")["caches"]["ovn-two-ports"]
    row = next(
        r
        for cell in spec.net.caches
        for r in network.cache_rows(spec, cell)
        if any(v["network"]["subnets"][0]["ips"][0]["floating_ips"] for v in json.loads(r["network_info"]))
    )
    vif = next(v for v in json.loads(row["network_info"]) if v["network"]["subnets"][0]["ips"][0]["floating_ips"])
    assert _shape(vif) == _shape(recorded)
    assert list(vif) == list(recorded)  # the model's key order
