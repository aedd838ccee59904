"""A small builder of consistent Snapshots, so that a check scenario reads like a story.

    w = World()
    u = w.instance(host="hv1")                 # a live, mapped, ACTIVE instance in cell1
    w.domain("hv1", u)                         # ... and its libvirt domain on hv1
    gone = w.instance(host="hv1", deleted=True, deleted_age=2 * DAY)
    w.domain("hv1", gone)                      # a zombie
    w.cell_down("cell2")                       # a cell whose database could not be read
    v, att, bdm = w.attached_volume(u)         # a volume attached in all five places
    snap = w.snapshot()

Everything is deterministic: uuids are `uid(n)` (uuid.UUID(int=n)), instance ids count from
1, and every timestamp is an age before `taken_at` (a fixed naive-UTC instant by default).

Cells and hosts are declared on first use (a host in the cell of the instance that first
names it, else in cell1); declare them explicitly (`w.cell`, `w.host`) to choose otherwise.
A declared cell is read completely (instances, shadow instances, migrations, services,
compute nodes), a declared host too (domains and instance folders), and so is the API
database (cells, instance mappings, build requests), and Cinder's once a volume builder
is used, until `partial`, `cell_down`, `cinder_down` or `host_unreachable` says otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid as _uuid
from collections import defaultdict

from osfsck.model.facts.cinder import CINDER_SCOPE, CinderAttachment, CinderService, CinderVolume
from osfsck.model.facts.hypervisor import (
    Domain,
    DomainVolume,
    InstanceDir,
    IscsiNode,
    IscsiSession,
    host_scope,
)
from osfsck.model.facts.nova import (
    API_SCOPE,
    ArchivedInstance,
    BlockDeviceMapping,
    BuildRequest,
    Cell,
    ComputeNode,
    ComputeService,
    Instance,
    InstanceMapping,
    InstanceNetwork,
    Migration,
    cell_scope,
)
from osfsck.model.facts.rpc import InstanceAction
from osfsck.model.scope import RunScope
from osfsck.model.snapshot import Coverage, Snapshot, scope_of
from osfsck.sources.connection_info import iscsi_paths
from tests.support.world_dns import DnsWorld
from tests.support.world_neutron import NeutronWorld
from tests.support.world_nsx import NsxWorld
from tests.support.world_ovn import OvnWorld
from tests.support.world_placement import PlacementWorld
from tests.support.world_quota import QuotaWorld
from tests.support.world_rpc import RpcWorld

TAKEN_AT = dt.datetime(2026, 11, 24, 12, 0)
MINUTE, HOUR, DAY = 60, 3600, 86400
GiB = 1024**3
INSTANCES_PATH = "/var/lib/nova/instances"

API_KINDS = (Cell, InstanceMapping, BuildRequest)
CELL_KINDS = (
    Instance,
    ArchivedInstance,
    Migration,
    ComputeService,
    ComputeNode,
    BlockDeviceMapping,
    InstanceNetwork,
    InstanceAction,
)
HOST_KINDS = (Domain, DomainVolume, InstanceDir, IscsiSession, IscsiNode)
CINDER_KINDS = (CinderVolume, CinderAttachment, CinderService)
PORTAL = "192.0.2.10:3260"
CINDER_BACKEND = "cinder1@lvm"

# A plausible Nova power_state for each vm_state (nova/compute/power_state.py values).  The
# libvirt driver suspends with a managed save, which leaves the domain shut off: SHUTDOWN.
_POWER_FOR_VM_STATE = {
    "active": 1,
    "rescued": 1,
    "resized": 1,
    "paused": 3,
    "suspended": 4,
    "stopped": 4,
    "shelved": 4,
    "shelved_offloaded": 4,
    "soft-delete": 4,
    "building": 0,
    "error": 0,
    "deleted": 0,
}
# libvirt states in which a domain has a running QEMU process
_ACTIVE_LIBVIRT_STATES = {1, 2, 3, 4, 7}

# uuid ranges, so that objects of different sorts never share one by accident
_CELL_BASE = 0xCE11 << 64
_NODE_BASE = 0xC0DE << 64
_MIGRATION_BASE = 0x3161 << 64
_VOLUME_BASE = 0x7011 << 64
_ATTACHMENT_BASE = 0xA77A << 64
_BDM_BASE = 0xBD30 << 64


def volume_uid(n: int) -> str:
    """The id of the n-th volume a World creates (so expectations can name it)."""
    return uid(_VOLUME_BASE + n)


def attachment_uid(n: int) -> str:
    return uid(_ATTACHMENT_BASE + n)


def bdm_uid(n: int) -> str:
    return uid(_BDM_BASE + n)


def iqn_of(volume_id: str) -> str:
    """The target Cinder's LVM driver (tgt or LIO) makes for one volume."""
    return f"iqn.2010-10.org.openstack:volume-{volume_id}"


