"""The lab's volumes, as written: Cinder's database, the cells' block device mappings, the
domains' disks (test-driver files, read with osfsck's own parser) and each host's iscsiadm
stand-in agree everywhere except where truth.json says they were broken."""

import json
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from osfsck.sources.iscsi.parse import parse_nodes, parse_sessions
from osfsck.sources.libvirt.mapping import parse_domain
from osfsck_lab import build, volumes


class Lab:
    def __init__(self, out: Path):
        self.out = out
        self.truth = json.loads((out / "truth.json").read_text())
        self.cinder = (
            self._rows("cinder", "SELECT * FROM volumes"),
            self._rows("cinder", "SELECT * FROM volume_attachment"),
        )
        cells = [p.stem for p in (out / "db").glob("nova_cell*.sqlite")]
        self.instances = {r["uuid"]: r for c in cells for r in self._rows(c, "SELECT * FROM instances")}
        self.bdms = [r for c in cells for r in self._rows(c, "SELECT * FROM block_device_mapping")]
        self.disks = {}  # (host, domain uuid) -> {serial: DomainVolume}
        for xml in (out / "hv").glob("*.xml"):
            for dom in ET.parse(xml).getroot().iterfind("domain"):
                d, vols = parse_domain(xml.stem, ET.tostring(dom, encoding="unicode"), 1, True)
                self.disks[(xml.stem, d.uuid)] = {v.serial: v for v in vols}
        self.sessions, self.nodes, self.devices = {}, {}, {}
        for script in (out / "hosts").glob("*/iscsi/iscsiadm"):
            host = script.parts[-3]
            parsed = parse_sessions(host, *_run(script, "-m", "session", "-P", "3"))
            self.sessions[host] = {s.target_iqn for s in parsed}
            # "/dev/sdX" -> (iqn, lun) of the session's disks
            self.devices[host] = {f"/dev/{d}": (s.target_iqn, lun) for s in parsed for lun, d in zip(s.luns, s.devices)}
            self.nodes[host] = {n.target_iqn for n in parse_nodes(host, *_run(script, "-m", "node"))}

    def _rows(self, db: str, sql: str) -> list[dict]:
        with sqlite3.connect(self.out / "db" / f"{db}.sqlite") as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(sql)]

    def faults(self, code: str) -> list[str]:
        return [f["subject"] for f in self.truth["faults"] if f["code"] == code]

    def volume(self, vid: str) -> dict:
        return next(v for v in self.cinder[0] if v["id"] == vid)

    def attachments_of(self, vid: str) -> list[dict]:
        return [a for a in self.cinder[1] if a["volume_id"] == vid]

    def live_bdms(self, instance_uuid: str) -> dict:
        return {b["volume_id"]: b for b in self.bdms if b["instance_uuid"] == instance_uuid and not b["deleted"]}


def _run(script: Path, *args: str) -> tuple[str, bool]:
    """(stdout, whether iscsiadm said there is none)."""
    p = subprocess.run([str(script), *args], capture_output=True, text=True, timeout=30)
    assert p.returncode in (0, 21), p.stderr
    return p.stdout, p.returncode == 21


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    out = tmp_path_factory.mktemp("lab") / "small"
    build.build(out, "small", seed=2, hv_mode="testfiles")
    yield Lab(out)
    build.stop(out)  # its DNS and OVN servers


def test_cinder_has_the_volumes_and_services(lab):
    vols, atts = lab.cinder
    assert len(vols) >= 30 and Counter(v["host"] for v in vols).keys() == {
        "cinder-lab@lvm#lvm",
        "cinder-lab@ceph#ceph",
        "cinder-lab@pure#pure",
    }
    assert {v["volume_type_id"] for v in vols} == {volumes.VOLUME_TYPE["id"]}
    assert sum(1 for a in atts if not a["deleted"] and a["attach_status"] == "attached") >= 20
    services = {(r["host"], r["binary"]) for r in lab._rows("cinder", "SELECT * FROM services")}
    assert services == {
        ("cinder-lab@lvm", "cinder-volume"),
        ("cinder-lab@ceph", "cinder-volume"),
        ("cinder-lab@pure", "cinder-volume"),
        ("cinder-lab", "cinder-scheduler"),
    }
    config = (lab.out / "osfsck.toml").read_text()
    assert '[cinder]\ndatabase = "sqlite:///db/cinder.sqlite"' in config and "iscsiadm = " in config


