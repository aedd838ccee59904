"""IscsiSource: the agent's `iscsi` reply -> facts and coverage; and the agent op itself,
run as a real subprocess against a stand-in `iscsiadm`.

The stand-in is a shell script printing recorded iscsiadm output: real sessions need the
kernel's iscsi_tcp module and a target, which this container cannot load.  The real
`iscsiadm` binary, when installed, is exercised for its no-sessions answer (exit 21)."""

import datetime as dt
import os
import shutil
import stat
from pathlib import Path

import pytest

from osfsck.clients.hostagent import agent
from osfsck.config.settings import HypervisorSettings
from osfsck.model.facts.hypervisor import IscsiNode, IscsiSession, host_scope
from osfsck.model.snapshot import Snapshot
from osfsck.sources.iscsi.source import IscsiSource
from tests.support.agent import FakeChannel

T0 = dt.datetime(2026, 1, 1)

FIXTURES = Path(__file__).parent / "fixtures" / "iscsiadm"
SESSIONS = (FIXTURES / "session-P3-tabs.txt").read_text()
NODES = (FIXTURES / "node.txt").read_text()


def ran(rc=0, out="", err=""):
    return {"rc": rc, "out": out, "err": err}


def run(answers: dict, **settings):
    settings.setdefault("extra_hosts", tuple(answers))
    channels = {h: FakeChannel(a) for h, a in answers.items()}
    src = IscsiSource(HypervisorSettings(**settings), channel_factory=lambda t: channels[t.name])
    sink = Snapshot(taken_at=T0)
    statuses = src.collect({IscsiSession, IscsiNode}, Snapshot(taken_at=T0), sink)
    return sink, {s.scope: s for s in statuses}, channels


def test_sessions_and_nodes_become_facts():
    sink, st, ch = run({"hv1": {"installed": True, "session": ran(out=SESSIONS), "node": ran(out=NODES)}})
    assert ch["hv1"].calls == [("iscsi", {})]
    assert st[host_scope("hv1")].status == "ok"
    assert sorted(s.sid for s in sink.of(IscsiSession)) == [3, 7, 8]
    assert len(sink.of(IscsiNode)) == 3 and sink.is_complete(IscsiSession, host_scope("hv1"))


def test_exit_21_is_no_sessions_and_no_iscsiadm_is_none_either():
    sink, st, _ = run({"hv1": {"installed": True, "session": ran(21, err="iscsiadm: No active sessions."),
                               "node": ran(21, err="iscsiadm: No records found")},
                       "hv2": {"installed": False}})
    assert sink.of(IscsiSession) == [] and sink.of(IscsiNode) == []
    assert all(st[host_scope(h)].status == "ok" for h in ("hv1", "hv2"))
    assert sink.is_complete(IscsiSession, host_scope("hv2"))


def test_an_iscsiadm_failure_makes_the_host_partial():
    sink, st, _ = run({"hv1": {"installed": True, "session": ran(out=SESSIONS),
                               "node": ran(7, err="iscsiadm: could not read /etc/iscsi/nodes: Permission denied")}})
    s = st[host_scope("hv1")]
    assert s.status == "partial" and "exited with 7: iscsiadm: could not read" in s.reason
    assert not sink.is_complete(IscsiNode, host_scope("hv1"))


def test_output_of_another_layout_is_partial_with_the_line():
    sink, st, _ = run({"hv1": {"installed": True, "session": ran(out="Target: iqn.x\n\tCurrent Portal: nonsense\n"),
                               "node": ran(out=NODES)}})
    s = st[host_scope("hv1")]
    assert s.status == "partial" and "line 2" in s.reason and sink.of(IscsiSession) == []


@pytest.fixture
def fake_iscsiadm(tmp_path):
    """A stand-in iscsiadm: prints the recorded -P 3 and node output."""
    (tmp_path / "session.txt").write_text(SESSIONS)
    (tmp_path / "node.txt").write_text(NODES)
    script = tmp_path / "iscsiadm"
    script.write_text(f"""#!/bin/sh
case "$*" in
  "-m session -P 3") cat {tmp_path}/session.txt ;;
  "-m node") cat {tmp_path}/node.txt ;;
  *) echo "iscsiadm: unexpected $*" >&2; exit 2 ;;
esac
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_the_agent_op_through_a_local_subprocess(fake_iscsiadm):
    from osfsck.clients.hostagent import HostChannel
    reply = HostChannel("hv1", "local", python=shutil.which("python3") or "python3", timeout=30).call(
        "iscsi", iscsiadm=fake_iscsiadm)
    assert reply["installed"] and reply["session"]["rc"] == 0 and reply["node"]["rc"] == 0
    facts, problems = IscsiSource(HypervisorSettings()).parse(type("T", (), {"name": "hv1"})(), reply)
    assert problems == [] and sorted(s.sid for s in facts[IscsiSession]) == [3, 7, 8]


def test_the_agent_without_iscsiadm_says_not_installed(monkeypatch):
    monkeypatch.setattr(agent.shutil, "which", lambda name: None)
    monkeypatch.setattr(agent, "ISCSIADM_PLACES", ())
    assert agent.handle({"op": "iscsi", "args": {}}) == {"ok": True, "result": {"installed": False}}


@pytest.mark.skipif(not any(os.access(p, os.X_OK) for p in agent.ISCSIADM_PLACES),
                    reason="open-iscsi is not installed")
def test_the_real_iscsiadm_with_no_sessions_answers_21():
    reply = agent.handle({"op": "iscsi", "args": {}})["result"]
    assert reply["installed"] and reply["session"]["rc"] == 21
    facts, problems = IscsiSource(HypervisorSettings()).parse(type("T", (), {"name": "hv1"})(), reply)
    assert problems == [] and facts[IscsiSession] == []


def test_the_configured_iscsiadm_path_is_passed_to_the_agent():
    from osfsck.config.settings import HostOverride
    _, _, ch = run({"hv1": {"installed": True, "session": ran(21), "node": ran(21)},
                    "hv2": {"installed": True, "session": ran(21), "node": ran(21)}},
                   iscsiadm="/opt/bin/iscsiadm", hosts={"hv2": HostOverride(iscsiadm="/srv/hv2/iscsiadm")})
    assert ch["hv1"].calls == [("iscsi", {"iscsiadm": "/opt/bin/iscsiadm"})]
    assert ch["hv2"].calls == [("iscsi", {"iscsiadm": "/srv/hv2/iscsiadm"})]
