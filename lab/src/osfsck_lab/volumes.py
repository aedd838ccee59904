"""Volumes in a lab cloud: Cinder's rows, Nova's block device mappings, the volume disks of
the domains and the iSCSI sessions of the hosts.

`populate` makes them consistent: each attached volume has a Cinder attachment on its
instance's host, a live mapping, a disk with its serial in the instance's domain, and (for
iSCSI) a session and node record on that host; RBD volumes have no session.  `inject`
breaks them the ways the volume checks detect (VL1xx, VL2xx), and `near_misses` adds the
legitimate states those checks must leave alone.

Rows are written as the services write them (docs/write-paths.md, "Volumes", has the
writer of each column): Cinder's volume_attachment.connection_info is the driver's answer
flattened, with the attachment's id (VolumeManager._connection_create), "{}" for a
reservation made without a connector (API.attachment_create); Nova's BDM keeps it nested
again (nova/volume/cinder.py _translate_attachment_ref) with the volume id as `serial` and
the device os-brick connected in `data.device_path` (/dev/sdX since os-brick 1.14), which
is also the domain's `<source dev>`; soft deletes as each service does them.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import zlib

from osfsck.model.releases import at_least
from osfsck_lab import iscsiadm_standin as iscsi
from osfsck_lab.cloud import Cloud, VolumeDisk, threshold
from osfsck_lab.profiles import Profile

ISCSI_PORTAL = "192.0.2.10:3260"
ENFORCE_MULTIPATH = "2025.1"  # the first release whose cinder puts enforce_multipath in connection_info
# the first whose Pure driver gives its LUNs' addressing mode (cinder 22.3.0, backport of
# dad485ea6 "Pure: Report SAM-2 addressing mode for LUNs"; 21.3.2, Zed's, has none)
ARRAY_ADDRESSING_MODE = "2023.1"
TGT_LUN = 1  # tgtadm exports the volume as LUN 1: LUN 0 is the target's controller
RBD_MONITOR = ("192.0.2.20", "6789")
RBD_POOL = "volumes"
RBD_SECRET_UUID = "b1d0c3f2-5a1e-4c6b-9d0e-2f3a4b5c6d7e"  # libvirt's secret for client.cinder
CINDER_HOST = "cinder-lab"
BACKENDS = {"iscsi": "lvm", "rbd": "ceph", "array": "pure"}  # cinder-volume backend (and pool) per kind
# an array with one target for all its volumes and two portals (Pure FlashArray): a LUN per
# volume and host, multipath
ARRAY_IQN = "iqn.2010-06.com.purestorage:flasharray.1f2e3d4c5b6a7988"
ARRAY_PORTALS = ("203.0.113.11:3260", "203.0.113.12:3260")
# Cinder's default type since Train; volumes.volume_type_id is NOT NULL
VOLUME_TYPE = {
    "id": "5d2c9a40-0c1e-4b7a-8f3d-6e5f4a3b2c1d",
    "name": "__DEFAULT__",
    "description": "Default Volume Type",
    "is_public": 1,
    "deleted": 0,
}
# a host's own iSCSI, not OpenStack's (a backup LUN): must never be reported
FOREIGN_TARGET = ("iqn.2004-04.com.example:backup-lun", "192.0.2.99:3260")

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


# -- names ------------------------------------------------------------------------------


def iqn(volume_id: str) -> str:
    """The target Cinder's LVM driver (tgt or LIO) exports one volume as."""
    return f"iqn.2010-10.org.openstack:volume-{volume_id}"


def rbd_name(volume_id: str) -> str:
    return f"{RBD_POOL}/volume-{volume_id}"


def backend(kind: str) -> str:
    return f"{CINDER_HOST}@{BACKENDS[kind]}"


def session_subject(volume_id: str) -> str:
    """How the checks name a session: "<target_iqn>@<portal>"."""
    return f"{iqn(volume_id)}@{ISCSI_PORTAL}"


def wwn(volume_id: str) -> str:
    """The SCSI WWN a Pure volume has ("3624a9370" + its serial), its multipath id."""
    return "3624a9370" + volume_id.replace("-", "")[:24]


def array_lun(c: Cloud, host: str, vol: dict) -> int:
    """The LUN the array gives `vol` when it connects it to `host` (one per host, from 1)."""
    luns = vol.setdefault("_luns", {})
    if host not in luns:
        luns[host] = c.next_id(f"lun:{host}")
    return luns[host]


# -- rows -------------------------------------------------------------------------------


