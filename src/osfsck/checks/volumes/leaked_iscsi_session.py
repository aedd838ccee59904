from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, place_ref
from osfsck.checks.volumes.common import volume_index
from osfsck.model.facts.cinder import CinderAttachment, CinderService, CinderVolume
from osfsck.model.facts.hypervisor import DomainVolume, IscsiNode, IscsiSession, host_scope
from osfsck.model.facts.nova import (
    ArchivedInstance,
    BlockDeviceMapping,
    Cell,
    ComputeService,
    Instance,
    InstanceMapping,
    Migration,
)
from osfsck.model.finding import Confidence, Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class LeakedIscsiSessionEvidence(TypedDict):
    """What every VL203 finding's evidence holds."""

    devices_in_use: list[str]
    node_record: bool
    session: dict[str, Any]


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
        mapping's or attachment's connection_info (Nova's nested shape and Cinder's
        flattened one, every multipath path, deleted attachments included), or
        containing a Cinder volume id.  A session to such a target is explained when a
        live mapping of an instance whose guest may be on this host (its host, or either
        end of a migration in progress) names the IQN, when a live Cinder attachment whose
        connector was this host does, or when a domain on the host uses one of its disks.
        Otherwise it is leaked.  A session with no SCSI disk attached is reported with low
        confidence: it holds little, and may be a login os-brick is still completing.
        Cinder, every cell's instances, migrations and mappings, and the API database's
        cell list must have been read whole: a guest of a cell not read may need it.

    Known false positives:
        Targets shared by many volumes (one IQN, a LUN per volume, as Pure and ONTAP do)
        are explained as long as any of their volumes is attached here: logging out would
        cut them all.  A LUN of such a target that no volume needs any more is
        stale-iscsi-lun's (VL205).  Sessions to targets OpenStack never named (the host's
        own iSCSI boot or backup disks) are never reported.

    Repair:
        `logout-iscsi-session` (unsafe) logs the session out and deletes its node record
        through the host agent, after checking on the host that none of its disks is in
        use; `osfsck undo` creates the node record again and logs in.
    """

    code = "VL203"
    evidence_shape = LeakedIscsiSessionEvidence
    name = "leaked-iscsi-session"
    severity = Severity.MEDIUM
    needs = (
        IscsiSession,
        IscsiNode,
        DomainVolume,
        BlockDeviceMapping,
        CinderVolume,
        CinderAttachment,
        CinderService,
        Instance,
        ArchivedInstance,
        InstanceMapping,
        Cell,
        Migration,
        ComputeService,
    )
    relies_on = (BlockDeviceMapping, CinderAttachment, Instance, Migration, DomainVolume, Cell)
    repairs = ("logout-iscsi-session",)

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        vx = volume_index(snap)
        nodes = {(n.host, n.target_iqn, n.portal) for n in snap.of(IscsiNode)}
        for host, sessions in sorted(vx.sessions.items()):
            # which target is OpenStack's and which one a volume needs can only be told
            # with Cinder and Nova whole, and the host's domains read
            if vx.undecided(out, vx.session_gaps(host), place_ref(host_scope(host))):
                continue
            devices, luns = vx.used_on_host(host)
            expected = vx.expected_iqns(host)
            for s in sessions:
                out.examine()
                if not vx.is_openstack_iqn(s.target_iqn) or s.target_iqn in expected:
                    continue
                in_use = sorted(
                    {d for d in s.devices if d in devices} | {f"{i}/lun-{n}" for i, n in luns if i == s.target_iqn}
                )
                if in_use:
                    continue
                subject = f"{s.target_iqn}@{s.portal}"
                disks = ", ".join(f"/dev/{d}" for d in s.devices) or "no SCSI disk"
                out.found(
                    ObjectRef("iscsi-session", subject, host_scope(host)),
                    f"{host} is logged in to {subject} (session {s.sid}, {disks}), a target no attachment, "
                    "mapping or domain on this host explains.",
                    evidence={
                        "session": {**s._asdict(), "luns": list(s.luns), "devices": list(s.devices)},
                        "node_record": (host, s.target_iqn, s.portal) in nodes,
                        "devices_in_use": in_use,
                    },
                    confidence=Confidence.HIGH if s.devices else Confidence.LOW,
                )