def test_each_attached_volume_is_in_all_five_places(lab):
    """Outside the faults and the near misses (migrations, attaches in progress)."""
    # the VL104 attachment, the VL201 and VL204 volumes
    broken = {s.split("/")[-1] for code in ("VL104", "VL201", "VL204") for s in lab.faults(code)}
    checked, shared = 0, set()
    for att in lab.cinder[1]:
        vol = lab.volume(att["volume_id"])
        inst = lab.instances.get(att["instance_uuid"])
        if (
            att["deleted"]
            or att["attach_status"] != "attached"
            or vol["migration_status"]
            or not inst
            or inst["deleted"]
            or inst["task_state"]
            or {vol["id"], att["id"]} & broken
        ):
            continue
        host = inst["host"]
        assert att["attached_host"] == host
        bdm = lab.live_bdms(inst["uuid"])[vol["id"]]
        assert bdm["connection_info"]
        if att["connection_info"] is None:
            # the legacy flow: the mapping names no attachment, Cinder's row has no connection
            assert bdm["attachment_id"] is None and att["connector"] is None
            checked += 1
            continue
        assert bdm["attachment_id"] == att["id"]
        disk = lab.disks[(host, inst["uuid"])][vol["id"]]
        assert "/dev/" + disk.target_dev == bdm["device_name"]
        info = json.loads(bdm["connection_info"])
        assert info["serial"] == vol["id"] and info["driver_volume_type"] == (
            "rbd" if "ceph" in vol["host"] else "iscsi"
        )
        # Cinder's copy is flattened, and it is the one Nova's was made from
        flat = json.loads(att["connection_info"])
        assert flat["attachment_id"] == att["id"] and flat.get("volume_id", vol["id"]) == vol["id"]  # Pure gives none
        assert {k: v for k, v in flat.items() if k not in ("attachment_id", "driver_volume_type")} == {
            k: v for k, v in info["data"].items() if k not in ("device_path", "multipath_id")
        }
        if "pure" in vol["host"]:
            # the array: its one target on every portal, this host's LUN under each session,
            # the domain on the multipath device
            assert "target_iqn" not in flat and set(flat["target_iqns"]) == {volumes.ARRAY_IQN}
            [lun] = set(flat["target_luns"])
            paths = [d for d, target in lab.devices[host].items() if target == (volumes.ARRAY_IQN, lun)]
            assert len(paths) == len(volumes.ARRAY_PORTALS) == len(flat["target_portals"])
            assert disk.source == info["data"]["device_path"] and disk.source.startswith("/dev/dm-")
            assert info["data"]["multipath_id"] == flat["wwn"]
            shared.add(host)
        elif info["driver_volume_type"] == "iscsi":
            # the disk is the device os-brick connected: LUN 1 of the volume's target, under its session
            assert (disk.disk_type, disk.source) == ("block", info["data"]["device_path"])
            assert lab.devices[host][disk.source] == (flat["target_iqn"], volumes.TGT_LUN)
            assert flat["target_iqn"] in lab.sessions[host] & lab.nodes[host]
        else:
            assert (disk.disk_type, disk.protocol, disk.source) == ("network", "rbd", volumes.rbd_name(vol["id"]))
        checked += 1
    assert checked >= 20 and len(shared) >= 2


def test_every_volume_check_has_one_fault_that_the_data_shows(lab):
    assert Counter(f["code"] for f in lab.truth["faults"] if f["code"].startswith("VL")) == {
        code: 1 for code in ("VL101", "VL102", "VL103", "VL104", "VL201", "VL202", "VL203", "VL204", "VL205")
    }
    [att_id] = lab.faults("VL101")
    att = next(a for a in lab.cinder[1] if a["id"] == att_id)
    assert (att["deleted"], att["attach_status"], lab.volume(att["volume_id"])["status"]) == (0, "attached", "in-use")
    assert lab.instances[att["instance_uuid"]]["deleted"] and not lab.live_bdms(att["instance_uuid"])
    assert volumes.iqn(att["volume_id"]) not in lab.sessions[att["attached_host"]]

    [bdm_uuid] = lab.faults("VL102")
    bdm = next(b for b in lab.bdms if b["uuid"] == bdm_uuid)
    assert not bdm["deleted"] and lab.volume(bdm["volume_id"])["deleted"]

    [vid] = lab.faults("VL103")
    assert (lab.volume(vid)["status"], lab.attachments_of(vid)) == ("creating", [])

    [att_id] = lab.faults("VL104")
    att = next(a for a in lab.cinder[1] if a["id"] == att_id)
    host = lab.instances[att["instance_uuid"]]["host"]
    assert att["attached_host"] != host and volumes.iqn(att["volume_id"]) in lab.sessions[host]

    for code, has_disk in (("VL201", False), ("VL204", True)):
        [subject] = lab.faults(code)
        uuid, vid = subject.split("/")
        host = lab.instances[uuid]["host"]
        assert vid in lab.live_bdms(uuid) and (vid in lab.disks[(host, uuid)]) == has_disk
    # VL204: the session went, the node record stayed
    assert volumes.iqn(vid) not in lab.sessions[host] and volumes.iqn(vid) in lab.nodes[host]

    [subject] = lab.faults("VL202")
    uuid, vid = subject.split("/")
    assert vid in lab.disks[(lab.instances[uuid]["host"], uuid)] and vid not in lab.live_bdms(uuid)
    assert lab.volume(vid)["status"] == "available"

    # VL205: the LUN's disks under both portals' sessions of a host that needs the array for
    # another volume; only a deleted attachment names the LUN
    [subject] = lab.faults("VL205")
    iqn, lun = subject.split("/lun-")
    holders = {h for h, devs in lab.devices.items() if (iqn, int(lun)) in devs.values()}
    [host] = [
        h
        for h in holders
        if sum(1 for t in lab.devices[h].values() if t == (iqn, int(lun))) == 2
        and any(
            json.loads(a["connection_info"] or "{}").get("target_luns", [None])[0] == int(lun)
            and a["attached_host"] == h
            and a["deleted"]
            for a in lab.cinder[1]
        )
    ]
    assert any(
        a["attached_host"] == host and not a["deleted"] and iqn in (a["connection_info"] or "") for a in lab.cinder[1]
    )

    [subject] = lab.faults("VL203")
    iqn = subject.split("@")[0]
    assert [h for h, targets in lab.sessions.items() if iqn in targets]
    vid = iqn.split(":volume-")[1]
    assert all(a["deleted"] for a in lab.attachments_of(vid))


