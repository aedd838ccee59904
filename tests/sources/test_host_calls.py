"""HostCalls: one agent call per host for all the host-agent sources of a collect pass,
each op's failure its own source's; and the wiring that makes the sources share one."""

import datetime as dt
import os
import stat

import pytest

from osfsck.clients.hostagent import HostChannel, HostCommandError, HostUnreachable
from osfsck.config.settings import HypervisorSettings, Settings
from osfsck.engine import wiring
from osfsck.model.facts.hypervisor import InstanceDir, IscsiNode, IscsiSession, host_scope
from osfsck.model.snapshot import Snapshot
from osfsck.sources.host_agent import HostAgentSource, HostCalls
from osfsck.sources.hostfs import HostFolderSource
from osfsck.sources.iscsi.source import IscsiSource
from tests.support.agent import FakeChannel

T0 = dt.datetime(2026, 1, 1)
UUID = "3f1b0a6e-9a47-4c62-8d0f-2a1c5e7b9d10"
FOLDERS = {
    "hostname": "h",
    "instances_path": "/var/lib/nova/instances",
    "exists": True,
    "storage": "local",
    "dirs": [
        {
            "name": UUID,
            "uuid": UUID,
            "suffix": "",
            "bytes": 1,
            "apparent_bytes": 1,
            "files": 1,
            "mtime": 1767225600.0,
            "inode": 7,
            "disks": ["disk"],
        }
    ],
    "quarantine": [],
}
NO_ISCSI = {"installed": False}
HOSTS = ("hv1", "hv2")


def both(channels: dict, **settings):
    """HostFolderSource and IscsiSource sharing one HostCalls over `channels` (host -> FakeChannel)."""
    hv = HypervisorSettings(extra_hosts=tuple(channels), **settings)
    calls = HostCalls(hv, channel_factory=lambda t: channels[t.name])
    return HostFolderSource(hv, calls=calls), IscsiSource(hv, calls=calls)


def collect(sources):
    sink, statuses = Snapshot(taken_at=T0), []
    for src in sources:
        statuses += src.collect(set(src.provides), Snapshot(taken_at=T0), sink)
    return sink, {(s.source, s.scope): s for s in statuses}


def answers(folders=FOLDERS, iscsi=NO_ISCSI):
    return {"collect": folders, "iscsi": iscsi}


def test_both_sources_make_one_agent_call_per_host():
    channels = {h: FakeChannel(None, ops=answers()) for h in HOSTS}
    sink, st = collect(both(channels))
    for h in HOSTS:
        assert channels[h].batches == [["collect", "iscsi"]], h
        assert st["hostfs", host_scope(h)].status == "ok"
        assert st["iscsi", host_scope(h)].status == "ok"
    assert [d.host for d in sink.of(InstanceDir)] == list(HOSTS)
    assert sink.is_complete(IscsiSession, host_scope("hv1"))


def test_one_op_failing_makes_only_its_kinds_partial_on_that_host():
    refused = HostCommandError("hv1", "iscsi", "iscsiadm command '\"x': No closing quotation")
    channels = {
        "hv1": FakeChannel(None, ops=answers(iscsi=refused)),
        "hv2": FakeChannel(None, ops=answers()),
    }
    sink, st = collect(both(channels))
    assert st["iscsi", host_scope("hv1")].status == "partial"
    assert "No closing quotation" in st["iscsi", host_scope("hv1")].reason
    assert not sink.is_complete(IscsiSession, host_scope("hv1"))
    assert not sink.is_complete(IscsiNode, host_scope("hv1"))
    # the other op on that host, and every op on the other host, answered
    assert st["hostfs", host_scope("hv1")].status == "ok"
    assert sink.is_complete(InstanceDir, host_scope("hv1"))
    assert st["iscsi", host_scope("hv2")].status == "ok"
    assert [d.host for d in sink.of(InstanceDir)] == ["hv1", "hv2"]
    assert channels["hv1"].batches == [["collect", "iscsi"]]


def test_an_unreachable_host_is_partial_for_every_source_and_asked_once():
    channels = {
        "hv1": FakeChannel(HostUnreachable("hv1", "Connection refused")),
        "hv2": FakeChannel(None, ops=answers()),
    }
    sink, st = collect(both(channels))
    for name in ("hostfs", "iscsi"):
        assert st[name, host_scope("hv1")].status == "partial"
        assert st[name, host_scope("hv1")].reason == "hv1: Connection refused"
        assert st[name, host_scope("hv2")].status == "ok"
    assert channels["hv1"].batches == [["collect", "iscsi"]]  # not asked again for iSCSI


def test_answers_are_forgotten_once_taken():
    channels = {"hv1": FakeChannel(None, ops=answers())}
    folders, iscsi = both(channels)
    collect([folders])
    (host,) = folders.calls._hosts.values()
    assert list(host.answers) == ["iscsi"]  # kept for its source only
    collect([iscsi])
    assert host.answers == {}


def settings_with_hosts() -> Settings:
    return Settings(hypervisors=HypervisorSettings(extra_hosts=HOSTS))


def test_the_wiring_gives_both_sources_one_host_call():
    sources = wiring.build_sources(settings_with_hosts(), {InstanceDir, IscsiSession, IscsiNode})
    agents = [s for s in sources if isinstance(s, HostAgentSource)]
    assert sorted(s.name for s in agents) == ["hostfs", "iscsi"]
    assert agents[0].calls is agents[1].calls
    assert sorted(agents[0].calls._ops) == ["collect", "iscsi"]


