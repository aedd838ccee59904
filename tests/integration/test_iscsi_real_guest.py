"""A real iSCSI volume data path, end to end (issue 3): a tgt target on loopback serves a
LUN to a real (TCG) guest through QEMU's own iSCSI client, so the domain XML, the target's
session list and Cinder's connection info all come from running software.

tgtd exports the volume the way Cinder's LVM driver names it with its tgt helper
(`iqn.2010-10.org.openstack:volume-<id>`, the data on LUN 1, LUN 0 being tgt's controller);
a lab libvirtd runs the guest, whose disk carries the volume id as `<serial>`, as Nova
writes it; osfsck's LibvirtSource reads that running domain, and the volume checks judge
it against Nova's and Cinder's records.

How the disk is written: `<disk type='network'><source protocol='iscsi' name='IQN/LUN'>
<host name=... port=.../>`, QEMU being the initiator.  Nova no longer writes iSCSI volumes
this way.  Its QEMU-native iSCSI path (LibvirtNetVolumeDriver given `iscsi`) came in Kilo
and could only be chosen with `[libvirt] volume_drivers`; Liberty removed that option,
which left the path unreachable, and Train removed its code (nova bug 1501447).  Nova's
libvirt driver maps `iscsi` to LibvirtISCSIVolumeDriver whatever `volume_use_multipath`
says: os-brick logs the host's open-iscsi in and the guest gets `<disk type='block'>` on
`/dev/disk/by-path/ip-...-iscsi-IQN-lun-N` (or a multipath device).  That needs the
kernel's iSCSI initiator, which this machine lacks (no SCSI, no iscsi_tcp, no module
loading), so QEMU's libiscsi stands in for the host's initiator.  What the checks rely
on is the same either way: the `<serial>` key (VL201 and VL202 never look at the disk's
type), the target's real IQN, portal and LUN, and a target-side session that lives
exactly as long as the guest.  `type='network'` disks are also how Nova writes RBD
volumes today, so the network source parse is exercised on real libvirt XML too.

tgtd runs as root (it serves a file and takes /var/run/tgtd/socket.N); it ignores SIGTERM
and is stopped through its private control port (research/test-components §6).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import libvirt  # a missing libvirt-python must fail this test, not skip it
import pytest

from osfsck.checks.volumes.unexpected_volume_in_domain import UnexpectedVolumeInDomain
from osfsck.checks.volumes.volume_missing_from_domain import VolumeMissingFromDomain
from osfsck.config.settings import HostOverride, HypervisorSettings
from osfsck.model.facts.hypervisor import Domain, DomainVolume
from osfsck.model.snapshot import Snapshot
from osfsck.sources.connection_info import volume_target
from osfsck.sources.libvirt import LibvirtSource
from osfsck_lab.hypervisors import LabError, define, domain_xml, start_host, stop_host
from tests.support.world import TAKEN_AT, World, iqn_of

pytestmark = pytest.mark.integration

INSTANCE = "15c51000-0000-4000-8000-0000000000a1"
VOLUME = "15c51000-0000-4000-8000-0000000000b2"
IQN = iqn_of(VOLUME)
LUN = 1
TID = 1
HOST = "hv1"
# QEMU's libiscsi names itself after the guest's uuid (block/iscsi.c get_initiator_name)
QEMU_INITIATOR = f"iqn.2008-11.org.linux-kvm:{INSTANCE}"
# other labs may run on this machine: our guest's name must not match theirs
NAME = f"instance-{uuid.uuid4().hex[:8]}"
_SETTLE = 5.0
TGT_RUN = Path("/var/run/tgtd")


# -- the target: tgtd on loopback ---------------------------------------------------------


def _sbin(program: str) -> str | None:
    return shutil.which(program, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


@dataclass
class Tgt:
    """A running tgtd with a private control port and one iSCSI portal on loopback."""

    proc: subprocess.Popen
    control: int
    port: int
    log: Path

    def adm(self, *args: str) -> str:
        argv = [_sbin("tgtadm"), "-C", str(self.control), *args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[1:])} -> exit {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    def targets(self) -> dict[str, dict]:
        """`--op show --mode target`, by IQN: tid, I_T nexus initiators with their
        addresses, and each LUN's type."""
        out: dict[str, dict] = {}
        cur = section = nexus = lun = None
        for line in self.adm("--lld", "iscsi", "--op", "show", "--mode", "target").splitlines():
            if m := re.match(r"Target (\d+): (\S+)$", line):
                cur = out[m[2]] = {"tid": int(m[1]), "nexus": {}, "luns": {}}
                continue
            text = line.strip()
            if text.endswith(" information:"):
                section = text
            elif section == "I_T nexus information:" and (m := re.match(r"Initiator: (\S+)", text)):
                nexus = cur["nexus"].setdefault(m[1], [])
            elif section == "I_T nexus information:" and (m := re.match(r"IP Address: (\S+)", text)):
                nexus.append(m[1])
            elif section == "LUN information:" and (m := re.match(r"LUN: (\d+)$", text)):
                lun = int(m[1])
            elif section == "LUN information:" and (m := re.match(r"Type: (\S+)", text)):
                cur["luns"][lun] = m[1]
        return out

    def portals(self) -> list[str]:
        # "Portal: 127.0.0.1:3260,1" -> "127.0.0.1:3260"
        shown = self.adm("--lld", "iscsi", "--op", "show", "--mode", "portal")
        return [m[1] for m in re.finditer(r"Portal: (\S+),\d+", shown)]

    def stop(self) -> None:
        """tgtd ignores SIGTERM: take it offline, drop its targets, then the system."""
        try:
            self.adm("--op", "update", "--mode", "sys", "--name", "State", "-v", "offline")
            for t in self.targets().values():
                self.adm("--lld", "iscsi", "--op", "delete", "--mode", "target", "--tid", str(t["tid"]), "--force")
            self.adm("--op", "delete", "--mode", "system")
            self.proc.wait(timeout=_SETTLE)
        except (RuntimeError, subprocess.TimeoutExpired):
            self.proc.kill()  # by PID: our own child
            self.proc.wait()
        # tgtd leaves its socket and lock file behind
        for leftover in (TGT_RUN / f"socket.{self.control}", TGT_RUN / f"socket.{self.control}.lock"):
            leftover.unlink(missing_ok=True)