def _cinder_connection(c: Cloud, kind: str, vid: str) -> dict:
    """What the driver's initialize_connection answers, with what VolumeManager.
    _parse_connection_options adds: LVM's target (ISCSITarget._get_iscsi_properties, CHAP
    from provider_auth), RBDDriver's."""
    if kind == "iscsi":
        data = {
            "target_discovered": False,
            "target_portal": ISCSI_PORTAL,
            "target_iqn": iqn(vid),
            "target_lun": TGT_LUN,
            "volume_id": vid,
            "auth_method": "CHAP",
            "auth_username": f"{c.rng.getrandbits(64):016x}",
            "auth_password": f"{c.rng.getrandbits(64):016x}",
            "encrypted": False,
        }
    else:
        data = {
            "name": rbd_name(vid),
            "hosts": [RBD_MONITOR[0]],
            "ports": [RBD_MONITOR[1]],
            "cluster_name": "ceph",
            "auth_enabled": True,
            "auth_username": "cinder",
            "secret_type": "ceph",
            "secret_uuid": RBD_SECRET_UUID,
            "volume_id": vid,
            "discard": True,
        }
    data.update(qos_specs=None, access_mode="rw")
    data.setdefault("encrypted", False)
    data["cacheable"] = False
    return {"driver_volume_type": kind, "data": data}


def _answer(c: Cloud, vol: dict, host: str | None) -> dict:
    """The driver's answer for `host`.  Pure's (PureISCSIDriver.initialize_connection,
    _build_connection_properties) depends on it: the LUN the array gave this host, every
    portal in the lists and no single target_iqn/target_portal/target_lun."""
    if vol["_kind"] != "array":
        return json.loads(vol["_connection"])
    lun = array_lun(c, host, vol)
    data = {
        "target_discovered": False,
        "discard": True,
        "addressing_mode": "SAM2",
        "target_luns": [lun] * len(ARRAY_PORTALS),
        "target_iqns": [ARRAY_IQN] * len(ARRAY_PORTALS),
        "target_portals": list(ARRAY_PORTALS),
        "wwn": wwn(vol["id"]),
        "qos_specs": None,
        "access_mode": "rw",
        "encrypted": False,
        "cacheable": False,
    }
    return {"driver_volume_type": "iscsi", "data": data}


def _stored_connection(c: Cloud, vol: dict, host: str | None, attachment_id: str) -> str:
    """volume_attachment.connection_info: the driver's answer without its "data" level,
    the attachment's id, and (Cinder 26.0.0, 2025.1, on) the connector's enforce_multipath;
    `for_release` takes that key out again for older releases."""
    info = dict(_answer(c, vol, host))
    flat = {**info.pop("data"), **info, "attachment_id": attachment_id, "enforce_multipath": False}
    return json.dumps(flat)


def _nova_connection(
    att: dict, row: dict, device_path: str | None, multiattach: bool, multipath_id: str | None = None
) -> str:
    """block_device_mapping.connection_info: what Nova got back from PUT /attachments,
    nested again by _translate_attachment_ref (its `status` is still the "reserved" of the
    attachment Cinder loaded before the update), then `serial`, `multiattach` (block_device
    _volume_attach) and os-brick's device (libvirt volume driver's connect_volume)."""
    flat = json.loads(att["connection_info"])
    flat.pop("attachment_id", None)
    kind = flat.pop("driver_volume_type")
    if device_path:
        flat["device_path"] = device_path
    if multipath_id:
        flat["multipath_id"] = multipath_id
    info = {
        "driver_volume_type": kind,
        "data": flat,
        "status": "reserved",
        "instance": row["uuid"],
        "attached_at": "",
        "detached_at": "",
        "volume_id": att["volume_id"],
        "serial": att["volume_id"],
    }
    if multiattach:
        info["multiattach"] = True
    return json.dumps(info)


def for_release(c: Cloud, release: str) -> None:
    """Before Cinder 26.0.0 (2025.1; 0c3c7b7bb "Add 'enforce_multipath' in connection_properties")
    _connection_create added no enforce_multipath, and before ARRAY_ADDRESSING_MODE Pure's
    answer had no addressing_mode: neither the attachment nor Nova's copy of it has them."""
    since = {"enforce_multipath": ENFORCE_MULTIPATH, "addressing_mode": ARRAY_ADDRESSING_MODE}
    keys = [k for k, first in since.items() if not at_least(release, first)]
    if not keys:
        return
    for row in [*c.attachments, *(b for rows in c.bdms.values() for b in rows)]:
        if row.get("connection_info") and any(k in row["connection_info"] for k in keys):
            info = json.loads(row["connection_info"])
            for k in keys:
                info.pop(k, None)
                if isinstance(info.get("data"), dict):
                    info["data"].pop(k, None)
            row["connection_info"] = json.dumps(info)