def test_selecting_one_source_asks_only_its_op():
    (src,) = wiring.build_sources(settings_with_hosts(), {InstanceDir})
    channels = {h: FakeChannel(None, ops=answers()) for h in HOSTS}
    src.calls._factory = lambda t: channels[t.name]
    collect([src])
    assert [c.batches for c in channels.values()] == [[["collect"]], [["collect"]]]


def test_the_real_agent_answers_a_batch_op_by_op(tmp_path):
    """Through the real channel and agent (a local subprocess): one op refused, one answered."""
    (tmp_path / UUID).mkdir()
    ch = HostChannel("hv1", "local", python="python3", timeout=30)
    out = ch.batch({"collect": {"instances_path": str(tmp_path)}, "iscsi": {"iscsiadm": '"unbalanced'}})
    assert [d["name"] for d in out["collect"]["dirs"]] == [UUID]
    assert isinstance(out["iscsi"], HostCommandError)
    assert "No closing quotation" in out["iscsi"].message


def test_a_batch_runs_on_python36(tmp_path):
    """Old hypervisors run Python 3.6: the batch op is theirs too."""
    import shlex

    from tests.clients.test_hostagent import python36

    py36 = python36()
    if py36 is None:
        pytest.skip("no Python 3.6 here (python3.6 on PATH, or pyenv's)")
    ch = HostChannel("hv1", "local", python=shlex.quote(py36), timeout=30)
    out = ch.batch({"ping": {}, "collect": {"instances_path": str(tmp_path)}})
    assert out["ping"]["python"].startswith("3.6.")
    assert out["collect"]["exists"] is True


def test_a_batch_only_reads():
    ch = HostChannel("hv1", "inprocess")
    out = ch.batch({"quarantine": {"instances_path": "/nonexistent", "name": UUID, "inode": 1}, "ping": {}})
    assert isinstance(out["quarantine"], HostCommandError)
    assert "a batch only reads" in out["quarantine"].message
    assert "python" in out["ping"]


# -- one connection per host: the ssh command line and the control folder ---------------------------


def ssh_argv(hv: HypervisorSettings) -> tuple[list[str], HostCalls]:
    calls = HostCalls(hv)
    from osfsck.sources.hosts import HostTarget

    channel = calls._channel(HostTarget("hv1", "", "/x", "ssh", "hv1.example", None))
    return channel._argv("Zm9v"), calls


def test_ssh_calls_share_one_connection_through_a_private_control_folder():
    argv, calls = ssh_argv(HypervisorSettings(ssh_options=("-o", "ProxyJump=bastion"), ssh_control_persist=7))
    folder = calls.control.path
    assert folder is not None
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert os.stat(folder).st_uid == os.getuid()
    opts = argv[argv.index("ProxyJump=bastion") + 1 : argv.index("hv1.example")]
    # the operator's options come first: ssh takes an option's first value
    assert opts == [
        "-o",
        "ControlMaster=auto",
        "-o",
        f"ControlPath={folder}/%C",
        "-o",
        "ControlPersist=7s",
    ]
    calls.done(object())  # the last (here: no) source done: the folder goes
    assert not os.path.exists(folder)
    assert calls.control.options() == []  # and no later call makes it again


def test_the_folder_goes_when_the_last_source_is_done():
    hv = HypervisorSettings(extra_hosts=("hv1",))
    calls = HostCalls(hv)
    folders, iscsi = HostFolderSource(hv, calls=calls), IscsiSource(hv, calls=calls)
    path = calls.control._folder()
    calls.done(folders)
    assert os.path.isdir(path)  # iSCSI is still to ask
    calls.done(iscsi)
    assert not os.path.exists(path)


def test_multiplexing_can_be_turned_off():
    argv, calls = ssh_argv(HypervisorSettings(ssh_multiplex=False))
    assert calls.control is None
    assert not any(a.startswith("Control") for a in argv)


def test_no_folder_for_a_run_that_makes_no_ssh_call():
    hv = HypervisorSettings(extra_hosts=("hv1",), transport="inprocess")
    calls = HostCalls(hv)
    src = HostFolderSource(hv, calls=calls)
    collect([src])
    assert calls.control.path is None


def load(tmp_path, text):
    from osfsck.config.load import load_settings

    p = tmp_path / "osfsck.toml"
    p.write_text(text)
    return load_settings(str(p)).hypervisors


def test_the_multiplexing_keys_load(tmp_path):
    assert (load(tmp_path, "").ssh_multiplex, load(tmp_path, "").ssh_control_persist) == (True, 10.0)
    hv = load(tmp_path, '[hypervisors]\nssh_multiplex = false\nssh_control_persist = "1m"\n')
    assert (hv.ssh_multiplex, hv.ssh_control_persist) == (False, 60.0)


@pytest.mark.parametrize(
    "text, key",
    [
        ('[hypervisors]\nssh_multiplex = "yes"\n', "[hypervisors].ssh_multiplex"),
        ("[hypervisors]\nssh_control_persist = 0\n", "[hypervisors].ssh_control_persist"),
    ],
)
def test_a_bad_multiplexing_value_names_its_key(tmp_path, text, key):
    from osfsck.config.settings import ConfigError

    with pytest.raises(ConfigError) as e:
        load(tmp_path, text)
    assert key in str(e.value) and "\n" not in str(e.value)
