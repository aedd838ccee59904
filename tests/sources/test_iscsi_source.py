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


def run(answers: dict, taken_at=T0, **settings):
    settings.setdefault("extra_hosts", tuple(answers))
    channels = {h: FakeChannel(a) for h, a in answers.items()}
    src = IscsiSource(HypervisorSettings(**settings), channel_factory=lambda t: channels[t.name])
    sink = Snapshot(taken_at=taken_at)
    statuses = src.collect({IscsiSession, IscsiNode}, Snapshot(taken_at=T0), sink)
    return sink, {s.scope: s for s in statuses}, channels


def test_sessions_and_nodes_become_facts():
    sink, st, ch = run({"hv1": {"installed": True, "session": ran(out=SESSIONS), "node": ran(out=NODES)}})
    assert ch["hv1"].calls == [("iscsi", {})]
    assert st[host_scope("hv1")].status == "ok"
    assert sorted(s.sid for s in sink.of(IscsiSession)) == [3, 7, 8]
    assert len(sink.of(IscsiNode)) == 3 and sink.is_complete(IscsiSession, host_scope("hv1"))


def test_exit_21_is_no_sessions_and_no_iscsiadm_is_none_either():
    sink, st, _ = run(
        {
            "hv1": {
                "installed": True,
                "session": ran(21, err="iscsiadm: No active sessions."),
                "node": ran(21, err="iscsiadm: No records found"),
            },
            "hv2": {"installed": False},
        }
    )
    assert sink.of(IscsiSession) == [] and sink.of(IscsiNode) == []
    assert all(st[host_scope(h)].status == "ok" for h in ("hv1", "hv2"))
    assert sink.is_complete(IscsiSession, host_scope("hv2"))


def test_an_iscsiadm_failure_makes_the_host_partial():
    sink, st, _ = run(
        {
            "hv1": {
                "installed": True,
                "session": ran(out=SESSIONS),
                "node": ran(7, err="iscsiadm: could not read /etc/iscsi/nodes: Permission denied"),
            }
        }
    )
    s = st[host_scope("hv1")]
    assert s.status == "partial" and "exited with 7: iscsiadm: could not read" in s.reason
    assert not sink.is_complete(IscsiNode, host_scope("hv1"))


@pytest.mark.parametrize(
    "rc, out, complete",
    [
        (21, "", True),  # "No active sessions."
        (21, "iSCSI Transport Class version 2.0-870\nversion 2.0-874\n", True),  # ... as 2.0-873 to -875 say it
        (0, "", False),  # iscsiadm exits 21 when there is none
        (0, "iSCSI Transport Class version 2.0-870\nversion 2.1.8\n", False),
        (4, "", False),
        (21, SESSIONS, False),  # sessions, yet "none found"
    ],
)
def test_only_exit_21_says_there_is_no_session(rc, out, complete):
    sink, st, _ = run({"hv1": {"installed": True, "session": ran(rc, out=out), "node": ran(out=NODES)}})
    s = st[host_scope("hv1")]
    assert (s.status == "ok") is complete and sink.is_complete(IscsiSession, host_scope("hv1")) is complete
    assert "\n" not in s.reason and (complete or "iscsiadm -m session" in s.reason)


def test_output_of_another_layout_is_partial_with_the_line():
    sink, st, _ = run(
        {
            "hv1": {
                "installed": True,
                "session": ran(out="Target: iqn.x\n\tCurrent Portal: nonsense\n"),
                "node": ran(out=NODES),
            }
        }
    )
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
        "iscsi", iscsiadm=fake_iscsiadm
    )
    assert reply["installed"] and reply["session"]["rc"] == 0 and reply["node"]["rc"] == 0
    facts, problems = IscsiSource(HypervisorSettings()).parse(type("T", (), {"name": "hv1"})(), reply)
    assert problems == [] and sorted(s.sid for s in facts[IscsiSession]) == [3, 7, 8]


def test_output_that_is_not_utf8_makes_the_host_partial(tmp_path):
    # the agent decodes iscsiadm's output strictly: a byte that is not UTF-8 (binary
    # garbage, a Latin-1 name) fails the read, never a name silently changed
    from osfsck.clients.hostagent import HostChannel

    (tmp_path / "session.txt").write_bytes(SESSIONS.replace("sdc", "sd\udcff").encode("utf-8", "surrogateescape"))
    script = tmp_path / "iscsiadm"
    script.write_text(
        f'#!/bin/sh\ncase "$*" in\n  "-m session -P 3") cat {tmp_path}/session.txt ;;\n  *) exit 21 ;;\nesac\n'
    )
    script.chmod(0o755)
    channel = HostChannel("hv1", "local", python=shutil.which("python3") or "python3", timeout=30)
    src = IscsiSource(HypervisorSettings(extra_hosts=("hv1",), iscsiadm=str(script)), channel_factory=lambda t: channel)
    sink = Snapshot(taken_at=T0)
    (s,) = src.collect({IscsiSession}, Snapshot(taken_at=T0), sink)
    assert s.status == "partial" and "utf-8" in s.reason.lower() and "\n" not in s.reason
    assert sink.of(IscsiSession) == []