def _loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_tgtd(folder: Path) -> Tgt:
    tgtd = _sbin("tgtd")
    if tgtd is None or _sbin("tgtadm") is None:
        pytest.fail("tgtd and tgtadm are not installed: apt-get install --no-install-recommends tgt")
    for attempt in range(5):
        # the control port (0-32767) names tgtd's lock and socket, /var/run/tgtd/socket.N:
        # one that another tgtd on this machine holds makes ours exit at once
        control = random.randrange(1000, 32768)
        port = _loopback_port()
        log = folder / f"tgtd-{attempt}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [tgtd, "-f", "-C", str(control), "--iscsi", f"portal=127.0.0.1:{port}"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        tgt = Tgt(proc, control, port, log)
        deadline = time.monotonic() + _SETTLE
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                if f"127.0.0.1:{port}" in tgt.portals():
                    return tgt
            except RuntimeError:
                pass  # control socket not there yet
            time.sleep(0.02)
        if proc.poll() is None:
            tgt.stop()
            pytest.fail(f"tgtd did not come up within {_SETTLE:g} s:\n{log.read_text()}")
        if "another tgtd" not in log.read_text():
            pytest.fail(f"tgtd exited with status {proc.returncode}:\n{log.read_text()}")
    pytest.fail("five random tgtd control ports were all taken")