def add_volume(
    c: Cloud,
    kind: str,
    project: str,
    *,
    status: str = "available",
    attach_status: str = "detached",
    age: dt.timedelta = 10 * DAY,
    migration_status: str | None = None,
    multiattach: bool = False,
    use_quota: bool = True,
    deleted: bool = False,
    bootable: bool = False,
) -> dict:
    """A `volumes` row (keys starting with "_" are the lab's own and are not written)."""
    vid = c.uuid()
    n = len(c.volumes) + 1
    when = c.now - age
    row = {
        "id": vid,
        "status": status,
        "attach_status": attach_status,
        "migration_status": migration_status,
        "host": f"{backend(kind)}#{BACKENDS[kind]}",
        "project_id": project,
        "user_id": f"user-{project[-2:]}",
        "size": 1 + n % 50,
        "availability_zone": "nova",
        "multiattach": int(multiattach),
        "use_quota": int(use_quota),
        "bootable": int(bootable),
        "volume_type_id": VOLUME_TYPE["id"],
        "display_name": f"vol-{n}",
        "deleted": int(deleted),
        "deleted_at": when if deleted else None,
        "created_at": when - DAY,
        "updated_at": when,
        "launched_at": when - DAY,
        "provider_location": f"{ISCSI_PORTAL},1 {iqn(vid)} 1" if kind == "iscsi" else None,
        "_kind": kind,
        # as JSON: a volume's connection is read only when it is attached (XL: 300,000 volumes)
        "_connection": json.dumps(_cinder_connection(c, kind, vid)) if kind != "array" else None,
    }
    c.volumes.append(row)
    return row


def add_attachment(
    c: Cloud,
    vol: dict,
    row: dict,
    host: str | None,
    dev: str,
    *,
    status: str = "attached",
    age: dt.timedelta = 10 * DAY,
    deleted: bool = False,
) -> dict:
    """A `volume_attachment` row.  A "reserved" one was made without a connector
    (API.attachment_create): no host, no connector, attach_mode "null", connection_info "{}"."""
    when = c.now - age
    connected = status != "reserved"
    aid = c.uuid()
    att = {
        "id": aid,
        "volume_id": vol["id"],
        "instance_uuid": row["uuid"],
        "attached_host": host if connected else None,
        "mountpoint": f"/dev/{dev}" if connected else None,
        "attach_mode": "rw" if connected else "null",
        "attach_status": status,
        "attach_time": when if connected else None,
        "connection_info": _stored_connection(c, vol, host, aid) if connected else "{}",
        "connector": _connector(host, f"/dev/{dev}") if connected else None,
        "deleted": int(deleted),
        "deleted_at": when if deleted else None,
        "detach_time": when if deleted else None,
        "created_at": when,
        "updated_at": when,
    }
    c.attachments.append(att)
    return att


def add_bdm(
    c: Cloud,
    cell: str,
    row: dict,
    vol: dict,
    att: dict | None,
    dev: str,
    *,
    age: dt.timedelta = 10 * DAY,
    deleted: bool = False,
    boot: bool = False,
    device_path: str | None = None,
    connected_by: dict | None = None,
    connected: bool = True,
) -> dict:
    """A `block_device_mapping` row of a volume.  Nova soft-deletes with deleted = id; a
    boot-from-volume root is source "image", boot_index 0.  Its connection_info is the one
    of the attachment that connected it (`connected_by`, by default `att`); None until
    Nova has connected the volume (it saves it only after the driver's attach)."""
    n = c.next_id(f"bdm:{cell}")
    when = c.now - age
    source = att if connected_by is None else connected_by
    conn = None
    if connected and source is not None and source["connection_info"] != "{}":
        conn = _nova_connection(
            source, row, device_path, bool(vol["multiattach"]), wwn(vol["id"]) if vol["_kind"] == "array" else None
        )
    bdm = {
        "id": n,
        "uuid": c.uuid(),
        "instance_uuid": row["uuid"],
        "volume_id": vol["id"],
        "attachment_id": att["id"] if att else None,
        "device_name": f"/dev/{dev}",
        "source_type": "image" if boot else "volume",
        "destination_type": "volume",
        "boot_index": 0 if boot else None,
        "image_id": c.uuid() if boot else None,
        "delete_on_termination": boot,
        "volume_size": vol["size"],
        "device_type": "disk",
        "disk_bus": "virtio",
        "no_device": False,
        "connection_info": conn,
        "created_at": when,
        "updated_at": when,
        "deleted": n if deleted else 0,
        "deleted_at": row["deleted_at"] if deleted else None,
    }
    c.bdms.setdefault(cell, []).append(bdm)
    return bdm