def _driver_data(volume_id: str, kind: str, iqn: str | None, lun: int) -> dict:
    """What the volume driver's initialize_connection answers, in "data" (LVM's
    ISCSITarget._get_iscsi_properties, RBDDriver.initialize_connection)."""
    if kind == "rbd":
        return {
            "name": f"volumes/volume-{volume_id}",
            "hosts": ["192.0.2.20"],
            "ports": ["6789"],
            "auth_enabled": True,
            "auth_username": "cinder",
            "volume_id": volume_id,
        }
    return {
        "target_discovered": False,
        "target_portal": PORTAL,
        "target_iqn": iqn or iqn_of(volume_id),
        "target_lun": lun,
        "volume_id": volume_id,
        "auth_method": "CHAP",
    }


def connection_info(volume_id: str, kind: str = "iscsi", *, iqn: str | None = None, lun: int = 1) -> str:
    """connection_info as Nova stores it in a BDM: the driver's answer nested under "data"
    (nova/volume/cinder.py _translate_attachment_ref) and the volume id as `serial`."""
    return json.dumps(
        {
            "driver_volume_type": kind,
            "data": _driver_data(volume_id, kind, iqn, lun),
            "status": "reserved",
            "volume_id": volume_id,
            "serial": volume_id,
        }
    )


def iscsi_connection_info(paths: tuple) -> str | None:
    """A mapping's connection_info that os-brick reads as these iSCSI paths (the fact keeps
    only them: sources/connection_info.py), in the lists of a multipath driver's answer,
    nested under "data" as Nova stores it; none where there is no path (not iSCSI)."""
    if not paths:
        return None
    portals, iqns, luns = (list(column) for column in zip(*paths))
    data = {"target_portals": portals, "target_iqns": iqns, "target_luns": luns}
    return json.dumps({"driver_volume_type": "iscsi", "data": data})


def attachment_connection_info(
    volume_id: str, attachment_id: str, kind: str = "iscsi", *, iqn: str | None = None, lun: int = 1
) -> str:
    """connection_info as Cinder stores it in volume_attachment: flattened, with the
    attachment's id (cinder/volume/manager.py VolumeManager._connection_create)."""
    return json.dumps(
        {**_driver_data(volume_id, kind, iqn, lun), "driver_volume_type": kind, "attachment_id": attachment_id}
    )


def uid(n: int) -> str:
    """A deterministic uuid string: uid(1) == "00000000-0000-0000-0000-000000000001"."""
    return str(_uuid.UUID(int=n))


def _seconds(age) -> float:
    return age.total_seconds() if isinstance(age, dt.timedelta) else float(age)


# which source reports each fact kind's coverage, by the kind's prefix
_SOURCE_OF = {
    "nova": "nova-db",
    "hv": "hypervisor",
    "cinder": "cinder-db",
    "neutron": "neutron-db",
    "dns": "dns",
    "designate": "designate-db",
    "ovn": "ovn-nb",
    "nsx": "nsx",
}


