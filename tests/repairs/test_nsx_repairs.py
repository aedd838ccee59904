"""delete-nsx-object (Policy API) and delete-nsx-manager-object (Manager API) against the
NSX test double (osfsck_lab.nsx_standin; NSX cannot run here), with the two-run test:
NX101 finds the orphans in what the real source collects, the repairs delete them, a
fresh collection is clean, and (Policy API) undo puts them back."""

from __future__ import annotations

import datetime as dt

import pytest

from osfsck.checks.nsx.orphan_nsx_object import OrphanNsxObject
from osfsck.config.nsx import NsxSettings
from osfsck.model.facts.nsx import NsxObject
from osfsck.model.finding import Severity
from osfsck.repairs.base import NotOwned, RepairError
from osfsck.repairs.nsx.objects import DeleteNsxManagerObject, DeleteNsxObject
from osfsck.sources.nsx.source import NsxSource
from osfsck_lab.nsx_standin import MANAGER as M
from osfsck_lab.nsx_standin import POLICY as P
from osfsck_lab.nsx_standin import NsxStandin
from tests.repairs.helpers import apply, context, plan_of, refused_again_then_undone
from tests.support.world import World, uid
from tests.support.world_neutron import network_uid
from tests.support.world_nsx import LONG_AGO_MS, fill_standin, plugin_tags

GONE_PORT, GONE_NET = uid(0xDEAD01), uid(0xDEAD02)


def _now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def neutron(later: float = 0):
    """Neutron's side: one network with two instances' ports, a router, a security group."""
    w = World(taken_at=_now() + dt.timedelta(seconds=later))
    net = w.network()
    for _ in range(2):
        w.instance_port(w.instance(), network_id=net)
    w.router()
    w.security_group()
    return w


def settings(s: NsxStandin, api: str) -> NsxSettings:
    return NsxSettings(url=s.url, api=api, username="admin", password="secret", insecure=True)


def findings(s: NsxStandin, api: str, later: float = 0) -> list:
    """NX101 on Neutron's facts and what the NSX source reads from the double now."""
    snap = neutron(later).snapshot()
    status = NsxSource(settings(s, api)).collect({NsxObject}, snap, snap)
    assert [x.status for x in status] == ["ok"]
    return OrphanNsxObject().evaluate(snap).findings


def by_kind(found) -> dict:
    return {f.subject.kind: f for f in found}


@pytest.fixture
def policy():
    with NsxStandin("admin", "secret") as s:
        fill_standin(s.store, neutron().snapshot(), "policy")
        net_id = network_uid(1)
        old = {"_create_time": LONG_AGO_MS, "_last_modified_time": LONG_AGO_MS}
        s.store.add(
            f"{P}/segments/{net_id}/ports",
            {"id": GONE_PORT, "attachment": {"id": GONE_PORT}, "tags": plugin_tags("os-neutron-port-id", GONE_PORT)},
            **old,
        )
        s.store.add(f"{P}/segments", {"id": GONE_NET, "tags": plugin_tags("os-neutron-net-id", GONE_NET)}, **old)
        s.store.add(
            f"{P}/segments/{GONE_NET}/ports",
            {"id": uid(0xDEAD03), "tags": plugin_tags("os-neutron-port-id", uid(0xDEAD03))},
            **old,
        )
        ctx = context(nsx=settings(s, "policy"))
        yield s, ctx
        ctx.close()


