from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.evidence import bdm_evidence, instance_evidence
from osfsck.checks.instance_index import instance_ref
from osfsck.checks.volumes.common import MIN_AGE, attachment_ref, iscsi_iqns, settled_on_host, with_cinder
from osfsck.model.facts.cinder import CinderAttachment, CinderService, CinderVolume
from osfsck.model.facts.hypervisor import IscsiNode, IscsiSession, host_scope
from osfsck.model.facts.nova import (
    ArchivedInstance,
    BlockDeviceMapping,
    Cell,
    Instance,
    InstanceMapping,
    Migration,
)
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class MissingIscsiSessionEvidence(TypedDict):
    """What every VL204 finding's evidence holds."""

    block_device_mapping: dict[str, Any]
    instance: dict[str, Any]
    lun_missing: bool
    luns: list[int | None]
    portal: str | None  # None: a connection_info without a portal for its first path
    sessions: list[int]
    target_iqns: list[str]


class MissingIscsiSession(Check):
    """An attached iSCSI volume has no session on the host that runs its instance.

    Why it matters:
        Without its session the guest's disk has no path: I/O hangs or fails, and the
        next hard reboot or migration of the instance fails to find the device.  It is
        what a target restart, a network cut longer than the replacement timeout, or a
        manual logout leave; Nova notices only when it next connects the volume.

    How it is detected:
        For every live instance settled on its host (no task, no migration in progress,
        not shelved-offloaded), every live mapping whose connection_info is iSCSI and
        which Cinder confirms attached to the instance needs a session on that host to
        one of the mapping's target IQNs (any path of a multipath volume will do) that
        carries the volume's LUN: on a target shared by many volumes (one IQN, a LUN
        each) the session may be there for the others while this volume's disk is gone.
        Hosts whose sessions were not read completely are inconclusive; hosts the iSCSI
        source does not cover (other hypervisors) are skipped.

    Known false positives:
        RBD, NFS and Fibre Channel volumes need no iSCSI session and are not judged.  A
        session that lists no SCSI disk at all, or a LUN osfsck cannot read, counts as
        carrying the volume.
        Mappings changed in the last `min_age` (default 10 min) are skipped: os-brick may
        still be logging in.

    Repair:
        `login-iscsi-session` (unsafe) logs the host in again through the host agent when
        its node record for the target is still there (os-brick wrote it at attach) and
        no session to it is left.  Otherwise a runbook: rediscover and log in, rescan a
        session that lost the LUN, or let Nova reconnect the volume with a hard reboot.
    """

    code = "VL204"
    evidence_shape = MissingIscsiSessionEvidence
    name = "missing-iscsi-session"
    severity = Severity.HIGH
    needs = (
        IscsiSession,
        IscsiNode,
        BlockDeviceMapping,
        CinderVolume,
        CinderAttachment,
        CinderService,
        Instance,
        ArchivedInstance,
        InstanceMapping,
        Cell,
        Migration,
    )
    relies_on = (IscsiSession,)
    repairs = ("login-iscsi-session", "missing-iscsi-session-runbook")
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        vx = with_cinder(snap, out)
        if vx is None:
            return
        min_age = float(self.params["min_age"])
        covered = set(snap.scopes(IscsiSession))
        vx.undecided(out, vx.nova_gaps(), walked=True)  # a mapping, or its guest, may be there
        for uuid, bdms in vx.bdms_of_instance.items():
            row = settled_on_host(vx.instances, uuid)
            if row is None or row.host is None or host_scope(row.host) not in covered:
                continue
            ref = instance_ref(uuid, row.cell)
            gap = vx.instance_gap(uuid)  # a migration we could not read would unsettle it
            if gap:
                out.inconclusive(*gap, ref)
                continue
            for b in bdms:
                iqns = iscsi_iqns(b)
                if not iqns or b.cell != row.cell:
                    continue
                out.examine()
                vol = vx.volumes.get(b.volume_id) if b.volume_id is not None else None
                if recent(snap, b.updated_at or b.created_at, min_age) or (vol is not None and vol.migration_status):
                    continue
                att = vx.cinder_attached(b.volume_id, uuid)
                if att is None:
                    continue
                gap = vx.host_gap(row.host, IscsiSession)
                if gap:
                    out.inconclusive(*gap, ref)
                    continue
                sessions = [s for s in vx.sessions.get(row.host, ()) if s.target_iqn in iqns]
                luns = {lun for _, _, lun in b.iscsi_paths}
                if sessions and (None in luns or any(not s.luns or luns & set(s.luns) for s in sessions)):
                    continue  # a session carries its LUN (or lists none, or the LUN is unreadable)
                subject = f"{uuid}/{b.volume_id}"
                what = (  # (with sessions, every LUN is a number: an unreadable one was let go above)
                    f"{row.host}'s session to its target carries no LUN {_luns(n for n in luns if n is not None)}"
                    if sessions
                    else f"{row.host} has no session to its target"
                )
                out.found(
                    ObjectRef("volume-connection", subject, host_scope(row.host)),
                    f"Volume {b.volume_id} of instance {uuid} is attached over iSCSI ({iqns[0]}), but {what} "
                    f"({subject}).",
                    related=[instance_ref(uuid, row.cell), attachment_ref(att.id)],
                    evidence={
                        "instance": instance_evidence(row),
                        "block_device_mapping": bdm_evidence(b),
                        "target_iqns": list(iqns),
                        "portal": b.iscsi_paths[0][0],
                        # a LUN the source could not read is None: after the numbers
                        "luns": sorted(luns, key=lambda n: (n is None, n or 0)),
                        "lun_missing": bool(sessions),
                        "sessions": sorted(s.sid for s in sessions),
                    },
                    changed_at=b.updated_at or b.created_at,
                )


def _luns(luns: Iterable[int]) -> str:
    return " or ".join(str(n) for n in sorted(luns))
