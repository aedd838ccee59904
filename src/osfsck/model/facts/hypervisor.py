"""Facts read from the hypervisors: libvirt domains and instance folders."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from osfsck.model.facts.base import fact_type


def host_scope(host: str) -> str:
    return f"host:{host}"


@fact_type("hv.domain", scope_field="host")
class Domain(NamedTuple):
    """A libvirt domain, active or only defined, as libvirt reports it on `host`."""

    host: str
    uuid: str
    name: str
    state: int  # libvirt virDomainState (1 running, 3 paused, 5 shut off, ...)
    active: bool
    nova_ns: str | None  # "1.0" or "1.1" when the XML carries Nova's metadata
    nova_name: str | None  # the instance's display name from that metadata
    nova_project: str | None
    vcpus: int
    memory_mb: int
    disks: tuple[str, ...]  # disk sources: file paths, block devices, pool/volume names


@fact_type("hv.domain_volume", scope_field="host")
class DomainVolume(NamedTuple):
    """A disk of a domain that carries a `<serial>`: Nova sets it to the Cinder volume id,
    the one stable key (a `/dev/sdX` source moves between reboots and rescans)."""

    host: str
    domain_uuid: str
    serial: str  # the volume id
    disk_type: str  # "block", "network", "file", ...
    protocol: str | None  # for network disks: "rbd", "iscsi", ...
    source: str | None  # device path, "pool/image" or "iqn/lun", file path
    target_dev: str | None  # "vdb": the guest's name for it


@fact_type("hv.instance_dir", scope_field="host")
class InstanceDir(NamedTuple):
    """An `<instances_path>/<uuid>[_resize|_del]` folder seen from `host`.

    `storage` identifies the filesystem: "host:<name>" for a local disk, or the network
    export for shared storage, so that hosts mounting one NFS export are not each
    reported for the same folder.
    """

    host: str
    storage: str
    instances_path: str
    name: str
    uuid: str
    suffix: str  # "", "_resize" or "_del"
    bytes: int  # allocated (what deleting would free)
    apparent_bytes: int
    files: int
    disks: tuple[str, ...]  # the names of its disk files
    mtime: dt.datetime | None
    inode: int

    @property
    def path(self) -> str:
        return f"{self.instances_path.rstrip('/')}/{self.name}"


@fact_type("hv.iscsi_session", scope_field="host")
class IscsiSession(NamedTuple):
    """An open-iscsi session on `host`, from `iscsiadm -m session -P 3`."""

    host: str
    sid: int
    target_iqn: str
    portal: str  # "ip:port" as iscsiadm prints it ("[v6]:port" for IPv6)
    tpgt: int
    iface: str | None
    session_state: str | None  # LOGGED_IN, FAILED, FREE
    connection_state: str | None  # LOGGED IN, TRANSPORT WAIT, ...
    luns: tuple[int | None, ...]  # LUN numbers of the attached SCSI devices ...
    devices: tuple[str, ...]  # ... and their kernel disks ("sdc"), in the same order


@fact_type("hv.iscsi_node", scope_field="host")
class IscsiNode(NamedTuple):
    """A persisted open-iscsi node record on `host` (`iscsiadm -m node`): with
    node.startup=automatic it logs the session in again at every boot."""

    host: str
    target_iqn: str
    portal: str
    tpgt: int