def test_connection_info_is_stored_as_each_service_stores_it(lab):
    """Cinder: flattened with the attachment's id, "{}" for a reservation without a
    connector; Nova: nested again with the serial, nothing before os-brick connected."""
    for att in lab.cinder[1]:
        if att["attach_status"] == "reserved":
            assert (att["connection_info"], att["attached_host"], att["connector"], att["attach_mode"]) == (
                "{}",
                None,
                None,
                "null",
            )
            continue
        if att["connection_info"] is None:  # os-attach (the legacy flow) stores none
            continue
        flat = json.loads(att["connection_info"])
        assert "data" not in flat and flat["attachment_id"] == att["id"] and flat["enforce_multipath"] is False
        assert json.loads(att["connector"])["host"] == att["attached_host"]
    for bdm in lab.bdms:
        if bdm["connection_info"] is None:
            # the attach a minute old: Nova saves the connection after the driver attached it
            assert not bdm["deleted"] and lab.volume(bdm["volume_id"])["status"] == "attaching"
            continue
        info = json.loads(bdm["connection_info"])
        if bdm["attachment_id"] is None:  # the legacy flow: initialize_connection's answer
            assert set(info) == {"driver_volume_type", "data", "serial"}
            continue
        assert set(info) >= {"driver_volume_type", "data", "serial", "volume_id", "instance", "status"}
        assert "attachment_id" not in info["data"] and info["instance"] == bdm["instance_uuid"]
        assert info.get("multiattach", False) == bool(lab.volume(bdm["volume_id"])["multiattach"])
    # mid live migration: both hosts' attachments attached, the mapping already on the destination's
    [moving] = [
        v
        for v in lab.cinder[0]
        if not v["multiattach"]
        and len([a for a in lab.attachments_of(v["id"]) if not a["deleted"] and a["attach_status"] == "attached"]) == 2
    ]
    atts = {a["id"]: a for a in lab.attachments_of(moving["id"])}
    [bdm] = [b for b in lab.bdms if b["volume_id"] == moving["id"] and not b["deleted"]]
    dest = atts[bdm["attachment_id"]]["attached_host"]
    assert dest != lab.instances[bdm["instance_uuid"]]["host"] and moving["status"] == "in-use"
    assert json.loads(bdm["connection_info"])["data"]["device_path"] in lab.devices[dest]


def test_releases_before_2025_1_store_no_enforce_multipath():
    import datetime as dt

    cloud = build.spec("small", 2, dt.datetime(2026, 11, 24, 12, 0))
    volumes.for_release(cloud, "2024.1")
    rows = [a["connection_info"] for a in cloud.attachments] + [
        b["connection_info"] for bs in cloud.bdms.values() for b in bs
    ]
    assert rows and not any("enforce_multipath" in (r or "") for r in rows)
    assert any("target_iqn" in (r or "") for r in rows)


def test_the_near_misses_are_there(lab):
    vols = lab.cinder[0]
    assert any(
        v["multiattach"] and len([a for a in lab.attachments_of(v["id"]) if not a["deleted"]]) == 2 for v in vols
    )
    assert any(v["migration_status"] == "migrating" for v in vols)
    assert any(v["status"] == "reserved" for v in vols)
    assert any(b["boot_index"] == 0 and b["source_type"] == "image" and not b["deleted"] for b in lab.bdms)
    assert any(volumes.FOREIGN_TARGET[0] in targets for targets in lab.sessions.values())
    assert "multi-attach volume" in lab.truth["near_misses"]