# -- the host side ------------------------------------------------------------------------


@functools.cache
def _connector(host: str | None, mountpoint: str) -> str:
    """What Nova gives Cinder as the connector: os-brick's get_connector_properties (for
    iSCSI the initiator) plus the mountpoint (nova/volume/cinder.py attachment_update)."""
    return json.dumps(
        {
            "platform": "x86_64",
            "os_type": "linux",
            "ip": _address(host),
            "host": host,
            "multipath": False,
            "initiator": _initiator(host),
            "do_local_attach": False,
            "mountpoint": mountpoint,
        }
    )


def _initiator(host: str | None) -> str | None:
    return f"iqn.2004-10.com.ubuntu:01:{zlib.crc32(host.encode()):08x}" if host else None


def _address(host: str) -> str:
    n = zlib.crc32(host.encode())
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def host_iscsi(c: Cloud, host: str) -> dict:
    """The host's iscsiadm stand-in state, created empty on first use."""
    state = c.iscsi.get(host)
    if state is None:
        state = c.iscsi[host] = iscsi.new_state(host, _initiator(host), _address(host))
    return state


def add_session(c: Cloud, host: str, target: str, portal: str = ISCSI_PORTAL, *, tgt: bool = True) -> str:
    """What os-brick's connect_volume leaves: a node record and a logged-in session; a tgt
    target shows its controller as LUN 0 and the volume as LUN 1.  Returns the volume's
    device, which os-brick gives Nova as /dev/sdX (ISCSIConnector._get_connect_result)."""
    state = host_iscsi(c, host)
    node = iscsi.add_node(state, target, portal, luns=(TGT_LUN,) if tgt else (1,), controller=tgt)
    return "/dev/" + iscsi.login(state, node)["luns"][0][1]


def connect(c: Cloud, host: str, vol: dict) -> str | None:
    """os-brick's connect of `vol` on `host`: its device (an LVM volume's own target, LUN
    1: /dev/sdX; the array's LUN scanned in on every portal's session and put together by
    multipathd: /dev/dm-N), None for RBD (QEMU opens the image itself)."""
    if vol["_kind"] == "iscsi":
        return add_session(c, host, iqn(vol["id"]))
    if vol["_kind"] == "array":
        lun = array_lun(c, host, vol)
        for portal in ARRAY_PORTALS:
            iscsi.add_lun(host_iscsi(c, host), ARRAY_IQN, portal, lun)
        return f"/dev/dm-{c.next_id('dm:' + host) - 1}"
    return None


def disconnect(c: Cloud, host: str, vol: dict) -> None:
    """os-brick's disconnect: the session logged out and its node record deleted (for the
    array: the LUN's disks removed, the sessions only when no LUN is left on them)."""
    state = host_iscsi(c, host)
    if vol["_kind"] == "iscsi":
        iscsi.remove_session(state, iqn(vol["id"]), ISCSI_PORTAL)
        state["nodes"] = [n for n in state["nodes"] if n["target_iqn"] != iqn(vol["id"])]
    elif vol["_kind"] == "array":
        for portal in ARRAY_PORTALS:
            iscsi.remove_lun(state, ARRAY_IQN, portal, array_lun(c, host, vol))


def connected_once(c: Cloud, host: str, vol: dict) -> str | None:
    """The device a volume had on `host` while it was connected there (Nova's mapping
    keeps it after the disconnect)."""
    device = connect(c, host, vol)
    disconnect(c, host, vol)
    return device


def add_disk(c: Cloud, host: str, row: dict, vol: dict, dev: str, source: str | None = None) -> None:
    """The volume's <disk> in the domain: for iSCSI, `source` is the device os-brick gave."""
    c.domain_of(host, row["uuid"]).volumes.append(VolumeDisk(vol["id"], vol["_kind"], dev, source or ""))


