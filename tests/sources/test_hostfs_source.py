"""HostFolderSource: the host agent's `collect` reply -> InstanceDir facts and coverage."""

import datetime as dt
import os
import sys

from osfsck.clients.hostagent import HostUnreachable
from osfsck.config.settings import HostOverride, HypervisorSettings
from osfsck.model.facts.hypervisor import InstanceDir
from osfsck.model.snapshot import Snapshot
from osfsck.sources.hostfs import HostFolderSource
from tests.support.agent import FakeChannel

T0 = dt.datetime(2026, 1, 1)
UUID_A = "3f1b0a6e-9a47-4c62-8d0f-2a1c5e7b9d10"
UUID_B = "0b6e1b2c-1111-4c3a-9d2e-5f1a2b3c4d5e"


def agent_dir(uuid, suffix="", **extra):
    """One entry of the agent's `dirs`, as agent.op_collect writes it."""
    entry = {
        "name": uuid + suffix,
        "uuid": uuid,
        "suffix": suffix,
        "bytes": 4096 * 3,
        "apparent_bytes": 20 * 2**30,
        "files": 3,
        "mtime": 1767225600.5,
        "ctime": 1767225600.5,
        "inode": 1234,
        "disks": ["disk", "disk.config", "disk.info"],
    }
    entry.update(extra)
    return entry


def reply(storage="local", dirs=(), exists=True, path="/var/lib/nova/instances"):
    return {
        "hostname": "h",
        "instances_path": path,
        "exists": exists,
        "storage": storage,
        "dirs": list(dirs),
        "quarantine": [],
    }


def run(answers: dict, **settings):
    """Collect from hosts named by `answers` (host -> reply or exception)."""
    settings.setdefault("extra_hosts", tuple(answers))
    hv = HypervisorSettings(**settings)
    channels = {h: FakeChannel(a) for h, a in answers.items()}
    src = HostFolderSource(hv, channel_factory=lambda target: channels[target.name])
    sink = Snapshot(taken_at=T0)
    statuses = src.collect({InstanceDir}, Snapshot(taken_at=T0), sink)
    return sink, statuses, channels


def test_local_storage_maps_every_field():
    sink, statuses, channels = run({"hv1": reply(dirs=[agent_dir(UUID_A), agent_dir(UUID_B, "_resize")])})
    assert channels["hv1"].calls == [("collect", {"instances_path": "/var/lib/nova/instances"})]
    a, b = sorted(sink.of(InstanceDir), key=lambda d: d.name)[::-1]
    assert a == InstanceDir(
        host="hv1",
        storage="host:hv1",
        instances_path="/var/lib/nova/instances",
        name=UUID_A,
        uuid=UUID_A,
        suffix="",
        bytes=12288,
        apparent_bytes=20 * 2**30,
        files=3,
        disks=("disk", "disk.config", "disk.info"),
        mtime=dt.datetime(2026, 1, 1, 0, 0, 0, 500000),
        inode=1234,
    )
    assert a.mtime.tzinfo is None  # naive UTC, like every datetime in facts
    assert (b.name, b.suffix) == (UUID_B + "_resize", "_resize")
    assert sink.is_complete(InstanceDir, "host:hv1")
    assert [(s.scope, s.status) for s in statuses] == [("host:hv1", "ok")]


def test_network_storage_is_named_by_its_export():
    sink, _, _ = run(
        {
            "hv1": reply(storage="nfs4:filer:/export/nova", dirs=[agent_dir(UUID_A)]),
            "hv2": reply(storage="nfs4:filer:/export/nova", dirs=[agent_dir(UUID_A)]),
        }
    )
    assert {(d.host, d.storage) for d in sink.of(InstanceDir)} == {
        ("hv1", "nfs4:filer:/export/nova"),
        ("hv2", "nfs4:filer:/export/nova"),
    }


def test_operator_storage_override_wins():
    sink, _, _ = run(
        {"hv1": reply(dirs=[agent_dir(UUID_A)])},
        hosts={"hv1": HostOverride(storage="shared-a", instances_path="/srv/nova")},
    )
    (d,) = sink.of(InstanceDir)
    assert (d.storage, d.instances_path, d.path) == ("shared-a", "/srv/nova", f"/srv/nova/{UUID_A}")


