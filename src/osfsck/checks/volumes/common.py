"""What the volume checks share: references, ages, and one joined view of a volume's five
places, built once per snapshot (`volume_index`): Cinder's volumes and attachments, Nova's
block device mappings, the disks of each domain (keyed by `<serial>`, the volume id) and
each host's iSCSI sessions.

The rules that several checks share are stated here once: which attachment is live,
when Cinder agrees that a volume is attached to an instance, which iSCSI targets are
OpenStack's at all, and which targets a host is expected to be logged in to.
"""

from __future__ import annotations

import re
import weakref
from collections import defaultdict
from collections.abc import Iterable

from osfsck.checks.base import CheckOutput, place_ref
from osfsck.checks.instance_index import InstanceIndex, instance_index
from osfsck.model.facts import kind_of
from osfsck.model.facts.base import FactType
from osfsck.model.facts.cinder import (
    ATTACHMENT_GONE,
    CINDER_SCOPE,
    CinderAttachment,
    CinderService,
    CinderVolume,
    IscsiPath,
)
from osfsck.model.facts.hypervisor import DomainVolume, IscsiSession, host_scope
from osfsck.model.facts.nova import (
    API_SCOPE,
    BlockDeviceMapping,
    Cell,
    Instance,
    Migration,
    cell_scope,
)
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def iscsi_iqns(row: BlockDeviceMapping | CinderAttachment) -> tuple[str, ...]:
    """The target IQNs of a mapping's or an attachment's iSCSI paths (either shape of
    connection_info, read by the source), the first path's first."""
    return tuple(dict.fromkeys(iqn for _, iqn, _ in row.iscsi_paths))


def same_host(a: str | None, b: str | None) -> bool:
    """Host names as Nova and Cinder write them: "cmp1" and "cmp1.example.org" are one."""
    if not a or not b:
        return False
    return a == b or a.split(".", 1)[0] == b.split(".", 1)[0]