def next_dev(c: Cloud, row: dict) -> str:
    """The instance's next free target: vda is its root disk, volumes take vdb, vdc, ..."""
    return f"vd{chr(ord('a') + c.next_id('dev:' + row['uuid']))}"


def attach(
    c: Cloud,
    cell: str,
    row: dict,
    vol: dict,
    *,
    age: dt.timedelta = 10 * DAY,
    attached_host: str | None = None,
    disk: bool = True,
    session: bool = True,
    boot: bool = False,
) -> tuple[dict, dict]:
    """A volume attached to a live instance on its host, as every service records it
    (the keywords leave a part out, for the faults); returns (attachment, mapping)."""
    host = row["host"]
    dev = "vda" if boot else next_dev(c, row)
    att = add_attachment(c, vol, row, attached_host or host, dev, age=age)
    device = connect(c, host, vol) if session else connected_once(c, host, vol)
    bdm = add_bdm(c, cell, row, vol, att, dev, age=age, boot=boot, device_path=device)
    if disk:
        add_disk(c, host, row, vol, dev, device)
    return att, bdm


def detached_with(c: Cloud, cell: str, row: dict, vol: dict, *, disconnected: bool = True) -> dict:
    """The volume was detached when its (now deleted) instance was deleted: the attachment
    soft-deleted by Cinder (volume_detached), the mapping by Nova, the session logged out
    by os-brick (disconnected=False: that disconnect failed, the session stayed)."""
    dev = next_dev(c, row)
    age = c.now - row["deleted_at"]
    att = add_attachment(c, vol, row, row["host"], dev, status="detached", age=age, deleted=True)
    device = connected_once(c, row["host"], vol) if disconnected else connect(c, row["host"], vol)
    add_bdm(c, cell, row, vol, att, dev, age=age + DAY, deleted=True, device_path=device)
    return att


# -- a consistent population ----------------------------------------------------------------


def _share(i: int, rate: float) -> int:
    """How many of `rate` per item fall on item i, spread evenly (rate 1.5: 1, 2, 1, 2...)."""
    return int((i + 1) * rate) - int(i * rate)


def _next_kind(c: Cloud) -> str:
    return "iscsi" if len(c.volumes) % 2 == 0 else "rbd"


def populate(c: Cloud, profile: Profile) -> None:
    live = [(cell, r) for cell, rows in c.instances.items() for r in rows if not r["deleted"] and r["host"]]
    gone = ((cell, r) for cell in c.instances for r in c.instance_rows(cell) if r["deleted"] and r["host"])
    for i, (cell, row) in enumerate(live):
        for _ in range(_share(i, profile.attached_per_live)):
            attach(
                c, cell, row, add_volume(c, _next_kind(c), row["project_id"], status="in-use", attach_status="attached")
            )
    for i in range(int(len(live) * profile.spare_per_live)):
        add_volume(c, _next_kind(c), live[i % len(live)][1]["project_id"])
    for cell, row in itertools.islice(gone, int(len(live) * profile.gone_per_live)):
        # deleted with its instance (delete_on_termination)
        detached_with(
            c,
            cell,
            row,
            add_volume(
                c, _next_kind(c), row["project_id"], status="deleted", age=c.now - row["deleted_at"], deleted=True
            ),
        )
    # so every host answers `iscsiadm`, with or without sessions
    for host, _ in c.hosts:
        host_iscsi(c, host)


# -- faults -----------------------------------------------------------------------------


def inject(c: Cloud, hosts: list[str]) -> None:
    """One fault of each volume check, on hosts[0..7]."""
    lost_detach(c, hosts[0])
    volume_deleted_under_mapping(c, hosts[1])
    stuck_creating(c, hosts[2])
    stale_lun(c, hosts[2])
    attachment_on_other_host(c, hosts[3])
    disk_missing(c, hosts[4])
    unexpected_disk(c, hosts[5])
    leaked_session(c, hosts[6])
    missing_session(c, hosts[7])


def lost_detach(c: Cloud, host: str) -> None:
    """Nova deleted the instance (and soft-deleted its mapping, and os-brick logged the
    session out) but its detach call to Cinder was lost: the attachment and the in-use
    volume stay."""
    cell = c.cell_of(host)
    row = c.add_instance(cell, host, deleted=True, deleted_age=3 * DAY)
    vol = add_volume(c, "iscsi", row["project_id"], status="in-use", attach_status="attached", age=20 * DAY)
    dev = next_dev(c, row)
    att = add_attachment(c, vol, row, host, dev, age=20 * DAY)
    add_bdm(c, cell, row, vol, att, dev, age=20 * DAY, deleted=True, device_path=connected_once(c, host, vol))
    c.fault("VL101", att["id"], f"attachment left for an instance deleted 3 days ago on {host}")


