from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, place_ref
from osfsck.checks.volumes.common import VolumeIndex, volume_index
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
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class StaleIscsiLunEvidence(TypedDict):
    """What every VL205 finding's evidence holds."""

    host: str
    last_named_by: list[dict[str, Any]]
    lun: int
    needed_luns: list[int]
    paths: list[dict[str, Any]]
    target_iqn: str


class StaleIscsiLun(Check):
    """A host keeps the SCSI disk of a LUN that no volume needs, under a session that others do.

    Why it matters:
        Arrays that export all their volumes through one target (one IQN, a LUN per
        volume, as Pure and NetApp ONTAP do) reuse LUN numbers: when os-brick's
        disconnect failed half-way, or the attachment was deleted without one, the
        host keeps /dev/sdX of a LUN the array may give next to another volume, even
        another tenant's (the leftover-device exposure of CVE-2023-2088), or answers
        with I/O errors that slow udev and multipathd.  The session itself is needed by
        the volumes still attached, so leaked-iscsi-session rightly leaves it alone.

    How it is detected:
        For every session to an OpenStack target that the host needs (leaked-iscsi-
        session's rule: a live mapping of a guest that may be on this host, or a live
        attachment whose connector was this host, names the IQN), each SCSI disk the
        session lists (`iscsiadm -m session -P 3`, "Lun: N" and "Attached scsi disk")
        is matched by LUN against the LUNs those connection_infos give for the IQN
        (Nova's nested shape and Cinder's flattened one, every multipath path, the LUN
        as the kernel numbers it for the driver's addressing mode).  A disk whose LUN
        none of them names, and that no domain on the host uses, is stale.

    Known false positives:
        When a connection_info of the target gives a LUN osfsck cannot read (not a
        number, an addressing mode os-brick does not know), the session's LUNs are not
        judged.  A LUN Cinder gave this host for a volume a domain here still has as a
        disk is in use, even without a live attachment (the guest an evacuation left
        until nova-compute cleans it up).  A LUN scanned in by hand for another purpose (a backup) under an
        OpenStack target is reported: it is worth a look all the same.

    Repair:
        A runbook, never automatic: the disk sits under a session that attached guests
        use, so logging out is not an option, and deleting a SCSI device that a guest,
        multipathd or LVM still holds takes the disk from under them.  The runbook
        checks the holders, flushes and deletes the device, and has the array's
        mapping of that LUN to the host removed.
    """

    code = "VL205"
    evidence_shape = StaleIscsiLunEvidence
    name = "stale-iscsi-lun"
    severity = Severity.HIGH
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
    repairs = ("stale-iscsi-lun-runbook",)

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        vx = volume_index(snap)
        for host, sessions in sorted(vx.sessions.items()):
            # Whether a session, or a LUN under it, is needed can only be told with Cinder
            # and Nova whole, and the host's domains read: with a gap nothing is judged here.
            if vx.undecided(out, vx.session_gaps(host), place_ref(host_scope(host))):
                continue
            expected = vx.expected_luns(host)
            devices, used_luns = vx.used_on_host(host)
            used_luns |= vx.luns_of_disks(host)
            stale: dict[tuple[str, int], list[tuple[IscsiSession, str]]] = {}  # (iqn, lun) -> its disks, one per path
            for s in sessions:
                needed = expected.get(s.target_iqn)
                if needed is None or not vx.is_openstack_iqn(s.target_iqn):
                    continue  # not OpenStack's, or not needed at all: leaked-iscsi-session's
                for lun, dev in zip(s.luns, s.devices):
                    out.examine()
                    if None in needed or lun is None or lun in needed:
                        continue
                    stale.setdefault((s.target_iqn, lun), []).append((s, dev))
            for (iqn, lun), paths in sorted(stale.items()):
                paths.sort(key=lambda p: (p[0].portal, p[0].sid))
                if any(dev in devices for _, dev in paths) or (iqn, lun) in used_luns:
                    continue  # a guest uses it: unexpected-volume-in-domain's business
                subject = f"{iqn}/lun-{lun}"
                disks = ", ".join(f"/dev/{dev} (session {s.sid}, {s.portal})" for s, dev in paths)
                # every LUN a number: a target with an unreadable one was let go above
                served = sorted(n for n in expected[iqn] if n is not None)
                out.found(
                    ObjectRef("iscsi-lun", subject, host_scope(host)),
                    f"{host} keeps LUN {lun} of {iqn} ({subject}) as {disks}, though no volume it needs uses "
                    f"that LUN; the target serves LUN {', '.join(map(str, served))} here.",
                    evidence={
                        "host": host,
                        "target_iqn": iqn,
                        "lun": lun,
                        "paths": [{"sid": s.sid, "portal": s.portal, "device": dev} for s, dev in paths],
                        "needed_luns": served,
                        "last_named_by": _named_by(vx, iqn, lun),
                    },
                )


def _named_by(vx: VolumeIndex, iqn: str, lun: int) -> list[dict[str, Any]]:
    """The attachments (deleted ones too) whose connection_info gave this LUN of the target:
    which volume the stale disk was, as far as Cinder remembers."""
    return [
        {
            "attachment_id": a.id,
            "volume_id": a.volume_id,
            "instance_uuid": a.instance_uuid,
            "attached_host": a.attached_host,
            "deleted": bool(a.deleted),
        }
        for a in vx.attachments_naming(iqn, lun)
    ]
