"""The small lab's volumes as osfsck reads them: Cinder and the cells from the databases,
the volume disks from the real libvirtd of each host (guests running with them), and the
sessions through each host's iscsiadm stand-in, whose mutating forms a repair will use.

Real components: the Cinder and Nova schemas built by their own migrations, one
unprivileged libvirtd per host with real TCG guests.  iSCSI is a stand-in (our machines
have no kernel iSCSI; see osfsck_lab/iscsiadm_standin.py), run as the agent runs it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from osfsck.model.facts.cinder import CinderAttachment, CinderVolume
from osfsck.model.facts.hypervisor import Domain, DomainVolume, IscsiSession
from osfsck.model.facts.nova import BlockDeviceMapping, Instance
from osfsck.model.snapshot import Snapshot
from osfsck.sources.connection_info import volume_target
from osfsck_lab import volumes

pytestmark = pytest.mark.integration


def osfsck(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "osfsck.cli.main", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def lab():
    # not tmp_path: pytest's folders are closed (0700) to the user the lab's libvirtd runs as
    base = Path(tempfile.mkdtemp(prefix="osfsck-test-"))
    base.chmod(0o755)
    out = base / "lab"
    p = osfsck("lab", "build", "--out", str(out), "--seed", "4")
    assert p.returncode == 0, p.stderr
    try:
        yield out
    finally:
        osfsck("lab", "stop", str(out))
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def snap(lab) -> Snapshot:
    path = lab / "snap.json.gz"
    p = osfsck("-c", str(lab / "osfsck.toml"), "collect", "-o", str(path))
    assert p.returncode == 0, p.stderr
    return Snapshot.read(str(path))


def faults(lab: Path, code: str) -> list[str]:
    return [f["subject"] for f in json.loads((lab / "truth.json").read_text())["faults"] if f["code"] == code]


def test_every_attached_volume_has_its_mapping_disk_and_session(lab, snap):
    # the VL104 attachment and the VL201 / VL204 volumes are broken on purpose
    broken = {s.split("/")[-1] for code in ("VL104", "VL201", "VL204") for s in faults(lab, code)}
    vols = {v.id: v for v in snap.of(CinderVolume)}
    instances = {i.uuid: i for i in snap.of(Instance) if not i.deleted}
    bdms = {(b.instance_uuid, b.volume_id): b for b in snap.of(BlockDeviceMapping)}
    disks = {(d.host, d.domain_uuid, d.serial): d for d in snap.of(DomainVolume)}
    running = {(d.host, d.uuid) for d in snap.of(Domain) if d.active}
    sessions = {(s.host, s.target_iqn) for s in snap.of(IscsiSession)}
    with sqlite3.connect(lab / "db" / "cinder.sqlite") as db:
        stored = dict(db.execute("SELECT id, connection_info FROM volume_attachment").fetchall())
    checked = set()
    for a in snap.of(CinderAttachment):
        inst = instances.get(a.instance_uuid)
        vol = vols[a.volume_id]
        if (
            a.deleted
            or a.attach_status != "attached"
            or inst is None
            or inst.task_state
            or vol.migration_status
            or {a.id, vol.id} & broken
        ):
            continue
        bdm = bdms[(inst.uuid, vol.id)]
        # a mapping of the legacy flow (attached before Queens) names no attachment, and
        # Cinder's row of it has no connection_info (the facts keep only their iSCSI paths)
        text = stored[a.id]
        assert bdm.attachment_id == (a.id if text else None) and a.attached_host == inst.host
        disk = disks[(inst.host, inst.uuid, vol.id)]
        assert "/dev/" + disk.target_dev == bdm.device_name
        assert (inst.host, inst.uuid) in running  # the guest started with its volume disks
        kind = volume_target(text).driver_volume_type if text else ("iscsi" if bdm.iscsi_paths else "rbd")
        if kind == "iscsi":
            assert bdm.iscsi_paths and all((inst.host, iqn) in sessions for _, iqn, _ in bdm.iscsi_paths)
            assert not text or a.iscsi_paths == bdm.iscsi_paths
        checked.add(kind)
    assert checked == {"iscsi", "rbd"}


def iscsiadm(lab: Path, host: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(lab / "hosts" / host / "iscsi" / "iscsiadm"), *args], capture_output=True, text=True, timeout=30
    )


def vl203(lab: Path) -> set[str]:
    p = osfsck("-c", str(lab / "osfsck.toml"), "check", "--select", "VL203", "--format", "json")
    return {f["subject"]["id"] for f in json.loads(p.stdout)["findings"]}


def test_logout_delete_new_login_on_a_lab_host(lab, snap):
    """What a repair of the leaked session does, and its undo: the check sees each step."""
    [leaked] = faults(lab, "VL203")
    iqn, portal = leaked.split("@")
    [host] = [s.host for s in snap.of(IscsiSession) if s.target_iqn == iqn]
    assert vl203(lab) == {leaked}

    out = iscsiadm(lab, host, "-m", "node", "-T", iqn, "-p", portal, "--logout")
    assert out.returncode == 0 and out.stdout.splitlines()[-1].endswith(
        f"portal: {portal.replace(':', ',')}] successful."
    )
    assert iscsiadm(lab, host, "-m", "node", "-T", iqn, "-p", portal, "--logout").returncode == 21
    assert iscsiadm(lab, host, "-m", "node", "-T", iqn, "-p", portal, "-o", "delete").returncode == 0
    assert iqn not in iscsiadm(lab, host, "-m", "node").stdout
    assert vl203(lab) == set()

    assert iscsiadm(lab, host, "-m", "node", "-T", iqn, "-p", portal, "-o", "new").returncode == 0
    assert iscsiadm(lab, host, "-m", "node", "-T", iqn, "-p", portal, "--login").returncode == 0
    assert f"node.name = {iqn}" in iscsiadm(lab, host, "-m", "node", "-T", iqn, "-p", portal).stdout
    assert vl203(lab) == {leaked}

    log = [json.loads(line) for line in (lab / "hosts" / host / "iscsi" / "iscsiadm.log").read_text().splitlines()]
    assert [(e["op"], e["target_iqn"], e["portal"]) for e in log] == [
        (op, iqn, volumes.ISCSI_PORTAL) for op in ("logout", "delete", "new", "login")
    ]