def volume_deleted_under_mapping(c: Cloud, host: str) -> None:
    """The RBD volume was deleted in Cinder (forced, behind Nova's back); the guest lost the
    disk but Nova still maps it."""
    cell = c.cell_of(host)
    row = c.add_instance(cell, host)
    vol = add_volume(c, "rbd", row["project_id"], status="deleted", age=DAY, deleted=True)
    dev = next_dev(c, row)
    att = add_attachment(c, vol, row, host, dev, status="detached", age=DAY, deleted=True)
    bdm = add_bdm(c, cell, row, vol, att, dev, age=20 * DAY)
    c.fault("VL102", bdm["uuid"], f"mapping of {row['uuid']} to a volume Cinder deleted")


def stuck_creating(c: Cloud, host: str) -> None:
    vol = add_volume(c, "iscsi", "project-07", status="creating", age=5 * HOUR)
    c.fault("VL103", vol["id"], "volume stuck in creating for 5 hours")


def attachment_on_other_host(c: Cloud, host: str) -> None:
    """Cinder records another host (a migration whose attachment update was lost); the
    session and the guest are on the instance's real host."""
    cell = c.cell_of(host)
    row = c.add_instance(cell, host)
    other = c.other_host(host)
    vol = add_volume(c, "iscsi", row["project_id"], status="in-use", attach_status="attached")
    att, _ = attach(c, cell, row, vol, attached_host=other)
    c.fault("VL104", att["id"], f"Cinder says attached on {other}, the instance is on {host}")


def disk_missing(c: Cloud, host: str) -> None:
    cell = c.cell_of(host)
    row = c.add_instance(cell, host)
    vol = add_volume(c, "rbd", row["project_id"], status="in-use", attach_status="attached")
    attach(c, cell, row, vol, disk=False)
    c.fault(
        "VL201", f"{row['uuid']}/{vol['id']}", f"Nova and Cinder say attached, the domain on {host} has no such disk"
    )


def unexpected_disk(c: Cloud, host: str) -> None:
    """A disk hot-plugged by hand (virsh attach-device) with the serial of an available volume."""
    row = c.add_instance(c.cell_of(host), host)
    vol = add_volume(c, "rbd", row["project_id"])
    add_disk(c, host, row, vol, next_dev(c, row))
    c.fault("VL202", f"{row['uuid']}/{vol['id']}", f"domain on {host} has a disk Nova does not map")


def leaked_session(c: Cloud, host: str) -> None:
    """The instance was deleted long ago and both services cleaned up, but the host's
    disconnect failed: the session and its node record stay."""
    cell = c.cell_of(host)
    row = c.add_instance(cell, host, deleted=True, deleted_age=30 * DAY)
    vol = add_volume(c, "iscsi", row["project_id"], age=30 * DAY)
    detached_with(c, cell, row, vol, disconnected=False)
    c.fault("VL203", session_subject(vol["id"]), f"session on {host} for a volume detached 30 days ago")


def stale_lun(c: Cloud, host: str) -> None:
    """A volume of the shared array detached with its (deleted) instance: Cinder and Nova
    cleaned up, but os-brick's disconnect failed before it removed the LUN's disks, which
    stay under the sessions another attached volume of the array needs."""
    cell = c.cell_of(host)
    live = c.add_instance(cell, host)
    attach(c, cell, live, add_volume(c, "array", live["project_id"], status="in-use", attach_status="attached"))
    gone = c.add_instance(cell, host, deleted=True, deleted_age=7 * DAY)
    vol = add_volume(c, "array", gone["project_id"], status="deleted", age=7 * DAY, deleted=True)
    detached_with(c, cell, gone, vol, disconnected=False)
    c.fault(
        "VL205", f"{ARRAY_IQN}/lun-{array_lun(c, host, vol)}", f"LUN of a volume detached 7 days ago left on {host}"
    )


def missing_session(c: Cloud, host: str) -> None:
    """The session dropped (target restarted, iscsid lost it) and was not re-established;
    the node record stays, as it would."""
    cell = c.cell_of(host)
    row = c.add_instance(cell, host)
    vol = add_volume(c, "iscsi", row["project_id"], status="in-use", attach_status="attached")
    attach(c, cell, row, vol)
    iscsi.remove_session(host_iscsi(c, host), iqn(vol["id"]), ISCSI_PORTAL)
    c.fault("VL204", f"{row['uuid']}/{vol['id']}", f"no session on {host} for an attached iSCSI volume")