class VolumeIndex:
    def __init__(self, snap: Snapshot, instances: InstanceIndex):
        self.snap = snap
        self.instances = instances
        self.volumes = {v.id: v for v in snap.of(CinderVolume)}
        self.attachments_of: dict[str, list[CinderAttachment]] = defaultdict(list)  # live, by volume
        self.attachment_by_id: dict[str, CinderAttachment] = {}  # every row
        self.every_attachment_of: dict[str, list[CinderAttachment]] = defaultdict(list)  # deleted too
        for a in snap.of(CinderAttachment):
            self.attachment_by_id[a.id] = a
            self.every_attachment_of[a.volume_id].append(a)
            if is_live(a):
                self.attachments_of[a.volume_id].append(a)
        self.bdms_of_instance: dict[str, list[BlockDeviceMapping]] = defaultdict(list)
        self.bdms_of_volume: dict[str, list[BlockDeviceMapping]] = defaultdict(list)
        for b in snap.of(BlockDeviceMapping):
            self.bdms_of_instance[b.instance_uuid].append(b)
            if b.volume_id:
                self.bdms_of_volume[b.volume_id].append(b)
        self.disks: dict[tuple[str, str], dict[str, DomainVolume]] = defaultdict(dict)
        self.disks_on_host: dict[str, list[DomainVolume]] = defaultdict(list)
        self.hosts_of_serial: dict[str, set[str]] = defaultdict(set)
        for d in snap.of(DomainVolume):
            self.disks[(d.host, d.domain_uuid)][d.serial] = d
            self.disks_on_host[d.host].append(d)
            self.hosts_of_serial[d.serial].add(d.host)
        self.sessions: dict[str, list[IscsiSession]] = defaultdict(list)
        for s in snap.of(IscsiSession):
            self.sessions[s.host].append(s)
        self.services = [s for s in snap.of(CinderService) if s.binary == "cinder-volume"]
        self.cinder_complete = all(
            snap.is_complete(k, CINDER_SCOPE) for k in (CinderVolume, CinderAttachment, CinderService)
        )
        self._expected: dict[str, dict[str, set[int | None]]] | None = None
        self._openstack_iqns: set[str] | None = None
        self._explaining_gaps: list[tuple[str, str]] | None = None
        self._naming: dict[tuple[str, int | None], list[CinderAttachment]] | None = None
        self._places_gaps: list[tuple[str, str]] | None = None

    # -- completeness -----------------------------------------------------------------
    def cinder_reason(self) -> str:
        for k in (CinderVolume, CinderAttachment, CinderService):
            if not self.snap.is_complete(k, CINDER_SCOPE):
                return self.snap.why_incomplete(k, CINDER_SCOPE)
        return ""

    def cell_gap(
        self, cell: str | None, kinds: tuple[FactType, ...] = (Instance, Migration, BlockDeviceMapping)
    ) -> tuple[str, str] | None:
        """(scope, reason) when `kinds` (the instances, migrations and mappings) of `cell`
        were not read whole."""
        if cell is None:
            return None
        scope = cell_scope(cell)
        for k in kinds:
            if not self.snap.is_complete(k, scope):
                return scope, self.snap.why_incomplete(k, scope)
        return None

    def nova_gaps(
        self, kinds: tuple[FactType, ...] = (Instance, Migration, BlockDeviceMapping)
    ) -> list[tuple[str, str]]:
        """Every scope whose `kinds` were not read whole: each cell's, and the API
        database's cell list (a cell it did not name was not read at all, so nothing can
        be known of the guests and volumes there)."""
        gaps = []
        if not self.snap.is_complete(Cell, API_SCOPE):
            gaps.append((API_SCOPE, self.snap.why_incomplete(Cell, API_SCOPE)))
        names = set(self.instances.cell_names)
        for k in kinds:
            names.update(s[len("cell:") :] for s in self.snap.scopes(k) if s.startswith("cell:"))
        for name in sorted(names):
            gap = self.cell_gap(name, kinds)
            if gap:
                gaps.append(gap)
        return gaps

    def instance_gap(self, uuid: str, kinds: tuple[FactType, ...] = (Instance, Migration)) -> tuple[str, str] | None:
        """(scope, reason) when what a live instance's cell says of it (`kinds`: its row
        and migrations by default) was not read whole, or when its row is a hidden
        cross-cell copy while another cell, which may hold the copy the API shows, was
        not."""
        row = self.instances.primary(uuid)
        if row is None:
            return None
        gap = self.cell_gap(row.cell, kinds)
        if gap is None and row.hidden:
            gap = next(iter(self.nova_gaps((Instance, *kinds))), None)
        return gap

    def explaining_gaps(self) -> list[tuple[str, str]]:
        """What must be complete before an iSCSI target or LUN on a host can be called
        unexplained: Cinder's attachments (their connectors) and Nova everywhere (a guest
        may come to this host from any cell)."""
        if self._explaining_gaps is None:
            cinder = [] if self.cinder_complete else [(CINDER_SCOPE, self.cinder_reason())]
            self._explaining_gaps = cinder + self.nova_gaps()
        return self._explaining_gaps

    def session_gaps(self, host: str) -> list[tuple[str, str]]:
        """What must be complete before a session, or a LUN under it, on `host` can be
        called unneeded: the explaining gaps, and the host's domains (a guest's disk).  The
        cells a scoped run did not read are not needed for a host of a cell it read: a
        host's guests and their moves are in its own cell's database (nova-compute writes
        only there; a cross-cell move keeps a copy and a migration record in each cell)."""
        gap = self.host_gap(host, DomainVolume)
        gaps = self.explaining_gaps()
        if self.snap.scope and self.snap.host_cells().get(host) in self.snap.inside_cells():
            gaps = [g for g in gaps if not self.snap.outside(g[0])]
        return gaps + ([gap] if gap else [])

    def places_gaps(self) -> list[tuple[str, str]]:
        """Every scope of the five places not read whole: Cinder, Nova, and each host's
        domains and sessions."""
        if self._places_gaps is None:
            gaps = list(self.explaining_gaps())
            for kind in (DomainVolume, IscsiSession):
                gaps += [
                    (c.scope, c.reason or f"{kind_of(kind)} is partial") for c in self.snap.incomplete_scopes(kind)
                ]
            self._places_gaps = gaps
        return self._places_gaps

    def undecided(
        self, out: CheckOutput, gaps: Iterable[tuple[str, str]], about: ObjectRef | None = None, walked: bool = False
    ) -> bool:
        """Record every (scope, reason) of `gaps` as undecided (for `about`, the object
        judged; `walked`: for what lies there); whether there was any.  A check whose
        findings start from a row another kind explains (an attachment, a mapping, a disk)
        loses them silently when that row's scope was not read, so it says so up front,
        whatever it would have found (for the rows it walks: `walked`)."""
        gaps = list(gaps)
        for scope, reason in gaps:
            out.inconclusive(scope, reason, place_ref(scope) if walked else about)
        return bool(gaps)

    def host_gap(self, host: str, kind: FactType) -> tuple[str, str] | None:
        scope = host_scope(host)
        if not self.snap.is_complete(kind, scope):
            return scope, self.snap.why_incomplete(kind, scope)
        return None

    # -- what Cinder and Nova say -----------------------------------------------------
    def live_bdm(self, instance_uuid: str, volume_id: str) -> BlockDeviceMapping | None:
        return next((b for b in self.bdms_of_instance.get(instance_uuid, ()) if b.volume_id == volume_id), None)

    def cinder_attached(self, volume_id: str | None, instance_uuid: str) -> CinderAttachment | None:
        """Cinder's live attachment of `volume_id` to `instance_uuid` in state "attached"."""
        return next(
            (
                a
                for a in (self.attachments_of.get(volume_id, ()) if volume_id is not None else ())
                if a.instance_uuid == instance_uuid and a.attach_status == "attached"
            ),
            None,
        )

    def volume_service_alive(self, volume: CinderVolume, down_after: float) -> bool | None:
        """Whether the cinder-volume service of `volume.host` ("host@backend#pool") reported
        within `down_after` seconds; None when no such service is listed."""
        if not volume.host:
            return None
        backend = volume.host.split("#", 1)[0]
        svc = next((s for s in self.services if s.host == backend), None)
        if svc is None or svc.updated_at is None:
            return None
        return (self.snap.taken_at - svc.updated_at).total_seconds() <= down_after and not svc.disabled

    # -- iSCSI ------------------------------------------------------------------------
    def openstack_iqns(self) -> set[str]:
        """Targets OpenStack knows: named in a BDM's or an attachment's connection_info
        (deleted attachments too: a leaked session outlives its row), or carrying a Cinder
        volume id (LVM, tgt and LIO name targets volume-<id>)."""
        if self._openstack_iqns is None:
            iqns: set[str] = set()
            for b in self.snap.of(BlockDeviceMapping):
                iqns.update(iscsi_iqns(b))
            for a in self.attachment_by_id.values():
                iqns.update(iscsi_iqns(a))
            self._openstack_iqns = iqns
        return self._openstack_iqns

    def is_openstack_iqn(self, iqn: str) -> bool:
        if iqn in self.openstack_iqns():
            return True
        return any(m.group(0) in self.volumes for m in _UUID.finditer(iqn.lower()))

    def expected_iqns(self, host: str) -> set[str]:
        """Targets `host` may be logged in to: those of the live BDMs of every instance
        whose guest may be there (its host, both ends of a migration in progress), and of
        every live Cinder attachment whose connector was this host."""
        return set(self.expected_luns(host))

    def expected_luns(self, host: str) -> dict[str, set[int | None]]:
        """{target IQN: the LUNs `host` may hold of it} for the same mappings and
        attachments; a LUN osfsck cannot tell (not a number, an unknown addressing mode)
        is None."""
        if self._expected is None:
            expected: dict[str, dict[str, set[int | None]]] = {}
            idx = self.instances
            for uuid, bdms in self.bdms_of_instance.items():
                paths = [p for b in bdms for p in b.iscsi_paths]
                if paths:
                    for h in idx.expected_hosts(uuid):
                        _add(expected, h, paths)
            for atts in self.attachments_of.values():
                for a in atts:
                    if a.attached_host:
                        att_paths = a.iscsi_paths
                        _add(expected, a.attached_host, att_paths)
                        _add(expected, a.attached_host.split(".", 1)[0], att_paths)
            self._expected = expected
        out: dict[str, set[int | None]] = defaultdict(set)
        for name in {host, host.split(".", 1)[0]}:
            for iqn, luns in self._expected.get(name, {}).items():
                out[iqn] |= luns
        return dict(out)

    def used_on_host(self, host: str) -> tuple[set[str], set[tuple[str, int | None]]]:
        """What the domains on `host` use as disks: kernel device names (`/dev/sdb`, as
        os-brick gives Nova since 1.14, or `/dev/dm-3` with multipath) and (IQN, LUN) of
        /dev/disk/by-path/ip-<portal>-iscsi-<iqn>-lun-<n> links (older os-brick)."""
        devices, luns = set(), set()
        for d in self.disks_on_host.get(host, ()):
            src = d.source or ""
            if not src.startswith("/dev/"):
                continue
            devices.add(src[len("/dev/") :])
            if "-iscsi-" in src:
                iqn, _, lun = src.split("-iscsi-", 1)[1].rpartition("-lun-")
                luns.add((iqn, int(lun) if lun.isdigit() else None) if iqn else (lun, None))
        return devices, luns

    def luns_of_disks(self, host: str) -> set[tuple[str, int | None]]:
        """(IQN, LUN) that Cinder gave this host, in any attachment (deleted ones too), for
        a volume a domain on the host still has as a disk: in use whatever its source
        (`/dev/dm-N` hides which SCSI disks it is made of), e.g. the guest an evacuation
        left behind until nova-compute starts there again and cleans it up."""
        serials = {d.serial for d in self.disks_on_host.get(host, ())}
        return {
            (iqn, lun)
            for serial in serials
            for a in self.every_attachment_of.get(serial, ())
            if same_host(a.attached_host, host)
            for _, iqn, lun in a.iscsi_paths
        }

    def attachments_naming(self, iqn: str, lun: int | None) -> list[CinderAttachment]:
        """Every attachment (deleted ones too) whose connection_info gives this LUN of the
        target, by id: indexed once, on first use."""
        if self._naming is None:
            naming: dict[tuple[str, int | None], list[CinderAttachment]] = defaultdict(list)
            for a in self.attachment_by_id.values():
                for key in {(i, n) for _, i, n in a.iscsi_paths}:
                    naming[key].append(a)
            self._naming = {k: sorted(v, key=lambda a: a.id) for k, v in naming.items()}
        return self._naming.get((iqn, lun), [])

    def hosts_with_session(self, iqns: Iterable[str]) -> list[str]:
        wanted = set(iqns)
        return sorted({s.host for ss in self.sessions.values() for s in ss if s.target_iqn in wanted})


