from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.evidence import attachment_evidence, bdm_evidence, instance_evidence, volume_evidence
from osfsck.checks.instance_index import instance_ref
from osfsck.checks.volumes.common import MIN_AGE, VolumeIndex, is_live, volume_ref, with_cinder
from osfsck.model.facts.cinder import CinderAttachment, CinderService, CinderVolume
from osfsck.model.facts.nova import (
    ArchivedInstance,
    BlockDeviceMapping,
    Cell,
    Instance,
    InstanceMapping,
    Migration,
    cell_scope,
)
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class DanglingBlockDeviceMappingEvidence(TypedDict):
    """What every VL102 finding's evidence holds."""

    attachment: dict[str, Any] | None
    block_device_mapping: dict[str, Any]
    instance: dict[str, Any]
    volume: dict[str, Any] | None


class DanglingBlockDeviceMapping(Check):
    """A live instance's block device mapping names a volume Cinder no longer attaches to it.

    Why it matters:
        Nova believes the volume is attached: the next reboot, migration or resize asks
        os-brick to connect a volume that is deleted, attached elsewhere or without an
        export, and fails, leaving the instance in ERROR.  A dangling boot-from-volume
        root means the instance cannot start at all.  Volume quotas and the tenant's view
        (`openstack server show`) disagree with Cinder.

    How it is detected:
        Every live volume row of every cell's block_device_mapping whose instance is live
        (the copy the API shows) is compared with Cinder: the volume is unknown to Cinder,
        soft-deleted there, the attachment the mapping names (attachment_id) is gone or
        belongs to another instance, or, for a mapping made before attachment ids
        (pre-Queens), the volume is `available` with no attachment for the instance.

    Known false positives:
        Mappings created or changed in the last `min_age` (default 10 min) are skipped, as
        are instances still building: an attach creates the mapping before Cinder's
        attachment.  Volumes being migrated or retyped (migration_status set) are skipped:
        swap_volume moves the mapping to the new volume at the end.

    Repair:
        `soft-delete-block-device-mapping` (unsafe) soft-deletes the mapping the way Nova
        does (deleted = id, deleted_at = now), conditional on it still naming the same
        volume and attachment; `osfsck undo` restores it.  For a boot-from-volume root the
        runbook applies instead: the instance needs a rebuild or a new root volume.
    """

    code = "VL102"
    evidence_shape = DanglingBlockDeviceMappingEvidence
    name = "dangling-block-device-mapping"
    severity = Severity.MEDIUM
    needs = (
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
    relies_on = (CinderVolume, CinderAttachment)
    repairs = ("soft-delete-block-device-mapping", "dangling-root-volume-runbook")
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        vx = with_cinder(snap, out)
        if vx is None:
            return
        min_age = float(self.params["min_age"])
        for b in snap.of(BlockDeviceMapping):
            if not b.volume_id:
                continue  # an image-to-volume root whose volume is not created yet
            row = vx.instances.primary(b.instance_uuid)
            if row is None or row.cell != b.cell or row.vm_state == "building":
                continue
            out.examine()
            if recent(snap, b.updated_at or b.created_at, min_age):
                continue
            vol = vx.volumes.get(b.volume_id)
            if vol is not None and vol.migration_status:
                continue
            why, att = self._why(vx, b, vol)
            if why is None:
                continue
            root = b.boot_index == 0
            evidence = {
                "block_device_mapping": bdm_evidence(b),
                "instance": instance_evidence(row),
                "volume": volume_evidence(vol) if vol else None,
                "attachment": attachment_evidence(att) if att else None,
            }
            out.found(
                ObjectRef("block-device-mapping", b.uuid or str(b.id), cell_scope(b.cell)),
                f"Block device mapping {b.uuid or b.id} of instance {b.instance_uuid} "
                f"({'its boot volume' if root else b.device_name or 'a volume'}) names volume {b.volume_id}, "
                f"but {why}.",
                related=[instance_ref(b.instance_uuid, b.cell), volume_ref(b.volume_id)],
                evidence=evidence,
                changed_at=b.updated_at or b.created_at,
                severity=Severity.HIGH if root else None,
            )

    @staticmethod
    def _why(
        vx: VolumeIndex, b: BlockDeviceMapping, vol: CinderVolume | None
    ) -> tuple[str | None, CinderAttachment | None]:
        """(why the mapping dangles, the attachment it names) or (None, ...) when it does not."""
        if vol is None:
            return "Cinder has no such volume", None
        if vol.deleted:
            return "Cinder has deleted it", None
        if b.attachment_id:
            att = vx.attachment_by_id.get(b.attachment_id)
            if att is None or not is_live(att):
                return f"Cinder has no live attachment {b.attachment_id} (the volume is {vol.status})", att
            if att.instance_uuid != b.instance_uuid:
                return f"Cinder's attachment {att.id} belongs to instance {att.instance_uuid}", att
            return None, att
        if vol.status == "available" and not any(
            a.instance_uuid == b.instance_uuid for a in vx.attachments_of.get(vol.id, ())
        ):
            return "Cinder shows it available, attached to nothing", None
        return None, None