# -- near misses --------------------------------------------------------------------------


def near_misses(c: Cloud) -> None:
    """Legitimate volume states that must not be reported."""
    h1 = c.hosts[0][0]
    h2 = c.other_host(h1)
    cell = c.cell_of(h1)
    attach_in_progress(c, cell, h1)
    volume_migration(c, cell, h1)
    multiattach(c, cell, h1, h2)
    boot_from_volume(c, cell, h2)
    shelved_offloaded(c, cell, h1)
    live_migration(c, cell, h1, h2)
    legacy_attach(c, cell, h2)
    shared_array(c, cell, h1, h2)
    add_session(c, h1, *FOREIGN_TARGET, tgt=False)
    c.notes += [
        "volume attach in progress",
        "volume migration (swap) in progress",
        "multi-attach volume",
        "boot from volume",
        "shelved-offloaded with a reserved volume",
        "RBD volumes (no session)",
        "live migration with sessions on both hosts",
        "the host's own iSCSI session",
        "a volume attached by the legacy flow (before Queens)",
        "volumes of a shared-IQN array: one target, a LUN each, two paths",
    ]


def legacy_attach(c: Cloud, cell: str, host: str) -> None:
    """Attached before Nova used Cinder's attachments API (Queens) and kept since: the
    mapping has no attachment_id and holds what os-initialize_connection answered (nested,
    as the manager's initialize_connection returns it); Cinder's attachment, made by
    os-attach (VolumeManager.attach_volume), has no connection_info and no connector."""
    row = c.add_instance(cell, host)
    vol = add_volume(c, "iscsi", row["project_id"], status="in-use", attach_status="attached", age=400 * DAY)
    dev = next_dev(c, row)
    att = add_attachment(c, vol, row, host, dev, age=400 * DAY)
    att.update(connection_info=None, connector=None)
    device = connect(c, host, vol)
    info = json.loads(vol["_connection"])
    info["data"].update(enforce_multipath=False, device_path=device)
    bdm = add_bdm(c, cell, row, vol, None, dev, age=400 * DAY, connected=False)
    bdm["connection_info"] = json.dumps({**info, "serial": vol["id"]})
    add_disk(c, host, row, vol, dev, device)


def shared_array(c: Cloud, cell: str, h1: str, h2: str) -> None:
    """Three volumes of the array: two on h1 (one session per portal carries both LUNs),
    one on h2, a multi-attach one on both (a LUN of its own on each host)."""
    for host in (h1, h1, h2):
        row = c.add_instance(cell, host)
        attach(c, cell, row, add_volume(c, "array", row["project_id"], status="in-use", attach_status="attached"))
    shared = add_volume(c, "array", "project-04", status="in-use", attach_status="attached", multiattach=True)
    for host in (h1, h2):
        attach(c, cell, c.add_instance(cell, host), shared)


def attach_in_progress(c: Cloud, cell: str, host: str) -> None:
    """A minute into an attach: Cinder's attachment is updated with the connection, Nova's
    mapping made, os-brick has not connected yet (no session, no disk)."""
    row = c.add_instance(cell, host)
    vol = add_volume(c, "iscsi", row["project_id"], status="attaching", attach_status="attaching", age=MINUTE)
    dev = next_dev(c, row)
    att = add_attachment(c, vol, row, host, dev, status="attaching", age=MINUTE)
    add_bdm(c, cell, row, vol, att, dev, age=MINUTE, connected=False)
    ripens_stuck(c, vol, "volume attach in progress")


def ripens_stuck(c: Cloud, vol: dict, why: str) -> None:
    """VL103's rule for a volume in a transitional status (not migrating, not reserved for
    a shelved instance): its status's threshold past the row's last change."""
    c.ripens("VL103", vol["id"], vol["updated_at"] + threshold("VL103", f"{vol['status']}_after"), why)


