"""Lab hypervisors: real session-mode libvirtd daemons with real (TCG) QEMU guests.

Proves what the lab relies on: domain state lives in the daemon, not in a connection, so
separate processes (check, repair, check) see each other's changes; and stopping a host
leaves no libvirtd or qemu process behind.
"""

import datetime as dt
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import libvirt  # a missing libvirt-python must fail this test, not skip it
import pytest

from osfsck.config.settings import HostOverride, HypervisorSettings
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.snapshot import Snapshot
from osfsck.sources.libvirt import LibvirtSource
from osfsck_lab.hypervisors import define, domain_xml, hand_over, is_running, start_host, stop_host
from tests.support.leftovers import leftovers

pytestmark = pytest.mark.integration

UUID_A = "a0000000-0000-4000-8000-00000000000a"
UUID_B = "b0000000-0000-4000-8000-00000000000b"
UUID_C = "c0000000-0000-4000-8000-00000000000c"
# other labs may run on this machine: our guests' names must not match theirs
TOKEN = uuid.uuid4().hex[:8]
NAME_A, NAME_B = f"instance-{TOKEN}a", f"instance-{TOKEN}b"


@pytest.fixture
def lab_dir():
    """A folder the lab's unprivileged daemon user can reach.

    Not pytest's tmp_path: as root that lives under /tmp/pytest-of-root (mode 0700), which
    the daemon's user (osfsck-lab) cannot enter.
    """
    if shutil.which("libvirtd", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") is None:
        pytest.fail("libvirtd is not installed: apt-get install --no-install-recommends libvirt-daemon qemu-system-x86")
    path = Path(tempfile.mkdtemp(prefix="osfsck-lab-test-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def runtime_root(uri: str) -> str:
    # qemu+unix:///session?socket=<root>/run/libvirt/libvirt-sock -> <root>
    return uri.split("socket=", 1)[1].rsplit("/run/libvirt/libvirt-sock", 1)[0]


def list_domains(hosts) -> tuple[dict, Snapshot]:
    """Read the hosts through LibvirtSource: a new read-only connection per host."""
    settings = HypervisorSettings(hosts={h.name: HostOverride(uri=h.uri) for h in hosts}, timeout=30.0)
    sink = Snapshot(taken_at=dt.datetime(2026, 1, 1))
    LibvirtSource(settings).collect({Domain}, Snapshot(taken_at=dt.datetime(2026, 1, 1)), sink)
    return {d.uuid: d for d in sink.of(Domain)}, sink


def test_domains_outlive_connections_and_stop_leaves_nothing(lab_dir):
    # hv1's folder is too deep for libvirt's unix sockets (as pytest's tmp_path often is):
    # the lab must reach it through a short runtime folder, or its guest could not start
    hv1_dir = lab_dir / ("deep-" + "d" * 60) / "hv1"
    t0 = time.monotonic()
    hv1 = start_host(hv1_dir, None)
    hv2 = start_host(lab_dir / "hv2", None)
    started = time.monotonic() - t0
    assert not runtime_root(hv1.uri).startswith(str(lab_dir))
    assert runtime_root(hv2.uri) == str(lab_dir / "hv2")
    markers = [str(lab_dir)] + [runtime_root(h.uri) for h in (hv1, hv2)]
    pids = [int(h.pidfile.read_text().split()[0]) for h in (hv1, hv2)]
    try:
        assert is_running(hv1.pidfile) and is_running(hv2.pidfile)
        assert start_host(hv1_dir, None) == hv1  # already running: same host

        disk = hv1_dir / "instances" / UUID_A / "disk"
        disk.parent.mkdir(parents=True)
        with open(disk, "wb") as f:
            f.truncate(1 << 20)  # sparse, nothing bootable
        hand_over(hv1, disk.parent, disk)
        nova = {"name": "web-1", "project_id": "p-1", "user_id": "u-1", "flavor": "m1.nano"}
        define(hv1.uri, domain_xml(NAME_A, UUID_A, nova=nova, disks=[str(disk)]), start=True)
        define(hv1.uri, domain_xml(NAME_B, UUID_B, nova={**nova, "name": "web-2"}))
        define(hv2.uri, domain_xml("debug-vm", UUID_C, nova=None, memory_mb=16))
        assert any(f"guest={NAME_A}," in p for p in leftovers(*markers)), "the guest's qemu is not running"

        # a second connection (LibvirtSource's own) sees what the first one defined
        seen, sink = list_domains([hv1, hv2])
        assert sorted(seen) == [UUID_A, UUID_B, UUID_C]
        assert (seen[UUID_A].host, seen[UUID_A].active, seen[UUID_A].state) == ("hv1", True, 1)
        assert (seen[UUID_B].active, seen[UUID_B].state) == (False, 5)
        assert (seen[UUID_A].nova_ns, seen[UUID_A].nova_name, seen[UUID_A].nova_project) == ("1.1", "web-1", "p-1")
        assert seen[UUID_A].disks == (str(disk),)
        assert (seen[UUID_C].nova_ns, seen[UUID_C].memory_mb) == (None, 16)
        assert sink.is_complete(Domain, "host:hv1") and sink.is_complete(Domain, "host:hv2")

        # undefine through a third connection, then look again through a fourth
        conn = libvirt.open(hv1.uri)
        try:
            conn.lookupByUUIDString(UUID_B).undefine()
        finally:
            conn.close()
        seen, _ = list_domains([hv1, hv2])
        assert sorted(seen) == [UUID_A, UUID_C]

        # definitions are files under the host's folder: they survive a daemon restart
        stop_host(hv2)
        assert not is_running(hv2.pidfile)
        hv2 = start_host(lab_dir / "hv2", None)
        pids.append(int(hv2.pidfile.read_text().split()[0]))
        seen, _ = list_domains([hv2])
        assert list(seen) == [UUID_C] and not seen[UUID_C].active
    finally:
        stop_host(hv1)
        stop_host(hv2)

    assert not is_running(hv1.pidfile) and not is_running(hv2.pidfile)
    assert all(
        not Path(f"/proc/{pid}").exists()
        or "libvirtd" not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        for pid in pids
    )
    assert leftovers(*markers) == []
    assert not Path(runtime_root(hv1.uri)).exists()  # the short runtime folder is removed
    stop_host(hv1.pidfile)  # idempotent, also from just the pidfile
    assert started < 10, f"two lab hosts took {started:.1f}s to start"


def test_stop_ends_a_daemon_whose_pidfile_is_lost_and_its_guest(lab_dir):
    # a libvirtd no pidfile names (not written yet, or removed) is found by the lab's
    # marker in its environment; its guest by the daemon's folder in its arguments
    host = start_host(lab_dir / "hv1", None)
    define(host.uri, domain_xml(NAME_A, UUID_A, nova=None), start=True)
    assert any(f"guest={NAME_A}," in p for p in leftovers(lab_dir))
    host.pidfile.unlink()
    assert not is_running(host.pidfile)
    stop_host(host)
    assert leftovers(lab_dir) == []
