"""The lab's Neutron, as written: every live instance with a host has its ports bound there,
in the subnet of their network, listed in its network info cache; Neutron's rows hang
together (foreign keys, revisions); only the faults truth.json names break that."""

import ipaddress
import json
import sqlite3
from pathlib import Path

import pytest

from osfsck.lab import build


def _rows(out: Path, db: str, sql: str) -> list[dict]:
    with sqlite3.connect(out / "db" / f"{db}.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab")
    build.build(out, "small", seed=2, hv_mode="testfiles")
    yield out
    build.stop(out)       # its DNS and OVN servers


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
    missing = {t["subject"].split("/")[1] for t in json.loads((lab / "truth.json").read_text())["faults"]
               if t["code"] == "NT104"}
    cached = {vif["id"] for c in ("nova_cell1", "nova_cell2")
              for r in _rows(lab, c, "SELECT network_info FROM instance_info_caches")
              for vif in json.loads(r["network_info"])}
    assert cached - port_ids == missing and missing


def test_revisions_and_floating_ips_hang_together(lab):
    attrs = {a["id"]: a for a in _rows(lab, "neutron", "SELECT * FROM standardattributes")}
    for table, resource in (("ports", "ports"), ("networks", "networks"), ("floatingips", "floatingips"),
                            ("routers", "routers"), ("securitygroups", "securitygroups")):
        rows = _rows(lab, "neutron", f"SELECT standard_attr_id FROM {table}")
        assert rows and all(attrs[r["standard_attr_id"]]["resource_type"] == resource for r in rows)
    ports = {p["id"]: p for p in _rows(lab, "neutron", "SELECT * FROM ports")}
    for f in _rows(lab, "neutron", "SELECT * FROM floatingips"):
        assert ports[f["floating_port_id"]]["device_owner"] == "network:floatingip"
        if f["fixed_port_id"]:
            assert f["router_id"] and ports[f["fixed_port_id"]]["device_owner"].startswith("compute:")
