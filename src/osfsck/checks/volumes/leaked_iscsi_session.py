from __future__ import annotations

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.volumes.volume_index import volume_index
from osfsck.model.facts.cinder import CINDER_SCOPE, CinderAttachment, CinderService, CinderVolume
from osfsck.model.facts.hypervisor import DomainVolume, IscsiNode, IscsiSession, host_scope
from osfsck.model.facts.nova import (
    ArchivedInstance, BlockDeviceMapping, Cell, ComputeService, Instance, InstanceMapping, Migration,
)
from osfsck.model.finding import Confidence, Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class LeakedIscsiSession(Check):
    """A host is logged in to an OpenStack iSCSI target that nothing on it needs any more.

    Why it matters:
        Every leaked session keeps a SCSI disk, multipath maps and a target-side ACL; when
        Cinder deletes the volume or gives the LUN to another host, the host floods its
        kernel log with I/O errors, udev and multipathd slow down, and a later attach may
        reuse the stale /dev/sdX of someone else's data.  os-brick leaks these when a
        disconnect fails half-way; with the node record left, every reboot logs it in again.

    How it is detected:
        Only targets OpenStack knows are judged: an IQN named in some block device
        mapping's or attachment's connection_info (deleted attachments included), or
        containing a Cinder volume id.  A session to such a target is explained when a
        live mapping of an instance whose guest may be on this host (its host, or either
        end of a migration in progress) names the IQN, when a live Cinder attachment whose
        connector was this host does, or when a domain on the host uses one of its disks.
        Otherwise it is leaked.  A session with no SCSI disk attached is reported with low
        confidence: it holds little, and may be a login os-brick is still completing.

    Known false positives:
        Targets shared by many volumes (one IQN, a LUN per volume, as some arrays do) are
        explained as long as any of their volumes is attached here.  Sessions to targets
        OpenStack never named (the host's own iSCSI boot or backup disks) are never
        reported.

    Repair:
        `logout-iscsi-session` (unsafe) logs the session out and deletes its node record
        through the host agent, after checking on the host that none of its disks is in
        use; `osfsck undo` creates the node record again and logs in.
    """

    code = "VL203"
    name = "leaked-iscsi-session"
    severity = Severity.MEDIUM
    needs = (IscsiSession, IscsiNode, DomainVolume, BlockDeviceMapping, CinderVolume, CinderAttachment,
             CinderService, Instance, ArchivedInstance, InstanceMapping, Cell, Migration, ComputeService)
    relies_on = (BlockDeviceMapping, CinderAttachment, Instance, Migration, DomainVolume)
    repairs = ("logout-iscsi-session",)

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        vx = volume_index(snap)
        nodes = {(n.host, n.target_iqn, n.portal) for n in snap.of(IscsiNode)}
        gaps = None
        for host, sessions in sorted(vx.sessions.items()):
            used = _used_devices(vx, host)
            expected = vx.expected_iqns(host)
            for s in sessions:
                out.examine()
                if not vx.is_openstack_iqn(s.target_iqn) or s.target_iqn in expected:
                    continue
                in_use = sorted({d for d in s.devices if d in used} | ({s.target_iqn} & used))
                if in_use:
                    continue
                gaps = self._gaps(vx, snap) if gaps is None else gaps
                host_gap = vx.host_gap(host, DomainVolume)
                if gaps or host_gap:
                    for scope, reason in gaps + ([host_gap] if host_gap else []):
                        out.inconclusive(scope, reason)
                    continue
                subject = f"{s.target_iqn}@{s.portal}"
                disks = ", ".join(f"/dev/{d}" for d in s.devices) or "no SCSI disk"
                out.found(
                    ObjectRef("iscsi-session", subject, host_scope(host)),
                    f"{host} is logged in to {subject} (session {s.sid}, {disks}), a target no attachment, "
                    "mapping or domain on this host explains.",
                    evidence={"session": {**s._asdict(), "luns": list(s.luns), "devices": list(s.devices)},
                              "node_record": (host, s.target_iqn, s.portal) in nodes,
                              "devices_in_use": in_use},
                    confidence=Confidence.HIGH if s.devices else Confidence.LOW,
                )

    @staticmethod
    def _gaps(vx, snap) -> list[tuple[str, str]]:
        """What must be complete before a session can be called unexplained: Cinder's
        attachments, and every cell's instances, migrations and mappings (a guest may
        come to this host from any of them)."""
        gaps = [] if vx.cinder_complete else [(CINDER_SCOPE, vx.cinder_reason())]
        for name in sorted(vx.instances.cell_names):
            gap = vx.cell_gap(name)
            if gap:
                gaps.append(gap)
        return gaps


def _used_devices(vx, host: str) -> set[str]:
    """Kernel disk names and by-path sources the domains on `host` use."""
    used = set()
    for d in vx.disks_on_host.get(host, ()):
        src = d.source or ""
        if src.startswith("/dev/"):
            used.add(src[len("/dev/"):])
            if "-iscsi-" in src:   # /dev/disk/by-path/ip-<portal>-iscsi-<iqn>-lun-<n>
                used.add(src.split("-iscsi-", 1)[1].rsplit("-lun-", 1)[0])
    return used
