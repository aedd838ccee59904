"""The lab's OVN northbound rows, as sent to ovsdb-server: one transaction whose rows
reference only rows it inserts, each under the _uuid the truth names (the OVN checks'
subjects are row uuids), with exactly the faults the truth lists."""

import datetime as dt

import pytest

from osfsck.lab import build, ovn_nb, services


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
    refs = [ref for op in ops for col, value in op["row"].items()
            if isinstance(value, list) and value[0] == "set" and value[1] and isinstance(value[1][0], list)
            for ref in value[1]]
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