def test_missing_instances_path_is_complete_and_empty():
    sink, statuses, _ = run({"hv1": reply(exists=False)})
    assert sink.of(InstanceDir) == []
    assert sink.is_complete(InstanceDir, "host:hv1")
    assert statuses[0].status == "ok"


def test_host_error_makes_the_host_partial():
    sink, statuses, _ = run(
        {
            "hv1": reply(dirs=[agent_dir(UUID_A)]),
            "hv2": HostUnreachable("hv2", "ssh: connect to host hv2 port 22: No route to host"),
        }
    )
    assert sink.is_complete(InstanceDir, "host:hv1")
    assert not sink.is_complete(InstanceDir, "host:hv2")
    assert sink.why_incomplete(InstanceDir, "host:hv2") == "hv2: ssh: connect to host hv2 port 22: No route to host"
    assert [s.status for s in statuses] == ["ok", "partial"]
    assert {d.host for d in sink.of(InstanceDir)} == {"hv1"}


def test_an_unreadable_folder_makes_the_host_partial_but_keeps_the_others():
    broken = {"name": UUID_B, "uuid": UUID_B, "suffix": "", "error": "PermissionError: [Errno 13] Permission denied"}
    sink, statuses, _ = run({"hv1": reply(dirs=[agent_dir(UUID_A), broken])})
    assert [d.uuid for d in sink.of(InstanceDir)] == [UUID_A]
    assert not sink.is_complete(InstanceDir, "host:hv1")
    assert sink.why_incomplete(InstanceDir, "host:hv1") == (
        f"hv1: cannot read /var/lib/nova/instances/{UUID_B}: PermissionError: [Errno 13] Permission denied"
    )


def test_a_reply_of_another_shape_is_partial_not_a_crash():
    sink, statuses, _ = run({"hv1": reply(dirs=[{"name": UUID_A}])})
    assert not sink.is_complete(InstanceDir, "host:hv1")
    assert "unexpected agent reply" in sink.why_incomplete(InstanceDir, "host:hv1")


def test_scopes_restrict_the_hosts_read():
    hv = HypervisorSettings(extra_hosts=("hv1", "hv2"))
    seen = []

    def factory(target):
        seen.append(target.name)
        return FakeChannel(reply())

    sink = Snapshot(taken_at=T0)
    HostFolderSource(hv, channel_factory=factory).collect(
        {InstanceDir}, Snapshot(taken_at=T0), sink, scopes={"host:hv2"}
    )
    assert seen == ["hv2"]
    assert sink.scopes(InstanceDir) == ["host:hv2"]


def test_real_agent_through_a_local_subprocess(tmp_path):
    """The real HostChannel and agent, run as `python -` on this machine."""
    base = tmp_path / "instances"
    folder = base / UUID_A
    folder.mkdir(parents=True)
    with open(folder / "disk", "wb") as f:
        f.write(b"x" * 8192)
    (folder / "console.log").write_text("boot\n")
    (base / "_base").mkdir()  # Nova's image cache: not an instance
    os.utime(folder / "disk", (1767225600, 1767225600))
    os.utime(folder / "console.log", (1767225600, 1767225600))
    os.utime(folder, (1767225600, 1767225600))

    hv = HypervisorSettings(
        extra_hosts=("localhost",), transport="local", python=sys.executable, instances_path=str(base), timeout=30.0
    )
    sink = Snapshot(taken_at=T0)
    statuses = HostFolderSource(hv).collect({InstanceDir}, Snapshot(taken_at=T0), sink)
    assert [s.status for s in statuses] == ["ok"], statuses
    (d,) = sink.of(InstanceDir)
    assert (d.host, d.name, d.uuid, d.suffix) == ("localhost", UUID_A, UUID_A, "")
    # a local disk here; "<fstype>:<export>" if the temp dir were on a network filesystem
    assert d.storage == "host:localhost" or not d.storage.startswith("host:")
    assert d.files == 2 and d.apparent_bytes == 8192 + 5
    assert d.disks == ("disk",)
    assert d.mtime == dt.datetime(2026, 1, 1)
    assert d.inode == folder.stat().st_ino


def test_reads_says_what_runs_on_the_hosts():
    (line,) = HostFolderSource(HypervisorSettings()).reads()
    assert "/var/lib/nova/instances" in line and "ssh" in line