@pytest.fixture
def target(tmp_path):
    """tgtd exporting VOLUME as Cinder's LVM driver does: LUN 1 of its own target, a
    small sparse file standing in for the logical volume, open to 127.0.0.1 only."""
    if os.geteuid() != 0:
        pytest.skip("tgtd runs as root here (tests run as root in CI)")
    tgt = _start_tgtd(tmp_path)
    try:
        backing = tmp_path / f"volume-{VOLUME}"
        with open(backing, "wb") as f:
            f.truncate(8 << 20)
        tgt.adm("--lld", "iscsi", "--op", "new", "--mode", "target", "--tid", str(TID), "-T", IQN)
        tgt.adm(
            "--lld",
            "iscsi",
            "--op",
            "new",
            "--mode",
            "logicalunit",
            "--tid",
            str(TID),
            "--lun",
            str(LUN),
            "-b",
            str(backing),
        )
        tgt.adm("--lld", "iscsi", "--op", "bind", "--mode", "target", "--tid", str(TID), "-I", "127.0.0.1")
        yield tgt
    finally:
        tgt.stop()
    assert tgt.proc.returncode is not None


@pytest.fixture
def hv1():
    """A lab compute host (session-mode libvirtd) in a folder its unprivileged user can
    reach (pytest's tmp_path, under /tmp/pytest-of-root, is closed to it)."""
    folder = Path(tempfile.mkdtemp(prefix="osfsck-iscsi-test-"))
    folder.chmod(0o711)
    host = None
    try:
        host = start_host(folder / HOST, None)
        yield host
    finally:
        if host is not None:
            stop_host(host)
        shutil.rmtree(folder, ignore_errors=True)


# -- the guest, Nova's and Cinder's records -----------------------------------------------


def guest_xml(port: int) -> str:
    """Nova's metadata and the volume as a QEMU-native iSCSI disk with its id as serial."""
    disk = (
        "    <disk type='network' device='disk'><driver name='qemu' type='raw'/>"
        f"<source protocol='iscsi' name='{IQN}/{LUN}'><host name='127.0.0.1' port='{port}'/></source>"
        f"<target dev='vdb' bus='virtio'/><serial>{VOLUME}</serial></disk>\n"
    )
    xml = domain_xml(NAME, INSTANCE, nova={"name": "db-1", "project_id": "project-a", "user_id": "u-1"})
    head, tail = xml.split("  </devices>\n")
    return f"{head}{disk}  </devices>\n{tail}"


def cinder_connection_info(tgt: Tgt) -> str:
    """What Cinder's LVM/tgt driver returns from initialize_connection (and Nova keeps in
    the BDM), filled in from what the running target shows; no CHAP keys, as the target
    has no account."""
    (portal,) = tgt.portals()
    ((iqn, shown),) = tgt.targets().items()
    (lun,) = [n for n, kind in shown["luns"].items() if kind == "disk"]
    return json.dumps(
        {
            "driver_volume_type": "iscsi",
            "serial": VOLUME,
            "data": {
                "target_discovered": False,
                "target_iqn": iqn,
                "target_portal": portal,
                "target_lun": lun,
                "volume_id": VOLUME,
                "encrypted": False,
            },
        }
    )


def nova_and_cinder(conn: str, *, bdm: bool) -> Snapshot:
    """Nova's and Cinder's records: the instance on hv1 and its volume, in-use and attached
    in Cinder; with `bdm`, Nova's block device mapping of it too."""
    w = World()
    w.instance(INSTANCE, host=HOST)
    w.volume(VOLUME, status="in-use")
    aid = w.attachment(VOLUME, INSTANCE, host=HOST, conn=conn)
    if bdm:
        w.bdm(INSTANCE, VOLUME, attachment_id=aid, conn=conn)
    return w.snapshot()


def read_host(host, known: Snapshot) -> Snapshot:
    """The host's domains and volume disks as osfsck reads them: LibvirtSource over its own
    read-only connection, for the hosts Nova lists."""
    settings = HypervisorSettings(hosts={HOST: HostOverride(uri=host.uri)}, timeout=30.0)
    sink = Snapshot(taken_at=TAKEN_AT)
    (status,) = LibvirtSource(settings).collect({Domain, DomainVolume}, known, sink)
    assert status.status == "ok", status
    return sink


