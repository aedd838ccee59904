"""The lab's NSX manager (the stand-in's store): the plugin's objects for the lab's Neutron,
nothing for the external network or for a port seconds old, and exactly the faults the
truth lists, named as the NSX checks name them."""

import datetime as dt

import pytest

from osfsck_lab import build, services
from osfsck_lab.nsx_standin import POLICY as P


@pytest.fixture(scope="module")
def cloud_store():
    c = build.spec("small", 2, dt.datetime(2026, 6, 1, 12, 0, 0))
    return c, services.nsx_manager(c)


def _ports(store) -> dict:
    return {
        o["id"]: o for seg in store.objects(f"{P}/segments") for o in store.objects(f"{P}/segments/{seg['id']}/ports")
    }


def test_every_compute_port_of_a_tenant_network_has_its_tagged_segment_port(cloud_store):
    c, store = cloud_store
    truth = {t["code"]: t["subject"] for t in c.truth if t["code"].startswith("NX")}
    ports = _ports(store)
    created = {a["id"]: a["created_at"] for a in c.net.attrs}
    expected = [
        p
        for p in c.net.ports
        if p["device_owner"].startswith("compute:") and c.now - created[p["standard_attr_id"]] > dt.timedelta(minutes=1)
    ]
    assert expected and {p["id"] for p in expected} - set(ports) == {truth["NX102"]}
    for p in expected:
        if p["id"] in ports:
            assert {"scope": "os-neutron-port-id", "tag": p["id"]} in ports[p["id"]]["tags"]
    assert truth["NX101"] in ports and truth["NX101"] not in {p["id"] for p in c.net.ports}


def test_no_segment_for_the_external_network_and_hand_made_ones_untagged(cloud_store):
    c, store = cloud_store
    segments = {s["id"]: s for s in store.objects(f"{P}/segments")}
    assert c.net.external["id"] not in segments
    assert {n["id"] for n in c.net.networks if not n["_external"]} <= set(segments)
    assert segments["ops-transit-segment"]["tags"] == []


def test_port_tags_as_each_plugin_writes_them(cloud_store):
    """Policy: an os-security-group tag per group, then build_v3_tags_payload's four
    (nsx_p _build_port_tags); Manager: the payload, os-instance-uuid for a compute port, the
    groups' tags and the default section's (nsx_v3 _create_port_at_the_backend)."""
    from osfsck_lab import nsx_objects
    from osfsck_lab.nsx_standin import MANAGER as M
    from osfsck_lab.nsx_standin import Store

    c, store = cloud_store
    groups = {}
    for b in c.net.port_groups:
        groups.setdefault(b["port_id"], []).append(b["security_group_id"])
    port = next(p for p in c.net.ports if p["device_owner"].startswith("compute:") and p["id"] in _ports(store))
    tags = _ports(store)[port["id"]]["tags"]
    assert tags[: len(groups[port["id"]])] == [{"scope": "os-security-group", "tag": g} for g in groups[port["id"]]]
    assert [t["scope"] for t in tags[len(groups[port["id"]]) :]] == [
        "os-neutron-port-id",
        "os-project-id",
        "os-project-name",
        "os-api-version",
    ]
    manager = nsx_objects.populate(c, api="manager")
    assert isinstance(manager, Store)
    [lport] = [o for o in manager.objects(f"{M}/logical-ports") if o["attachment"]["id"] == port["id"]]
    assert [t["scope"] for t in lport["tags"]] == [
        "os-neutron-port-id",
        "os-project-id",
        "os-project-name",
        "os-api-version",
        "os-instance-uuid",
        *["os-security-group"] * len(groups[port["id"]]),
        "os-security-group",
    ]
    assert lport["tags"][-1]["tag"] == "OS-Default-Section"
