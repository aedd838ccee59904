"""The repairs that act when two places agree against a third: fix-attachment-host (Nova
and the iSCSI session against Cinder's attached_host; applied, refused a second time and
undone on Cinder's real schema, SQLite and MariaDB) and login-iscsi-session (planned only
when the host still has the node record)."""

from __future__ import annotations

import pytest

from osfsck.model.facts.hypervisor import IscsiNode
from osfsck.model.finding import Finding, Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.cinder.attachment_host import FixAttachmentHost
from osfsck.repairs.iscsi.login import LoginIscsiSession
from osfsck_lab import database
from tests.repairs.helpers import (
    T0,
    apply,
    attachment,
    cinder_db,
    context,
    plan_of,
    refused_again_then_undone,
    rows,
    volume,
)

V1, INSTANCE = "11111111-aaaa-4000-8000-000000000001", "22222222-bbbb-4000-8000-000000000001"
IQN, PORTAL = f"iqn.2010-10.org.openstack:volume-{V1}", "192.0.2.10:3260"


def mismatch(session_hosts) -> Finding:
    return Finding(
        "VL104",
        "attachment-host-mismatch",
        Severity.MEDIUM,
        ObjectRef("volume-attachment", "a1", "cinder"),
        "m",
        evidence={
            "attachment": {"id": "a1", "attached_host": "hv2"},
            "instance": {"uuid": INSTANCE, "host": "hv1"},
            "session_hosts": session_hosts,
        },
    )


def missing_session() -> Finding:
    return Finding(
        "VL204",
        "missing-iscsi-session",
        Severity.HIGH,
        ObjectRef("volume-connection", f"{INSTANCE}/{V1}", "host:hv1"),
        "m",
        evidence={"target_iqns": [IQN], "portal": PORTAL},
    )


def test_fix_attachment_host_applies_refuses_twice_and_undoes(new_db):
    url = cinder_db(new_db("cinder"))
    database.insert_rows(url, "volumes", [volume(V1, "in-use", "attached")])
    database.insert_rows(url, "volume_attachment", [attachment("a1", V1, INSTANCE, attached_host="hv2")])
    before = rows(url, "volume_attachment")
    ctx = context(url)
    try:
        repair = FixAttachmentHost()
        plan = plan_of(repair, mismatch(["hv1"]))
        entry = apply(repair, plan, ctx)
        a1 = rows(url, "volume_attachment")["a1"]
        # as Cinder's volume_attachment_update writes it: updated_at now (the ORM's onupdate)
        assert a1["attached_host"] == "hv1" and a1["updated_at"] != before["a1"]["updated_at"]
        refused_again_then_undone(repair, plan, ctx, entry)
        assert rows(url, "volume_attachment") == before
    finally:
        ctx.close()


@pytest.mark.parametrize("holders", [[], ["hv2"], ["hv1", "hv2"]])
def test_fix_attachment_host_needs_the_session_as_second_witness(holders):
    assert "no second witness" in FixAttachmentHost().plan(mismatch(holders), Snapshot(taken_at=T0))


def test_login_is_planned_only_with_the_node_record():
    snap = Snapshot(taken_at=T0)
    assert "no node record" in LoginIscsiSession().plan(missing_session(), snap)
    snap.add(IscsiNode.kind, [IscsiNode("hv2", IQN, PORTAL, 1), IscsiNode("hv1", IQN, "192.0.2.99:3260", 1)])
    assert "no node record" in LoginIscsiSession().plan(missing_session(), snap)
    snap.add(IscsiNode.kind, [IscsiNode("hv1", IQN, PORTAL, 1)])
    plan = LoginIscsiSession().plan(missing_session(), snap)
    assert plan.params == {"host": "hv1", "target_iqn": IQN, "portal": PORTAL}