def libvirt_disk(uri: str) -> ET.Element:
    """The volume's <disk> in the running domain's live XML."""
    conn = libvirt.openReadOnly(uri)
    try:
        xml = conn.lookupByUUIDString(INSTANCE).XMLDesc(0)
    finally:
        conn.close()
    (disk,) = [d for d in ET.fromstring(xml).iterfind("devices/disk") if d.findtext("serial") == VOLUME]
    return disk


def sessions_of(tgt: Tgt) -> dict:
    return tgt.targets()[IQN]["nexus"]


# -- the test -----------------------------------------------------------------------------


def test_real_iscsi_volume_in_a_running_guest(target, hv1):
    t0 = time.monotonic()
    assert sessions_of(target) == {}, "no initiator before the guest starts"
    try:
        define(hv1.uri, guest_xml(target.port), start=True)
    except LabError as e:
        pytest.fail(
            f"{e} (QEMU's iSCSI client is in qemu-block-extra: apt-get install "
            "--no-install-recommends qemu-block-extra)"
        )
    started = time.monotonic() - t0

    # (b) the target sees QEMU's own initiator, named after the instance, from loopback
    assert sessions_of(target) == {QEMU_INITIATOR: ["127.0.0.1"]}

    # (c) Cinder's connection info, built from the running target, names what the domain uses
    conn = cinder_connection_info(target)
    vt = volume_target(conn)
    disk = libvirt_disk(hv1.uri)
    src = disk.find("source")
    assert (vt.driver_volume_type, vt.target_iqn, vt.target_lun, vt.iqns) == ("iscsi", IQN, LUN, (IQN,))
    assert src.get("name") == f"{vt.target_iqn}/{vt.target_lun}"
    assert vt.target_portal == "{name}:{port}".format(**src.find("host").attrib) == f"127.0.0.1:{target.port}"

    # (a) osfsck's LibvirtSource reads the running domain and its volume disk
    cloud = nova_and_cinder(conn, bdm=True)
    real = read_host(hv1, cloud)
    (dom,) = real.of(Domain)
    assert (dom.host, dom.uuid, dom.name, dom.active, dom.state, dom.nova_ns) == (HOST, INSTANCE, NAME, True, 1, "1.1")
    (vol,) = real.of(DomainVolume)
    assert vol == DomainVolume(HOST, INSTANCE, VOLUME, "network", "iscsi", f"{IQN}/{LUN}", "vdb")
    assert vol.source.rsplit("/", 1)[0] == vt.target_iqn

    # (d) the volume checks on the real disk plus Nova's and Cinder's records
    snap = cloud.replace_scopes(real)
    for check in (VolumeMissingFromDomain, UnexpectedVolumeInDomain):
        out = check(None).evaluate(snap)
        assert (out.findings, out.inconclusive_list, out.examined) == ([], [], 1), check.code
    # Nova's mapping is gone (a detach recorded only in Nova), the real disk stays
    snap = nova_and_cinder(conn, bdm=False).replace_scopes(real)
    assert VolumeMissingFromDomain(None).evaluate(snap).findings == []
    out = UnexpectedVolumeInDomain(None).evaluate(snap)
    (f,) = out.findings
    assert (f.code, f.subject.id, f.subject.scope) == ("VL202", f"{INSTANCE}/{VOLUME}", f"host:{HOST}")
    assert f.evidence["disk"] == vol._asdict() and "Cinder shows it in-use" in f.message

    # (b) destroying the guest ends its session on the target
    lv = libvirt.open(hv1.uri)
    try:
        lv.lookupByUUIDString(INSTANCE).destroy()
    finally:
        lv.close()
    deadline = time.monotonic() + _SETTLE
    while sessions_of(target) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sessions_of(target) == {}
    assert started < 15, f"the guest took {started:.1f}s to start on its iSCSI disk"