class World(NeutronWorld, DnsWorld, OvnWorld, NsxWorld, RpcWorld, PlacementWorld, QuotaWorld):
    """Facts and coverage of one imaginary cloud at one instant (see the module docstring).
    The builders of other systems are mixed in from world_<system>.py."""

    def __init__(self, taken_at: dt.datetime = TAKEN_AT):
        self.taken_at = taken_at
        self._facts: dict[str, list] = defaultdict(list)
        self._mappings: dict[str, InstanceMapping] = {}
        self._coverage: dict[tuple[str, str], Coverage] = {}
        self._dropped: set[tuple[str, str]] = set()
        self._cells: dict[str, Cell] = {}
        self._hosts: dict[str, str] = {}  # host -> cell name
        self._rows: dict[str, Instance] = {}  # uuid -> last instance row added
        self._next_uuid = 0
        self._next_id = 0
        self._next_migration = 0
        self._next_inode = 1000
        self._next_volume = 0
        self._next_attachment = 0
        self._next_bdm = 0
        self._next_sid = 0
        for kind in API_KINDS:
            self._cover(kind, API_SCOPE)
        for init in (self._neutron_init, self._dns_init, self._ovn_init, self._nsx_init, self._rpc_init):
            init()

    # -- time and identity ------------------------------------------------------------
    def ago(self, age) -> dt.datetime:
        """The instant `age` (seconds or a timedelta) before the snapshot is taken."""
        return self.taken_at - dt.timedelta(seconds=_seconds(age))

    def new_uuid(self) -> str:
        """A fresh uuid that nothing in this world uses yet."""
        self._next_uuid += 1
        return uid(self._next_uuid)

    # -- topology ---------------------------------------------------------------------
    def cell(self, name: str = "cell1", *, disabled: bool = False) -> str:
        """Declare a cell (once; later calls return it): its mapping in the API database and
        complete coverage of its database.  Returns the cell's uuid."""
        if name not in self._cells:
            c = Cell(API_SCOPE, uid(_CELL_BASE + len(self._cells) + 1), name, disabled)
            self._cells[name] = c
            self._facts[Cell.kind].append(c)
            for kind in CELL_KINDS:
                self._cover(kind, cell_scope(name))
        return self._cells[name].uuid

    def host(self, name: str, *, cell: str = "cell1", covered: bool = True, hypervisor_type: str = "QEMU") -> str:
        """Declare a compute host in `cell`.  `covered=False`: the hypervisor source does not
        look at it at all (another driver, a skipped host): no coverage is recorded."""
        if name in self._hosts:
            if self._hosts[name] != cell:
                raise ValueError(f"host {name} is already declared in {self._hosts[name]}, not {cell}")
            return name
        self.cell(cell)
        self._hosts[name] = cell
        seen = self.ago(30)
        self._facts[ComputeService.kind].append(ComputeService(cell, name, 0, 0, seen, seen))
        self._facts[ComputeNode.kind].append(
            ComputeNode(cell, uid(_NODE_BASE + len(self._hosts)), name, name, hypervisor_type)
        )
        if covered:
            for kind in HOST_KINDS:
                self._cover(kind, host_scope(name))
        return name

    def _known_host(self, name: str | None, cell: str = "cell1") -> None:
        if name is not None and name not in self._hosts:
            self.host(name, cell=cell)

    # -- Nova's databases -------------------------------------------------------------
    def instance(
        self,
        uuid: str | None = None,
        *,
        cell: str = "cell1",
        host: str | None = "hv1",
        vm_state: str | None = None,
        power_state: int | None = None,
        task_state: str | None = None,
        deleted: bool = False,
        hidden: bool = False,
        mapped: bool | str = True,
        project_id: str = "project-a",
        vcpus: int = 2,
        memory_mb: int = 2048,
        root_gb: int = 20,
        age=DAY,
        updated_age=None,
        deleted_age=DAY,
        id: int | None = None,
    ) -> str:
        """A row of `cell`'s instances table; returns its uuid.

        vm_state defaults to "active" ("deleted" when deleted=True) and power_state to what
        goes with the vm_state.  `mapped`: True maps the uuid to `cell` in the API database,
        a cell name maps it there, False leaves it unmapped.  `age` dates its creation,
        `updated_age` its last update (default: its creation, or its deletion), and
        `deleted_age` its deletion when deleted=True.
        """
        uuid = uuid or self.new_uuid()
        self.cell(cell)
        self._known_host(host, cell)
        if vm_state is None:
            vm_state = "deleted" if deleted else "active"
        if power_state is None:
            power_state = _POWER_FOR_VM_STATE.get(vm_state, 0)
        if id is None:
            self._next_id += 1
            id = self._next_id
        created = self.ago(age)
        deleted_at = self.ago(deleted_age) if deleted else None
        if updated_age is not None:
            updated = self.ago(updated_age)
        else:
            updated = deleted_at or created
        # flags as Nova stores them: `deleted` is 0 or the row's id, `hidden` 0/1
        row = Instance(
            cell,
            uuid,
            id,
            host,
            host,
            vm_state,
            task_state,
            power_state,
            id if deleted else 0,
            int(hidden),
            project_id,
            vcpus,
            memory_mb,
            root_gb,
            created,
            updated,
            deleted_at,
        )
        self._facts[Instance.kind].append(row)
        self._rows[uuid] = row
        if mapped:
            self.mapping(
                uuid, cell if mapped is True else mapped, age=age, queued_for_delete=deleted, project_id=project_id
            )
        return uuid

    def archived(
        self,
        uuid: str | None = None,
        *,
        cell: str = "cell1",
        host: str | None = "hv1",
        deleted_age=30 * DAY,
        mapped: bool | str = False,
    ) -> str:
        """A row moved to `cell`'s shadow_instances by archive_deleted_rows (which also removes
        the instance mapping, hence unmapped by default); returns its uuid."""
        uuid = uuid or self.new_uuid()
        self.cell(cell)
        self._known_host(host, cell)
        self._facts[ArchivedInstance.kind].append(ArchivedInstance(cell, uuid, host, self.ago(deleted_age)))
        if mapped:
            self.mapping(uuid, cell if mapped is True else mapped, age=deleted_age, queued_for_delete=True)
        return uuid

    def mapping(
        self,
        uuid: str,
        cell: str | None,
        *,
        age=DAY,
        updated_age=None,
        queued_for_delete: bool = False,
        project_id: str = "project-a",
        cell_uuid: str | None = None,
    ) -> None:
        """The API database's instance mapping of `uuid` to `cell` (None: not scheduled yet).
        `cell_uuid` instead names a cell by uuid, e.g. one that cell_mappings lacks."""
        if uuid in self._mappings:
            raise ValueError(f"{uuid} is already mapped; a uuid has one instance mapping")
        if cell_uuid is None and cell is not None:
            cell_uuid = self.cell(cell)
        created = self.ago(age)
        updated = self.ago(updated_age) if updated_age is not None else created
        self._mappings[uuid] = InstanceMapping(
            API_SCOPE, uuid, cell_uuid, project_id, int(queued_for_delete), created, updated
        )

    def build_request(
        self, uuid: str | None = None, *, age=10, mapped: bool = True, project_id: str = "project-a"
    ) -> str:
        """A build request `age` seconds old.  With mapped=True a uuid that has no instance
        mapping yet gets one without a cell (the API creates both; the conductor sets the
        cell after scheduling); a uuid already mapped keeps its mapping.  Returns the uuid."""
        uuid = uuid or self.new_uuid()
        self._facts[BuildRequest.kind].append(BuildRequest(API_SCOPE, uuid, project_id, self.ago(age), self.ago(age)))
        if mapped and uuid not in self._mappings:
            self.mapping(uuid, None, age=age, project_id=project_id)
        return uuid

    def migration(
        self,
        instance_uuid: str,
        *,
        type: str = "migration",
        status: str = "finished",
        source: str | None = "hv1",
        dest: str | None = "hv2",
        cell: str | None = None,
        age=HOUR,
    ) -> int:
        """A row of the migrations table (in the instance's cell by default); returns its id.
        Types as Nova writes them: migration, resize, live-migration, evacuation."""
        row = self._rows.get(instance_uuid)
        cell = cell or (row.cell if row else "cell1")
        self.cell(cell)
        for h in (source, dest):
            self._known_host(h, cell)
        self._next_migration += 1
        n = self._next_migration
        at = self.ago(age)
        self._facts[Migration.kind].append(
            Migration(cell, n, uid(_MIGRATION_BASE + n), instance_uuid, type, status, source, dest, at, at)
        )
        return n

    # -- the hypervisors --------------------------------------------------------------
    def domain(
        self,
        host: str,
        uuid: str,
        *,
        name: str | None = None,
        state: int = 1,
        active: bool | None = None,
        nova: bool = True,
        display_name: str | None = None,
        vcpus: int | None = None,
        memory_mb: int | None = None,
        disks: tuple | None = None,
    ) -> Domain:
        """A libvirt domain on `host`.  The name defaults to instance-%08x of the instance's
        id (a fresh id for a uuid Nova does not know); nova=False leaves out Nova's metadata
        from the XML.  `state` is libvirt's (1 running, 3 paused, 5 shut off, ...)."""
        self._known_host(host)
        row = self._rows.get(uuid)
        if name is None:
            if row is None:
                self._next_id += 1
                name = f"instance-{self._next_id:08x}"
            else:
                name = f"instance-{row.id:08x}"
        if active is None:
            active = state in _ACTIVE_LIBVIRT_STATES
        d = Domain(
            host=host,
            uuid=uuid,
            name=name,
            state=state,
            active=active,
            nova_ns="1.1" if nova else None,
            nova_name=(display_name or f"server-{uuid[-4:]}") if nova else None,
            nova_project=(row.project_id if row else "project-a") if nova else None,
            vcpus=vcpus if vcpus is not None else (row.vcpus if row else 2),
            memory_mb=memory_mb if memory_mb is not None else (row.memory_mb if row else 2048),
            disks=disks if disks is not None else (f"{INSTANCES_PATH}/{uuid}/disk",),
        )
        self._facts[Domain.kind].append(d)
        return d

    def instance_dir(
        self,
        host: str,
        uuid: str,
        *,
        suffix: str = "",
        bytes: int = 10 * GiB,
        storage: str | None = None,
        instances_path: str = INSTANCES_PATH,
        age=DAY,
        mtime: dt.datetime | None = None,
        inode: int | None = None,
    ) -> str:
        """An `<instances_path>/<uuid><suffix>` folder seen from `host`, last modified `age`
        ago (or at `mtime`).  `storage` names a shared export (e.g. "nfs1:/srv/nova"); the
        default is the host's local disk.  Returns the folder's path."""
        self._known_host(host)
        if inode is None:
            self._next_inode += 1
            inode = self._next_inode
        d = InstanceDir(
            host=host,
            storage=storage or f"host:{host}",
            instances_path=instances_path,
            name=f"{uuid}{suffix}",
            uuid=uuid,
            suffix=suffix,
            bytes=bytes,
            apparent_bytes=bytes,
            files=3,
            disks=("disk", "disk.info", "console.log"),
            mtime=mtime if mtime is not None else self.ago(age),
            inode=inode,
        )
        self._facts[InstanceDir.kind].append(d)
        return d.path

    # -- volumes: Cinder, Nova's mappings, the domain's disks, iSCSI ------------------
    def cinder(self) -> None:
        """Declare Cinder's database read completely, with a live cinder-volume service
        for CINDER_BACKEND (declared on first use of any volume builder)."""
        if (CinderVolume.kind, CINDER_SCOPE) not in self._coverage:
            for kind in CINDER_KINDS:
                self._cover(kind, CINDER_SCOPE)
            self.cinder_service(CINDER_BACKEND)

    def cinder_service(self, host: str, *, binary: str = "cinder-volume", seen_age=20, disabled: bool = False) -> None:
        self.cinder()
        self._facts[CinderService.kind].append(
            CinderService(CINDER_SCOPE, host, binary, int(disabled), self.ago(seen_age))
        )

    def volume(
        self,
        id: str | None = None,
        *,
        status: str = "available",
        attach_status: str | None = None,
        migration_status: str | None = None,
        backend: str = CINDER_BACKEND,
        multiattach: bool = False,
        deleted: bool = False,
        updated_age=DAY,
        project_id: str = "project-a",
        size: int = 10,
    ) -> str:
        """A row of Cinder's volumes; attach_status follows status unless given."""
        self.cinder()
        if id is None:
            self._next_volume += 1
            id = volume_uid(self._next_volume)
        if attach_status is None:
            attach_status = "attached" if status == "in-use" else "detached"
        self._facts[CinderVolume.kind].append(
            CinderVolume(
                CINDER_SCOPE,
                id,
                "deleted" if deleted else status,
                attach_status,
                migration_status,
                f"{backend}#pool",
                project_id,
                size,
                int(multiattach),
                1,
                int(deleted),
                self.ago(updated_age),
            )
        )
        return id

    def attachment(
        self,
        volume_id: str,
        instance_uuid: str | None,
        *,
        host: str | None = "hv1",
        status: str = "attached",
        kind: str = "iscsi",
        deleted: bool = False,
        updated_age=DAY,
        conn: str | None = None,
        iqn: str | None = None,
        lun: int = 1,
    ) -> str:
        """A row of Cinder's volume_attachment; returns its id.  A reserved one (made
        without a connector) stores "{}" (cinder/volume/api.py attachment_create)."""
        self.cinder()
        self._next_attachment += 1
        aid = attachment_uid(self._next_attachment)
        if conn is None:
            conn = "{}" if status == "reserved" else attachment_connection_info(volume_id, aid, kind, iqn=iqn, lun=lun)
        self._facts[CinderAttachment.kind].append(
            CinderAttachment(
                CINDER_SCOPE,
                aid,
                volume_id,
                instance_uuid,
                host,
                "detached" if deleted else status,
                iscsi_paths(conn),
                int(deleted),
                self.ago(updated_age),
            )
        )
        return aid

    def bdm(
        self,
        instance_uuid: str,
        volume_id: str | None,
        *,
        attachment_id: str | None = None,
        kind: str = "iscsi",
        device: str = "/dev/vdb",
        boot_index: int | None = None,
        source_type: str = "volume",
        age=DAY,
        conn: str | None = None,
        cell: str | None = None,
        iqn: str | None = None,
        lun: int = 1,
    ) -> str:
        """A live volume row of the instance's cell's block_device_mapping; returns its uuid."""
        row = self._rows.get(instance_uuid)
        cell = cell or (row.cell if row else "cell1")
        self._next_bdm += 1
        buuid = bdm_uid(self._next_bdm)
        if conn is None and volume_id:
            conn = connection_info(volume_id, kind, iqn=iqn, lun=lun)
        self._facts[BlockDeviceMapping.kind].append(
            BlockDeviceMapping(
                cell,
                self._next_bdm,
                buuid,
                instance_uuid,
                volume_id,
                attachment_id,
                device,
                source_type,
                boot_index,
                iscsi_paths(conn),
                self.ago(age),
                self.ago(age),
            )
        )
        return buuid

    def volume_disk(
        self,
        host: str,
        domain_uuid: str,
        serial: str,
        *,
        kind: str = "iscsi",
        target_dev: str = "vdb",
        source: str | None = None,
    ) -> None:
        """A disk with `<serial>` in the domain's XML, as Nova's libvirt driver writes it.
        An iSCSI disk's source is the device os-brick connected (`/dev/sdX`, `/dev/dm-N`
        with multipath); without one given, the LUN's /dev/disk/by-path link."""
        self._known_host(host)
        if kind == "rbd":
            self._facts[DomainVolume.kind].append(
                DomainVolume(host, domain_uuid, serial, "network", "rbd", f"volumes/volume-{serial}", target_dev)
            )
        else:
            src = source or f"/dev/disk/by-path/ip-{PORTAL}-iscsi-{iqn_of(serial)}-lun-1"
            self._facts[DomainVolume.kind].append(
                DomainVolume(host, domain_uuid, serial, "block", None, src, target_dev)
            )

    def session(self, host: str, iqn: str, *, portal: str = PORTAL, luns: tuple = (1,), node: bool = True) -> int:
        """A logged-in iSCSI session on `host` (and its node record); returns its sid."""
        self._known_host(host)
        self._next_sid += 1
        devices = tuple(f"sd{chr(ord('b') + (self._next_sid + i) % 24)}" for i, _ in enumerate(luns))
        self._facts[IscsiSession.kind].append(
            IscsiSession(
                host, self._next_sid, iqn, portal, 1, "default", "LOGGED_IN", "LOGGED IN", tuple(luns), devices
            )
        )
        if node:
            self._facts[IscsiNode.kind].append(IscsiNode(host, iqn, portal, 1))
        return self._next_sid

    def scan_lun(self, host: str, iqn: str, lun: int, *, portal: str = PORTAL) -> str:
        """LUN `lun` of a shared target connected under the host's session to it (os-brick
        scans it in, `iscsiadm -m session -r SID --rescan`), made when there is none yet;
        returns the SCSI disk's name."""
        sessions = self._facts[IscsiSession.kind]
        i = next((n for n, s in enumerate(sessions) if (s.host, s.target_iqn, s.portal) == (host, iqn, portal)), None)
        if i is None:
            self.session(host, iqn, portal=portal, luns=(lun,))
            return sessions[-1].devices[0]
        s = sessions[i]
        if lun in s.luns:
            return s.devices[s.luns.index(lun)]
        # named sdaa, sdab, ...: apart from the one-letter disks `session` names
        device = "sda" + chr(ord("a") + sum(len(x.devices) for x in sessions) % 26)
        sessions[i] = s._replace(luns=s.luns + (lun,), devices=s.devices + (device,))
        return device

    def attached_volume(
        self,
        instance_uuid: str,
        *,
        kind: str = "iscsi",
        host: str | None = None,
        disk: bool = True,
        session: bool = True,
        target_dev: str = "vdb",
        boot_index: int | None = None,
        age=DAY,
        volume_id: str | None = None,
        multiattach: bool = False,
        status: str = "in-use",
        status_age=None,
        iqn: str | None = None,
        lun: int = 1,
    ) -> tuple[str, str, str]:
        """A volume attached consistently in all five places: Cinder's volume (in-use)
        and attachment, Nova's BDM, the disk in the domain on the instance's host, and
        (for iSCSI) the session there; `status` and `status_age` set the volume's status
        and its age apart from the rest.  `iqn` and `lun` put it on a shared target (one
        IQN for many volumes, a LUN each): its LUN joins the host's session to that target.
        Returns (volume id, attachment id, BDM uuid)."""
        row = self._rows[instance_uuid]
        host = host or row.host
        vid = self.volume(
            volume_id,
            status=status,
            attach_status="attached",
            multiattach=multiattach,
            updated_age=age if status_age is None else status_age,
        )
        aid = self.attachment(vid, instance_uuid, host=host, kind=kind, updated_age=age, iqn=iqn, lun=lun)
        buuid = self.bdm(
            instance_uuid,
            vid,
            attachment_id=aid,
            kind=kind,
            device=f"/dev/{target_dev}",
            boot_index=boot_index,
            source_type="image" if boot_index == 0 else "volume",
            age=age,
            iqn=iqn,
            lun=lun,
        )
        source = None
        if session and host and kind == "iscsi":
            source = "/dev/" + self.scan_lun(host, iqn or iqn_of(vid), lun)
        if disk and host:
            self.volume_disk(host, instance_uuid, vid, kind=kind, target_dev=target_dev, source=source)
        return vid, aid, buuid

    # -- completeness -----------------------------------------------------------------
    def _cover(self, kind, scope: str, complete: bool = True, reason: str = "") -> None:
        source = _SOURCE_OF[kind.kind.split(".", 1)[0]]
        self._coverage[(kind.kind, scope)] = Coverage(kind.kind, scope, source, complete, reason, self.taken_at)

    def partial(self, kind, scope: str, reason: str = "read interrupted") -> None:
        """Mark `kind` (a fact type) incomplete in `scope`; the facts already added stay, as
        when a source read part of a scope before it failed."""
        self._cover(kind, scope, False, reason)

    def cell_down(self, name: str, reason: str = "cell database unreachable") -> None:
        """`name`'s database could not be read: every cell kind is partial there and none of
        its rows reach the snapshot."""
        self.cell(name)
        for kind in CELL_KINDS:
            self.partial(kind, cell_scope(name), reason)
            self._dropped.add((kind.kind, cell_scope(name)))

    def cinder_down(self, reason: str = "cinder database: access denied") -> None:
        """Cinder's database could not be read: its kinds are partial and empty."""
        self.cinder()
        for kind in CINDER_KINDS:
            self.partial(kind, CINDER_SCOPE, reason)
            self._dropped.add((kind.kind, CINDER_SCOPE))

    def host_unreachable(self, name: str, reason: str = "ssh: connection timed out") -> None:
        """`name` could not be reached: its domains and folders are partial and absent."""
        self._known_host(name)
        for kind in HOST_KINDS:
            self.partial(kind, host_scope(name), reason)
            self._dropped.add((kind.kind, host_scope(name)))

    # -- result -----------------------------------------------------------------------
    def snapshot(self, scope: RunScope | None = None) -> Snapshot:
        """The snapshot of this world; with `scope`, as a run scoped so (`--cell`,
        `--host`, `--project`) would read it: what lies outside not read at all."""
        if scope is not None:
            return self.snapshot().narrowed(scope)
        snap = Snapshot(taken_at=self.taken_at)
        facts = dict(self._facts)
        if self._mappings:
            facts[InstanceMapping.kind] = list(self._mappings.values())
        facts[InstanceNetwork.kind] = self._instance_networks(self._facts[Instance.kind])
        for kind, items in facts.items():
            kept = [f for f in items if (kind, scope_of(f)) not in self._dropped]
            if kept:
                snap.add(kind, kept)
        for cov in self._coverage.values():
            snap.cover(cov)
        return snap
