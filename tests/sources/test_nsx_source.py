"""The NSX source against the NSX test double (osfsck_lab.nsx_standin; NSX cannot run
here): what it reads from each API, the facts it makes of the plugin's tags, and all or
nothing when a page fails."""

from __future__ import annotations

import datetime as dt

import pytest

from osfsck.config.nsx import NsxSettings
from osfsck.model.facts.nsx import MANAGER, NSX_SCOPE, POLICY, NsxObject
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured
from osfsck.sources.nsx.mapping import from_epoch_ms, to_fact
from osfsck.sources.nsx.source import NsxSource
from osfsck_lab.nsx_standin import MANAGER as MANAGER_API
from osfsck_lab.nsx_standin import POLICY as POLICY_API
from osfsck_lab.nsx_standin import NsxStandin
from tests.support.world import World
from tests.support.world_nsx import INTERNAL_TAGS, fill_standin, plugin_tags


@pytest.fixture
def nsx():
    with NsxStandin("admin", "secret") as s:
        yield s


def settings(s: NsxStandin, api: str = "policy", **kw) -> NsxSettings:
    return NsxSettings(url=s.url, api=api, username="admin", password="secret", insecure=True, **kw)


def collect(src) -> tuple[Snapshot, list]:
    snap = Snapshot(taken_at=dt.datetime(2026, 11, 24))
    return snap, src.collect({NsxObject}, Snapshot(taken_at=None), snap)


def neutron_cloud():
    w = World()
    net = w.network()
    for _ in range(3):
        w.instance_port(w.instance(), network_id=net)
    w.router()
    w.security_group()
    return w.snapshot()


@pytest.mark.parametrize("api", ["policy", "manager"])
def test_every_object_of_the_plugin_becomes_a_fact(nsx, api):
    made = fill_standin(nsx.store, neutron_cloud(), api)
    snap, status = collect(NsxSource(settings(nsx, api)))
    assert [s.status for s in status] == ["ok"] and snap.is_complete(NsxObject, NSX_SCOPE)
    facts = snap.of(NsxObject)
    ours = {(f.neutron_kind, f.neutron_id) for f in facts if f.neutron_kind}
    assert len(ours) == len(made) == 6
    ports = [f for f in facts if f.neutron_kind == "port"]
    assert len(ports) == 3 and all(p.parent_id and p.attached for p in ports)
    assert {f.resource_type for f in facts if f.neutron_kind == "security-group"} == (
        {"Group", "SecurityPolicy"} if api == "policy" else {"NSGroup", "FirewallSection"}
    )
    assert [f.internal for f in facts if not f.neutron_kind] == ([True, True] if api == "policy" else [True])
    assert all(f.created_at == dt.datetime(2026, 1, 1) and f.api == api for f in facts)


def test_policy_reads_the_ports_of_each_segment(nsx):
    fill_standin(nsx.store, neutron_cloud(), POLICY)
    collect(NsxSource(settings(nsx)))
    paths = [p.split("?")[0] for _, p in nsx.requests]
    assert paths[:2] == [f"{POLICY_API}/segments", f"{POLICY_API}/segments/{paths[1].split('/')[-2]}/ports"]
    assert {
        f"{POLICY_API}/tier-1s",
        f"{POLICY_API}/domains/default/groups",
        f"{POLICY_API}/domains/default/security-policies",
    } <= set(paths)


def test_a_failed_page_leaves_the_scope_partial_and_adds_nothing(nsx):
    fill_standin(nsx.store, neutron_cloud(), MANAGER)
    nsx.inject(500, path=f"{MANAGER_API}/firewall/sections", count=None)
    snap, status = collect(NsxSource(settings(nsx, "manager", retries=0)))
    assert status[0].status == "partial" and "firewall/sections: 500" in status[0].reason
    assert snap.of(NsxObject) == [] and not snap.is_complete(NsxObject, NSX_SCOPE)


def test_objects_of_an_unexpected_shape_are_a_partial_scope(nsx):
    fill_standin(nsx.store, neutron_cloud(), POLICY)
    nsx.inject(200, path=f"{POLICY_API}/tier-1s", body=b'{"results": ["not an object"], "result_count": 1}')
    snap, status = collect(NsxSource(settings(nsx)))
    assert status[0].status == "partial" and "unexpected shape" in status[0].reason
    assert snap.of(NsxObject) == []


def test_bad_credentials_are_a_partial_scope_with_one_line(nsx):
    s = NsxSettings(url=nsx.url, username="admin", password="nope", insecure=True)
    snap, status = collect(NsxSource(s))
    assert status[0].status == "partial" and "401 bad credentials" in status[0].reason
    assert "\n" not in status[0].reason and "nope" not in status[0].reason


def test_not_configured_without_a_url():
    with pytest.raises(NotConfigured):
        NsxSource(NsxSettings())


def test_only_the_nsx_scope_is_read_on_a_fresh_re_check(nsx):
    snap = Snapshot(taken_at=dt.datetime(2026, 11, 24))
    assert NsxSource(settings(nsx)).collect({NsxObject}, snap, snap, scopes={"neutron"}) == []
    assert nsx.requests == []


@pytest.mark.parametrize("api, scope", [("policy", "os-neutron-secg-id"), ("manager", "os-neutron-secgr-id")])
def test_security_group_tag_of_each_plugin(api, scope):
    f = to_fact(api, {"id": "x", "resource_type": "Group", "tags": plugin_tags(scope, "sg-1")}, None, None)
    assert (f.neutron_kind, f.neutron_id, f.api_version, f.project_id) == (
        "security-group",
        "sg-1",
        "17.0.0",
        "project-a",
    )