def test_the_agent_without_iscsiadm_says_not_installed(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # the agent imports it where it looks
    monkeypatch.setattr(agent, "ISCSIADM_PLACES", ())
    assert agent.handle({"op": "iscsi", "args": {}}) == {"ok": True, "result": {"installed": False}}


@pytest.mark.skipif(not any(os.access(p, os.X_OK) for p in agent.ISCSIADM_PLACES), reason="open-iscsi is not installed")
def test_the_real_iscsiadm_with_no_sessions_answers_21():
    reply = agent.handle({"op": "iscsi", "args": {}})["result"]
    assert reply["installed"] and reply["session"]["rc"] == 21
    facts, problems = IscsiSource(HypervisorSettings()).parse(type("T", (), {"name": "hv1"})(), reply)
    assert problems == [] and facts[IscsiSession] == []


def test_the_configured_iscsiadm_path_is_passed_to_the_agent():
    from osfsck.config.settings import HostOverride

    _, _, ch = run(
        {
            "hv1": {"installed": True, "session": ran(21), "node": ran(21)},
            "hv2": {"installed": True, "session": ran(21), "node": ran(21)},
        },
        iscsiadm="/opt/bin/iscsiadm",
        hosts={"hv2": HostOverride(iscsiadm="/srv/hv2/iscsiadm")},
    )
    assert ch["hv1"].calls == [("iscsi", {"iscsiadm": "/opt/bin/iscsiadm"})]
    assert ch["hv2"].calls == [("iscsi", {"iscsiadm": "/srv/hv2/iscsiadm"})]


# -- issue 15, defect 8: output osfsck cannot fully read gave false missing-iscsi-session --


def _three_sessions(iqns) -> str:
    """What open-iscsi 2.1 prints for one session to each of `iqns` (LUN 1 each)."""
    out = ["iSCSI Transport Class version 2.0-870", "version 2.1.8"]
    for sid, iqn in enumerate(iqns, 1):
        out += [
            f"Target: {iqn} (non-flash)",
            "\tCurrent Portal: 192.0.2.10:3260,1",
            "\tPersistent Portal: 192.0.2.10:3260,1",
            "\t\tIface Name: default",
            f"\t\tSID: {sid}",
            "\t\tiSCSI Connection State: LOGGED IN",
            "\t\tiSCSI Session State: LOGGED_IN",
            "\t\t************************",
            "\t\tAttached SCSI devices:",
            "\t\t************************",
            f"\t\tHost Number: {sid + 4}\tState: running",
            f"\t\tscsi{sid + 4} Channel 00 Id 0 Lun: 1",
            f"\t\t\tAttached scsi disk sd{'cde'[sid - 1]}\t\tState: running",
        ]
    return "\n".join(out) + "\n"


def _cut(text: str, before: str) -> str:
    return text[: text.rindex(before)]


MALFORMED = {
    "targets without portals": lambda t: "".join(line + "\n" for line in t.splitlines() if "Portal" not in line),
    "header only": lambda t: "".join(t.splitlines(True)[:2]),
    "empty": lambda t: "",
    "last block cut before its devices": lambda t: _cut(t, "\t\t****"),
    "last block cut after its Target line": lambda t: _cut(t, "\tCurrent Portal"),
    "flush-left lines": lambda t: "".join(line.lstrip() + "\n" for line in t.splitlines()),
    "binary garbage": lambda t: "\x7fELF\x02\x01\x01\x00\x00\x00\n\x03\x00>\x00\x01\n",
    "a byte that is not UTF-8": lambda t: t.replace("openstack:volume-", "openstack:vol\udcffume-", 1),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_unreadable_output_gives_no_missing_session_finding(name):
    from osfsck.checks.volumes.missing_iscsi_session import MissingIscsiSession
    from tests.support.world import World, iqn_of

    w = World()
    u = w.instance(host="hv1")
    vids = [w.attached_volume(u, session=False, target_dev=f"vd{c}")[0] for c in "bcd"]
    full = _three_sessions(iqn_of(v) for v in vids)
    sink, st, _ = run(
        {"hv1": {"installed": True, "session": ran(out=MALFORMED[name](full)), "node": ran(21)}}, w.taken_at
    )
    out = MissingIscsiSession().evaluate(w.snapshot().replace_scopes(sink))
    assert out.findings == [] and [i.scope for i in out.inconclusive_list] == ["host:hv1"]
    assert st["host:hv1"].status == "partial" and "\n" not in st["host:hv1"].reason
    # the same sessions printed whole explain every volume; printed as "none" (exit 21), none
    for rc, text, findings in ((0, full, 0), (21, "", 3)):
        sink, _, _ = run({"hv1": {"installed": True, "session": ran(rc, out=text), "node": ran(21)}}, w.taken_at)
        assert len(MissingIscsiSession().evaluate(w.snapshot().replace_scopes(sink)).findings) == findings