def _add(expected: dict[str, dict[str, set[int | None]]], host: str, paths: Iterable[IscsiPath]) -> None:
    targets = expected.setdefault(host, {})
    for _, iqn, lun in paths:
        targets.setdefault(iqn, set()).add(lun)


def is_live(a: CinderAttachment) -> bool:
    return not a.deleted and (a.attach_status or "") not in ATTACHMENT_GONE


def volume_index(snap: Snapshot) -> VolumeIndex:
    idx = snap.memo.get("volume_index")
    if idx is None:
        # a weak reference back, as instance_index does: no cycle through the memo
        idx = snap.memo["volume_index"] = VolumeIndex(weakref.proxy(snap), instance_index(snap))
    return idx


# the grace for a volume operation in flight: attach and detach finish in seconds
MIN_AGE = 600


def volume_ref(volume_id: str) -> ObjectRef:
    return ObjectRef("volume", volume_id, CINDER_SCOPE)


def attachment_ref(attachment_id: str) -> ObjectRef:
    return ObjectRef("volume-attachment", attachment_id, CINDER_SCOPE)


def domain_volume_ref(host: str, domain_uuid: str, volume_id: str) -> ObjectRef:
    """A volume as a disk of one domain: "<domain uuid>/<volume id>" on its host."""
    return ObjectRef("domain-volume", f"{domain_uuid}/{volume_id}", host_scope(host))


# vm_states whose guest is not (yet, or any more) on a host with its disks connected
_NOT_SETTLED = frozenset({"shelved_offloaded", "building", "deleted", "soft-delete"})


def settled_on_host(idx: InstanceIndex, uuid: str) -> Instance | None:
    """The live row of an instance whose guest should be on its host with every volume
    connected: no task in flight, no migration in progress.  None otherwise."""
    row = idx.primary(uuid)
    if row is None or not row.host or row.task_state or row.vm_state in _NOT_SETTLED:
        return None
    if idx.in_progress_migrations(uuid):
        return None
    return row


def with_cinder(snap: Snapshot, out: CheckOutput) -> VolumeIndex | None:
    """The volume index, or None after recording Cinder inconclusive: every check that
    needs Cinder's word on an attachment cannot decide without all of it."""
    vx = volume_index(snap)
    if not vx.cinder_complete:
        out.inconclusive(CINDER_SCOPE, vx.cinder_reason())
        return None
    return vx
