from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.evidence import attachment_evidence, instance_evidence, volume_evidence
from osfsck.checks.instance_index import LIVE, UNKNOWN, gone_because, instance_ref, undecided
from osfsck.checks.volumes.common import MIN_AGE, VolumeIndex, attachment_ref, volume_ref, with_cinder
from osfsck.model.facts.cinder import CinderAttachment, CinderService, CinderVolume
from osfsck.model.facts.nova import (
    API_SCOPE,
    ArchivedInstance,
    BlockDeviceMapping,
    BuildRequest,
    Cell,
    ComputeService,
    Instance,
    InstanceMapping,
    Migration,
    cell_scope,
)
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot


class _StaleVolumeAttachmentEvidenceAlways(TypedDict):
    volume: dict[str, Any]


class StaleVolumeAttachmentEvidence(_StaleVolumeAttachmentEvidenceAlways, total=False):
    """What every VL101 finding's evidence holds (and, below, what some do)."""

    attachment: dict[str, Any]
    instance: dict[str, Any]


class StaleVolumeAttachment(Check):
    """Cinder holds a volume attached to an instance that no longer has it.

    Why it matters:
        The volume cannot be attached elsewhere, deleted or retyped while Cinder thinks it
        is in use, its quota stays consumed, and a backend export (an iSCSI target, an RBD
        watcher) may remain open to a host that no longer needs it.  This is what a lost
        detach leaves: Nova finished its half and the message to Cinder never arrived, or
        the instance was deleted while its compute service was down.

    How it is detected:
        Every live attachment (not soft-deleted, not detached) of Cinder's
        volume_attachment names an instance: the attachment is stale when that instance
        is deleted, archived or unknown in every cell and the API database, or when it is
        live but has no live block device mapping for that volume.  A volume whose status
        is `in-use` with no live attachment at all, and which no live mapping names, is
        stale too.  Absence is decided only on complete sources: a partial cell or a
        partial Cinder makes the check inconclusive there.

    Known false positives:
        Attachments changed in the last `min_age` (default 10 min) are skipped: an attach
        or detach may be in flight.  Volumes being migrated or retyped (migration_status
        set) get temporary attachments and are skipped.  An instance still being built
        (a build request, no cell yet) keeps its mappings in the build request and is
        skipped.  Multi-attach volumes are judged one attachment at a time.

    Repair:
        `delete-volume-attachment` (unsafe) soft-deletes the attachment as Cinder's
        attachment_delete does, and sets the volume's status to what its remaining
        attachments imply (`available` when none remain), all conditional on the rows
        still being as seen; `reset-volume-status` (unsafe) does the latter alone for an
        `in-use` volume without attachments.
    """

    code = "VL101"
    evidence_shape = StaleVolumeAttachmentEvidence
    name = "stale-volume-attachment"
    severity = Severity.MEDIUM
    needs = (
        CinderVolume,
        CinderAttachment,
        CinderService,
        BlockDeviceMapping,
        Instance,
        ArchivedInstance,
        InstanceMapping,
        BuildRequest,
        Cell,
        Migration,
        ComputeService,
    )
    relies_on = (
        CinderVolume,
        CinderAttachment,
        BlockDeviceMapping,
        Instance,
        ArchivedInstance,
        InstanceMapping,
        BuildRequest,
        Cell,
    )
    repairs = ("delete-volume-attachment", "reset-volume-status")
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        vx = with_cinder(snap, out)
        if vx is None:
            return
        min_age = float(self.params["min_age"])
        idx = vx.instances
        for volume_id, atts in vx.attachments_of.items():
            vol = vx.volumes.get(volume_id)
            for a in atts:
                out.examine()
                if not a.instance_uuid or recent(snap, a.updated_at, min_age):
                    continue
                if vol is not None and vol.migration_status:
                    continue
                ref = attachment_ref(a.id)
                st = idx.status(a.instance_uuid)
                if undecided(out, st, ref):
                    continue
                why = gone_because(st)
                cell = st.instance.cell if st.instance else (st.archived.cell if st.archived else None)
                if st.state == LIVE:
                    gap = vx.instance_gap(a.instance_uuid, (BlockDeviceMapping,))
                    if gap:
                        out.inconclusive(*gap, ref)
                        continue
                    if vx.live_bdm(a.instance_uuid, volume_id) is not None:
                        continue
                    why = f"is live in {cell_scope(st.row.cell)} but has no block device mapping for the volume"
                elif st.state == UNKNOWN and a.instance_uuid in idx.build_requests:
                    continue
                elif st.state == UNKNOWN and not snap.is_complete(BuildRequest, API_SCOPE):
                    # an instance still being built lives only in its build request
                    out.inconclusive(API_SCOPE, snap.why_incomplete(BuildRequest, API_SCOPE), ref)
                    continue
                evidence = {"attachment": attachment_evidence(a), "volume": volume_evidence(vol) if vol else None}
                if st.instance is not None:
                    evidence["instance"] = instance_evidence(st.instance)
                out.found(
                    ref,
                    f"Cinder attachment {a.id} ({a.attach_status}) holds volume {volume_id} for instance "
                    f"{a.instance_uuid}, which {why}.",
                    related=[volume_ref(volume_id), instance_ref(a.instance_uuid, cell)],
                    evidence=evidence,
                    changed_at=a.updated_at,
                )
        self._in_use_without_attachment(snap, vx, out, min_age)

    def _in_use_without_attachment(self, snap: Snapshot, vx: VolumeIndex, out: CheckOutput, min_age: float) -> None:
        gaps = None
        for v in vx.volumes.values():
            if v.deleted or v.status != "in-use" or v.migration_status:
                continue
            out.examine()
            if vx.attachments_of.get(v.id) or recent(snap, v.updated_at, min_age):
                continue
            if any(vx.instances.primary(b.instance_uuid) for b in vx.bdms_of_volume.get(v.id, ())):
                continue  # a live instance maps it: Cinder lost the attachment, not the other way round
            # no live instance maps it: that needs every cell's instances and mappings
            gaps = vx.nova_gaps((Instance, BlockDeviceMapping)) if gaps is None else gaps
            if gaps:
                vx.undecided(out, gaps, volume_ref(v.id))
                continue
            out.found(
                volume_ref(v.id),
                f"Volume {v.id} is in-use in Cinder, but no live attachment and no live instance's "
                "block device mapping holds it.",
                evidence={"volume": volume_evidence(v)},
                changed_at=v.updated_at,
            )