def test_mapping_of_internal_hand_made_and_foreign_objects():
    internal = to_fact(POLICY, {"id": "os_default_section", "tags": INTERNAL_TAGS}, None, None)
    fixed_id = to_fact(POLICY, {"id": "neutron_excluded_ports_group", "tags": []}, None, None)
    manager_named = to_fact(MANAGER, {"id": "n1", "display_name": "os_default_section_ns_group"}, None, None)
    by_hand = to_fact(POLICY, {"id": "ops-net", "tags": [{"scope": "owner", "tag": "netops"}]}, None, None)
    assert internal.internal and fixed_id.internal and manager_named.internal and not by_hand.internal
    assert by_hand.neutron_kind is None
    restricted = ("os-api-version", frozenset({"17.0.0"}))
    ours = to_fact(POLICY, {"id": "p1", "tags": plugin_tags("os-neutron-port-id", "p1")}, "s", restricted)
    theirs = to_fact(
        POLICY, {"id": "p2", "tags": plugin_tags("os-neutron-port-id", "p2", version="16.0.1")}, "s", restricted
    )
    assert not ours.other_deployment and theirs.other_deployment


def test_times_are_epoch_milliseconds_as_naive_utc():
    assert from_epoch_ms(1700000000123) == dt.datetime(2023, 11, 14, 22, 13, 20, 123000)
    assert from_epoch_ms(None) is None


@pytest.mark.parametrize(
    "obj, why",
    [
        # found by tests/fuzz/test_nsx_fuzz.py; before, the first three raised past the source
        ({"id": "x", "_create_time": 1e300}, "_create_time|is not a time"),  # OverflowError
        ({"id": "x", "_last_modified_time": float("nan")}, "is not a time"),  # ValueError
        ({"id": "x", "tags": [{"scope": ["os-neutron-port-id"], "tag": "p"}]}, "scope is a list"),  # TypeError
        ({"display_name": "no id"}, "without an id"),  # before: a fact of id "None"
        ({"id": "x", "_create_time": "soon"}, "is not a time"),  # before: no time
        ({"id": "x", "display_name": {"en": "x"}}, "display_name is a dict"),  # before: a dict as the name
        ({"id": "x", "_revision": -1}, "_revision"),
        (["id", "x"], "a list item is a list"),
    ],
)
def test_an_object_not_of_nsx_shape_is_one_error(obj, why):
    from osfsck.sources.nsx.mapping import NsxShapeError

    with pytest.raises(NsxShapeError, match=why) as e:
        to_fact(POLICY, obj, None, None)
    assert "\n" not in str(e.value)


def test_a_segment_id_is_one_path_segment(nsx):
    # found reading what the fuzz sent: a segment id holding "/" or ".." was put into the
    # URL as it was, naming another path (a server that removes dot-segments reads the
    # tier-1 list there, and its objects would become ports of that segment)
    nsx.store.add("/policy/api/v1/infra/segments", {"id": "../tier-1s", "tags": []})
    collect(NsxSource(settings(nsx)))
    asked = [p.split("?")[0] for m, p in nsx.requests if p.endswith("/ports") or "/ports?" in p]
    assert asked == ["/policy/api/v1/infra/segments/..%2Ftier-1s/ports"]


@pytest.mark.parametrize("api", ["policy", "manager"])
def test_a_cell_run_reads_the_ports_of_its_part_on_their_networks_only(nsx, api):
    """--cell: after Neutron's part, only the NSX ports standing for it, listed per segment
    (logical switch) of its networks; a shared network's other cell's port is read but not
    kept, a network no port of the part is on is not listed."""
    from osfsck.model.facts.neutron import NeutronPort
    from osfsck.model.scope import RunScope

    w = World()
    w.host("hv1", cell="cell1")
    w.host("hv2", cell="cell2")
    shared, other = w.network(), w.network()
    mine = w.instance_port(w.instance(cell="cell1", host="hv1"), network_id=shared)
    theirs = w.instance_port(w.instance(cell="cell2", host="hv2"), network_id=shared)
    w.instance_port(w.instance(cell="cell2", host="hv2"), network_id=other)
    whole = w.snapshot()
    fill_standin(nsx.store, whole, api)
    src = NsxSource(settings(nsx, api))
    src.within = RunScope(cells=("cell1",))
    known = whole.narrowed(RunScope(cells=("cell1",)))
    assert mine in {p.id for p in known.of(NeutronPort)} and theirs not in {p.id for p in known.of(NeutronPort)}
    snap = Snapshot(taken_at=dt.datetime(2026, 11, 24))
    (status,) = src.collect({NsxObject}, known, snap)
    assert status.status == "ok" and "only the ports of cell1's part" in status.reason
    assert {(f.neutron_kind, f.neutron_id) for f in snap.of(NsxObject)} == {("port", mine)}
    assert snap.coverage[(NsxObject.kind, NSX_SCOPE)].part == "cells:cell1"
    paths = [p for _, p in nsx.requests]
    if api == "policy":  # no list of segments: the part's network's ports, by its id
        assert [p.split("?")[0] for p in paths] == [f"{POLICY_API}/segments/{shared}/ports"]
    else:  # the switches, then the ports of the part's network's switch only
        switch = next(o["id"] for o in nsx.store.objects(f"{MANAGER_API}/logical-switches") if shared in str(o))
        assert [p.split("?")[0] for p in paths] == [f"{MANAGER_API}/logical-switches", f"{MANAGER_API}/logical-ports"]
        assert f"logical_switch_id={switch}" in paths[1]
    assert src.requires  # it reads after Nova's and Neutron's parts