def test_policy_orphans_deleted_ports_first_settle_and_undo(policy):
    s, ctx = policy
    found = by_kind(findings(s, "policy"))
    assert sorted(found) == ["nsx-segment", "nsx-segment-port"]
    ports = [f for f in findings(s, "policy") if f.subject.kind == "nsx-segment-port"]
    assert {f.subject.id for f in ports} == {GONE_PORT, uid(0xDEAD03)} and all(
        f.severity == Severity.MEDIUM for f in ports
    )
    assert found["nsx-segment"].severity == Severity.LOW  # applied after the ports
    repair = DeleteNsxObject()
    seg_plan = plan_of(repair, found["nsx-segment"])
    repair.ownership(seg_plan, None)
    with pytest.raises(RepairError, match=r"still has 1 port\(s\)"):
        repair.before_image(seg_plan, ctx)

    total = sum(len(v) for v in s.store.collections.values())
    entries = {}
    for f in sorted(findings(s, "policy"), key=lambda f: f.sort_key()):
        plan = plan_of(repair, f)
        entries[f.subject.id] = (plan, apply(repair, plan, ctx))
    assert sum(len(v) for v in s.store.collections.values()) == total - 3
    assert findings(s, "policy") == []  # the second run is clean
    before = entries[GONE_NET][1]["before"]["object"]
    assert before["id"] == GONE_NET and before["_revision"] == 0

    # a second apply is refused; undo: the segment first, then its port
    assert "restored /policy/api/v1/infra/segments/" in refused_again_then_undone(
        repair, entries[GONE_NET][0], ctx, entries[GONE_NET][1]
    )
    plan, entry = entries[uid(0xDEAD03)]
    done = refused_again_then_undone(repair, plan, ctx, entry)
    # what NSX sets itself cannot be put back through its API, and undo says so
    assert "restored" in done and "_create_time" in done.not_restored[0]
    back = s.store.get(f"{P}/segments/{GONE_NET}/ports", uid(0xDEAD03))
    assert back["tags"] == plugin_tags("os-neutron-port-id", uid(0xDEAD03)) and back["_revision"] == 0
    with pytest.raises(RepairError, match="exists again"):
        repair.undo(entry, ctx)
    # restored as they were: NX101 finds them again once they are past the grace
    assert {f.subject.id for f in findings(s, "policy", later=3600)} == {GONE_NET, uid(0xDEAD03)}


def test_a_changed_object_is_not_deleted(policy):
    s, ctx = policy
    f = by_kind(findings(s, "policy"))["nsx-segment"]
    s.store.write("PATCH", f"{P}/segments", GONE_NET, {"display_name": "renamed by an operator"}, {})
    with pytest.raises(RepairError, match=r"no longer in the state that was seen \(revision 1, not 0\)"):
        DeleteNsxObject().before_image(plan_of(DeleteNsxObject(), f), ctx)
    assert s.store.get(f"{P}/segments", GONE_NET) is not None


def test_ownership_and_the_api_decide_which_repair_plans(policy):
    s, _ = policy
    f = by_kind(findings(s, "policy"))["nsx-segment"]
    assert "works through the manager API" in DeleteNsxManagerObject().plan(f, None)
    plan = plan_of(DeleteNsxObject(), f)
    f.evidence["nsx_object"]["other_deployment"] = True
    with pytest.raises(NotOwned, match="another cloud's"):
        DeleteNsxObject().ownership(plan, None)


@pytest.fixture
def manager():
    with NsxStandin("admin", "secret") as s:
        fill_standin(s.store, neutron().snapshot(), "manager")
        old = {"_create_time": LONG_AGO_MS, "_last_modified_time": LONG_AGO_MS}
        switch = s.store.add(f"{M}/logical-switches", {"tags": plugin_tags("os-neutron-net-id", GONE_NET)}, **old)
        s.store.add(
            f"{M}/logical-ports",
            {
                "logical_switch_id": switch["id"],
                "tags": plugin_tags("os-neutron-port-id", GONE_PORT),
                "attachment": {"attachment_type": "VIF", "id": GONE_PORT},
            },
            **old,
        )
        ctx = context(nsx=settings(s, "manager"))
        yield s, ctx
        ctx.close()


def test_manager_orphans_port_detached_then_switch_and_no_undo(manager):
    s, ctx = manager
    repair = DeleteNsxManagerObject()
    found = by_kind(findings(s, "manager"))
    assert sorted(found) == ["nsx-logical-port", "nsx-logical-switch"]
    with pytest.raises(RepairError, match=r"has 1 logical port\(s\); nothing deleted"):
        apply(repair, plan_of(repair, found["nsx-logical-switch"]), ctx)  # no cascade: ports first
    entries = [apply(repair, plan_of(repair, f), ctx) for f in sorted(found.values(), key=lambda f: f.sort_key())]
    assert any(m == "DELETE" and "detach=true" in p for m, p in s.requests)
    assert findings(s, "manager") == []
    assert not repair.undoable
    with pytest.raises(RepairError, match="cannot be undone: the Manager API gives a re-created object a new id"):
        repair.undo(entries[0], ctx)
    assert entries[0]["before"]["object"]["attachment"]["id"] == GONE_PORT  # the journal keeps the JSON
