"""The lab's OVN northbound rows, as sent to ovsdb-server: one transaction whose rows
reference only rows it inserts, each under the _uuid the truth names (the OVN checks'
subjects are row uuids), with exactly the faults the truth lists."""

import datetime as dt

import pytest

from osfsck_lab import build, ovn_nb, services


@pytest.fixture(scope="module")
def cloud_nb():
    c = build.spec("small", 3, dt.datetime(2026, 6, 1, 12, 0, 0))
    return c, services.ovn_northbound(c)


def test_one_transaction_whose_references_stay_inside_it(cloud_nb):
    _, nb = cloud_nb
    db, *ops = ovn_nb.transaction(nb)
    assert db == "OVN_Northbound"
    uuids = [op["uuid"] for op in ops]
    assert len(uuids) == len(set(uuids)) == len(nb.rows)
    inserted = set(uuids)
    refs = [
        ref
        for op in ops
        for col, value in op["row"].items()
        if isinstance(value, list) and value[0] == "set" and value[1] and isinstance(value[1][0], list)
        for ref in value[1]
    ]
    assert refs and all(kind == "uuid" and target in inserted for kind, target in refs)


def test_truth_names_the_rows_the_checks_will_name(cloud_nb):
    c, nb = cloud_nb
    truth = {t["code"]: t["subject"] for t in c.truth if t["code"].startswith("OV")}
    assert set(truth) == {"OV101", "OV102", "OV103"}
    by_uuid = {r.uuid: r for r in nb.rows}
    orphan, behind = by_uuid[truth["OV101"]], by_uuid[truth["OV103"]]
    neutron_ports = {p["id"]: p for p in c.net.ports}
    assert orphan.table == "Logical_Switch_Port" and orphan.row["name"] not in neutron_ports
    assert behind.table == "Logical_Switch_Port" and behind.row["name"] in neutron_ports
    lsp_names = {r.row.get("name") for r in nb.rows if r.table == "Logical_Switch_Port"}
    assert truth["OV102"] in neutron_ports and truth["OV102"] not in lsp_names


def test_hand_made_rows_carry_no_neutron_ids(cloud_nb):
    _, nb = cloud_nb
    hand = [r for r in nb.rows if r.row.get("name") in ("ops-debug-port", "ops-test-switch")]
    assert len(hand) == 2 and not any(k.startswith("neutron:") for r in hand for k in r.row.get("external_ids", {}))


@pytest.mark.parametrize("release", ["2024.1", "2026.2"])
def test_external_ids_as_each_release_writes_them(release):
    """ovn_client.py of neutron 24.2.2 and of master: the LSP keys of
    get_external_ids_from_port (both), a router port's router_name (the id, then
    "neutron-<id>"), DHCP_Options' neutron:network_id and the provnet port's physical
    network (2026.2 only), a NAT's fip_external_mac (both) and stateless option (2026.2)."""
    c = build.spec("small", 3, dt.datetime(2026, 6, 1, 12, 0, 0))
    nb = services.ovn_northbound(c, release)
    new = release == "2026.2"
    lsp = next(
        r
        for r in nb.rows
        if r.table == "Logical_Switch_Port"
        and r.row["external_ids"].get("neutron:device_owner", "").startswith("compute:")
    )
    assert set(lsp.row["external_ids"]) >= {
        "neutron:port_name",
        "neutron:device_id",
        "neutron:project_id",
        "neutron:cidrs",
        "neutron:device_owner",
        "neutron:subnet_pool_addr_scope4",
        "neutron:subnet_pool_addr_scope6",
        "neutron:network_name",
        "neutron:security_group_ids",
        "neutron:revision_number",
        "neutron:vnic_type",
        "neutron:port_capabilities",
        "neutron:mtu",
    }
    lrp = next(r for r in nb.rows if r.table == "Logical_Router_Port")
    router = lrp.row["external_ids"]["neutron:router_name"]
    assert router.startswith("neutron-") == new
    dhcp = [r for r in nb.rows if r.table == "DHCP_Options"]
    assert dhcp and all(("neutron:network_id" in r.row["external_ids"]) == new for r in dhcp)
    assert len(dhcp) == sum(1 for s in c.net.subnets if s["enable_dhcp"])
    provnet = nb.by_name[("Logical_Switch_Port", f"provnet-{c.net.external['_segment']['id']}")]
    assert provnet.row["type"] == "localnet" and bool(provnet.row["external_ids"]) == new
    nat = next(r for r in nb.rows if r.table == "NAT")
    assert "neutron:fip_external_mac" in nat.row["external_ids"] and ("options" in nat.row) == new
    meta = [r for r in nb.rows if r.table == "Logical_Switch_Port" and r.row.get("type") == "localport"]
    assert len(meta) == len(c.net.networks) and all(r.row["port_security"] == [] for r in meta)
    drop = nb.by_name[("Port_Group", "neutron_pg_drop")]
    assert len(drop.refs["acls"]) == 2 and lsp in drop.refs["ports"]


def test_neutron_records_the_revision_nb_holds(cloud_nb):
    """ovn_revision_numbers: a row per tracked object at NB's revision (the drifted LSP's
    lower one, -1 for a port whose NB write is in flight), Neutron's own where NB lost the
    row, and a row without standard_attr_id for the port Neutron deleted while NB kept it."""
    c, nb = cloud_nb
    n = c.net
    rows = {(r["resource_uuid"], r["resource_type"]): r for r in n.ovn_revisions}
    attrs = {a["id"]: a for a in n.attrs}
    truth = {t["code"]: t["subject"] for t in c.truth if t["code"].startswith("OV")}
    by_uuid = {r.uuid: r for r in nb.rows}
    ports = {p["id"]: p for p in n.ports}
    assert all((p["id"], "ports") in rows for p in n.ports if p["device_owner"] != "network:floatingip")
    assert all((rp["port_id"], "router_ports") in rows for rp in n.router_ports)
    behind = by_uuid[truth["OV103"]].row["name"]
    assert rows[(behind, "ports")]["revision_number"] == attrs[ports[behind]["standard_attr_id"]]["revision_number"] - 1
    lost = truth["OV102"]
    assert rows[(lost, "ports")]["revision_number"] == attrs[ports[lost]["standard_attr_id"]]["revision_number"]
    ghost = rows[(by_uuid[truth["OV101"]].row["name"], "ports")]
    assert ghost["standard_attr_id"] is None
    fresh = [p for p in n.ports if c.now - attrs[p["standard_attr_id"]]["created_at"] < dt.timedelta(minutes=1)]
    assert fresh and all(rows[(p["id"], "ports")]["revision_number"] == -1 for p in fresh)