def volume_migration(c: Cloud, cell: str, host: str) -> None:
    """Cinder migrates an attached volume: Nova swaps it (blockRebase) into a new volume,
    already connected and attaching, which no mapping names until the swap completes."""
    row = c.add_instance(cell, host)
    src = add_volume(
        c,
        "iscsi",
        row["project_id"],
        status="in-use",
        attach_status="attached",
        migration_status="migrating",
        age=45 * MINUTE,
    )
    _, bdm = attach(c, cell, row, src)
    dst = add_volume(
        c,
        "iscsi",
        row["project_id"],
        status="attaching",
        attach_status="attaching",
        migration_status=f"target:{src['id']}",
        use_quota=False,
        age=45 * MINUTE,
    )
    add_attachment(c, dst, row, host, bdm["device_name"][len("/dev/") :], status="attaching", age=45 * MINUTE)
    connect(c, host, dst)


def multiattach(c: Cloud, cell: str, h1: str, h2: str) -> None:
    vol = add_volume(c, "iscsi", "project-03", status="in-use", attach_status="attached", multiattach=True)
    for host in (h1, h2):
        attach(c, cell, c.add_instance(cell, host), vol)


def boot_from_volume(c: Cloud, cell: str, host: str) -> None:
    row = c.add_instance(cell, host)
    c.domain_of(host, row["uuid"]).local_disk = False
    vol = add_volume(c, "iscsi", row["project_id"], status="in-use", attach_status="attached", bootable=True)
    attach(c, cell, row, vol, boot=True)


def shelved_offloaded(c: Cloud, cell: str, host: str) -> None:
    """Shelve-offload (nova _terminate_volume_connections) swaps the attachment for a
    reserved one with no host and no connection; the mapping keeps its old connection_info
    and Cinder leaves the volume "reserved" until unshelve."""
    row = c.add_instance(cell, None, vm_state="shelved_offloaded", power_state=4, domain=False, folder=False)
    vol = add_volume(c, "iscsi", row["project_id"], status="reserved", attach_status="reserved", age=2 * DAY)
    dev = next_dev(c, row)
    old = add_attachment(c, vol, row, host, dev, status="detached", age=2 * DAY, deleted=True)
    reserved = add_attachment(c, vol, row, None, dev, status="reserved", age=2 * DAY)
    add_bdm(c, cell, row, vol, reserved, dev, age=20 * DAY, connected_by=old, device_path=connected_once(c, host, vol))


def live_migration(c: Cloud, cell: str, source: str, dest: str) -> None:
    """Mid live migration, as Nova's _do_pre_live_migration leaves it: a second attachment
    made with the destination's connector (attachment_create) and completed (attached, the
    volume in-use again), the mapping moved to it with its connection_info (refreshed, saved
    with the destination's device); the source's attachment stays until _post_live_migration
    deletes it.  Sessions on both hosts, a paused copy of the domain on the destination."""
    row = c.add_instance(cell, source, task_state="migrating")
    c.add_domain(dest, row, active=False)
    mig = c.add_migration(cell, row, type_="live-migration", status="running", source=source, dest=dest)
    c.ripens_stuck_task(row, "live migration with sessions on both hosts", mig)
    vol = add_volume(c, "iscsi", row["project_id"], status="in-use", attach_status="attached")
    _, bdm = attach(c, cell, row, vol)
    dev = bdm["device_name"][len("/dev/") :]
    new = add_attachment(c, vol, row, dest, dev, age=5 * MINUTE)
    device = connect(c, dest, vol)
    when = c.now - 5 * MINUTE
    bdm.update(
        attachment_id=new["id"],
        connection_info=_nova_connection(new, row, device, bool(vol["multiattach"])),
        updated_at=when,
    )
    vol["updated_at"] = when
    add_disk(c, dest, row, vol, dev, device)


# -- domain XML -------------------------------------------------------------------------


def disk_xml(disk: VolumeDisk) -> str:
    """The <disk> Nova's libvirt driver writes for the volume (LibvirtISCSIVolumeDriver,
    LibvirtNetVolumeDriver)."""
    target = f"<target dev='{disk.dev}' bus='virtio'/><serial>{disk.serial}</serial>"
    if disk.kind in ("iscsi", "array"):
        return (
            "<disk type='block' device='disk'><driver name='qemu' type='raw' cache='none' io='native'/>"
            f"<source dev='{disk.source}'/>{target}</disk>"
        )
    host, port = RBD_MONITOR
    return (
        "<disk type='network' device='disk'><driver name='qemu' type='raw' cache='writeback' discard='unmap'/>"
        f"<auth username='cinder'><secret type='ceph' uuid='{RBD_SECRET_UUID}'/></auth>"
        f"<source protocol='rbd' name='{rbd_name(disk.serial)}'><host name='{host}' port='{port}'/></source>"
        f"{target}</disk>"
    )
