"""logout-iscsi-session through the host agent (in-process transport) against the lab's
iscsiadm stand-in, which keeps each host's sessions and node records in a state file and
answers the forms the repair uses with open-iscsi's messages and exit statuses.  Real
sessions need the kernel's iscsi_tcp module and a target, which this machine lacks; the
agent's checks of sysfs run on a folder laid out like it (tests/support/sysfs.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from osfsck.clients.hostagent import agent
from osfsck.config.settings import HypervisorSettings
from osfsck.model.finding import Finding, Severity
from osfsck.model.refs import ObjectRef
from osfsck.repairs.base import RepairError
from osfsck.repairs.iscsi.sessions import LogoutIscsiSession
from osfsck.sources.hosts import HostTarget
from osfsck.sources.iscsi.source import IscsiSource
from osfsck_lab import iscsiadm_standin as standin
from tests.repairs.helpers import apply, context, plan_of
from tests.support import sysfs

IQN = "iqn.2010-10.org.openstack:volume-11111111-aaaa-4000-8000-000000000001"
PORTAL = "192.0.2.10:3260"


@pytest.fixture
def host(tmp_path):
    """hv1 logged in to IQN (its LUN as sdb), with the node record os-brick leaves."""
    state = standin.new_state("hv1", "iqn.1994-05.com.redhat:hv1", "192.0.2.51")
    standin.login(state, standin.add_node(state, IQN, PORTAL))
    folder = tmp_path / "hv1"
    path = standin.install(str(folder), state)
    ctx = context(hypervisors=HypervisorSettings(transport="inprocess", iscsiadm=path))
    yield folder, ctx
    ctx.close()


def _state(folder: Path) -> dict:
    return json.loads((folder / standin.STATE).read_text())


def _finding(ctx) -> Finding:
    """The finding VL203 makes, from what the real iSCSI source reads through the agent."""
    reply = ctx.host_channel("hv1").call("iscsi", iscsiadm=ctx.target("hv1").iscsiadm)
    facts, problems = IscsiSource(HypervisorSettings()).parse(HostTarget("hv1", "", "", "", "", None), reply)
    assert problems == []
    (s,) = facts[next(k for k in facts if k.__name__ == "IscsiSession")]
    return Finding(
        "VL203",
        "leaked-iscsi-session",
        Severity.MEDIUM,
        ObjectRef("iscsi-session", f"{s.target_iqn}@{s.portal}", "host:hv1"),
        "m",
        evidence={
            "session": {**s._asdict(), "luns": list(s.luns), "devices": list(s.devices)},
            "node_record": True,
            "devices_in_use": [],
        },
    )


@pytest.mark.parametrize("startup", ["automatic", "manual"])
def test_logout_settles_refuses_twice_and_undo_logs_in_again(host, startup):
    folder, ctx = host
    state = _state(folder)
    state["nodes"][0]["settings"]["node.startup"] = startup
    standin.save(str(folder), state)
    repair = LogoutIscsiSession()
    plan = plan_of(repair, _finding(ctx))
    repair.ownership(plan, None)
    entry = apply(repair, plan, ctx)
    assert entry["before"]["node_record"]["node.startup"] == startup and entry["after"] == {"record_deleted": True}
    assert "logged out" in entry["result"] and "node record deleted" in entry["result"]
    assert _state(folder)["sessions"] == [] and _state(folder)["nodes"] == []
    log = [json.loads(line)["op"] for line in (folder / standin.LOG).read_text().splitlines()]
    assert log == ["logout", "delete"]

    with pytest.raises(RepairError, match="no session to .* any more: nothing logged out"):
        repair.apply(plan, ctx, entry["before"])

    assert "again with a new node record" in repair.undo(entry, ctx)
    after = _state(folder)
    assert [(s["target_iqn"], s["portal"]) for s in after["sessions"]] == [(IQN, PORTAL)]
    assert [n["settings"]["node.startup"] for n in after["nodes"]] == [startup]


def test_a_disk_in_use_on_the_host_stops_the_logout(host, tmp_path, monkeypatch):
    folder, ctx = host
    finding = _finding(ctx)
    s = finding.evidence["session"]
    sysfs.iscsi_session(tmp_path / "sys", s["sid"], IQN, "sdb", holders=("dm-0",))  # a multipath map on it
    monkeypatch.setattr(agent, "SYS", str(tmp_path / "sys"))
    repair = LogoutIscsiSession()
    plan = plan_of(repair, finding)
    before = repair.before_image(plan, ctx)
    with pytest.raises(RepairError, match="refusing to log out .*: /dev/sdb is held by dm-0"):
        repair.apply(plan, ctx, before)
    assert len(_state(folder)["sessions"]) == 1 and not (folder / standin.LOG).exists()
