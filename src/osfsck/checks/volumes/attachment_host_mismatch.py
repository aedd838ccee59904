from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.evidence import attachment_evidence, instance_evidence
from osfsck.checks.instance_index import UNDECIDED, instance_ref
from osfsck.checks.volumes.common import MIN_AGE, attachment_ref, iscsi_iqns, same_host, volume_ref, with_cinder
from osfsck.model.facts.cinder import CinderAttachment, CinderService, CinderVolume
from osfsck.model.facts.hypervisor import IscsiSession
from osfsck.model.facts.nova import (
    ArchivedInstance,
    BlockDeviceMapping,
    Cell,
    Instance,
    InstanceMapping,
    Migration,
)
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot


class AttachmentHostMismatchEvidence(TypedDict):
    """What every VL104 finding's evidence holds."""

    attachment: dict[str, Any]
    instance: dict[str, Any]
    session_hosts: list[str]


class AttachmentHostMismatch(Check):
    """Cinder's attachment names another host than the one Nova runs the instance on.

    Why it matters:
        Cinder exports the volume to the host in `attached_host` (its connector): after a
        migration whose last step was lost, the export, the iSCSI ACL or the RBD lock may
        still point at the old host.  The guest keeps working until the next reconnect,
        then loses its disk; a detach would terminate the connection on the wrong host,
        and multi-attach checks judge the wrong host.

    How it is detected:
        Every live attachment in state `attached` of a live instance with a host: the
        attachment's `attached_host` and Nova's instance host must be the same host (a
        short name and its FQDN count as one).  The hosts holding a session to the
        volume's iSCSI target are given as the third witness.

    Known false positives:
        An instance with a migration in progress legitimately has connections on both
        hosts and is skipped, as are attachments changed in the last `min_age` (default
        10 min) and volumes being migrated or retyped.  A deployment whose Cinder
        connector uses another host name than nova.conf's `host` (an unusual `my_ip`
        based setup) is flagged everywhere: the blast-radius guard then refuses repairs.

    Repair:
        `fix-attachment-host` (unsafe) records Nova's host in the attachment when the only
        session to the volume's target is on that host (two witnesses against one),
        conditional on the host seen; `osfsck undo` restores it.  Otherwise a runbook:
        confirm where the guest runs, then `nova-manage volume_attachment refresh`
        rebuilds the attachment's connector and connection info from that host.
    """

    code = "VL104"
    evidence_shape = AttachmentHostMismatchEvidence
    name = "attachment-host-mismatch"
    severity = Severity.MEDIUM
    needs = (
        CinderVolume,
        CinderAttachment,
        CinderService,
        BlockDeviceMapping,
        Instance,
        ArchivedInstance,
        InstanceMapping,
        Cell,
        Migration,
        IscsiSession,
    )
    relies_on = (CinderAttachment, Instance, Migration)
    repairs = ("fix-attachment-host", "attachment-host-mismatch-runbook")
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        vx = with_cinder(snap, out)
        if vx is None:
            return
        min_age = float(self.params["min_age"])
        idx = vx.instances
        if vx.attachments_of:
            vx.undecided(out, vx.nova_gaps((Instance, Migration)), walked=True)  # an attachment's guest may be there
        for volume_id, atts in vx.attachments_of.items():
            vol = vx.volumes.get(volume_id)
            for a in atts:
                if a.attach_status != "attached" or not a.instance_uuid or not a.attached_host:
                    continue
                out.examine()
                if recent(snap, a.updated_at, min_age) or (vol is not None and vol.migration_status):
                    continue
                row = idx.primary(a.instance_uuid)
                if row is None:  # its guest, unless known gone, may be live in a cell not read
                    if idx.status(a.instance_uuid).state == UNDECIDED:
                        vx.undecided(out, vx.nova_gaps((Instance, Migration)), attachment_ref(a.id))
                    continue
                if not row.host or idx.in_progress_migrations(a.instance_uuid):
                    continue
                if same_host(a.attached_host, row.host):
                    continue
                gap = vx.instance_gap(a.instance_uuid)
                if gap:
                    out.inconclusive(*gap, attachment_ref(a.id))
                    continue
                iqns = iscsi_iqns(a)
                holders = vx.hosts_with_session(iqns) if iqns else []
                seen = f"; sessions to its target are on {', '.join(holders)}" if holders else ""
                out.found(
                    attachment_ref(a.id),
                    f"Cinder attachment {a.id} connects volume {volume_id} to {a.attached_host}, but Nova runs "
                    f"instance {a.instance_uuid} on {row.host}{seen}.",
                    related=[volume_ref(volume_id), instance_ref(a.instance_uuid, row.cell)],
                    evidence={
                        "attachment": attachment_evidence(a),
                        "instance": instance_evidence(row),
                        "session_hosts": holders,
                    },
                    changed_at=a.updated_at,
                )
