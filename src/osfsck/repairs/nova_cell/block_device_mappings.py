"""Soft-delete a block device mapping whose volume Cinder no longer attaches to the instance."""

from __future__ import annotations

from typing import Any

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context
from osfsck.repairs.conditional_update import ConditionalUpdate, now_stored


class SoftDeleteBlockDeviceMapping(ConditionalUpdate):
    """What Nova's BlockDeviceMapping.destroy() writes (block_device_mapping_destroy, an
    oslo.db soft_delete): deleted = id, deleted_at = now, updated_at kept.  Conditional on the
    mapping still being live and naming the same volume and attachment, so a volume swapped
    or re-attached meanwhile is left alone.  A boot volume's mapping is refused: without it
    the instance has no root disk, and the runbook applies."""

    name = "soft-delete-block-device-mapping"
    safety = Safety.UNSAFE
    writes = (
        "Nova cell database: UPDATE block_device_mapping SET deleted=id, deleted_at=now WHERE id=? "
        "AND instance_uuid=? AND deleted=0 AND volume_id=<seen> AND attachment_id=<seen>"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        b = finding.evidence["block_device_mapping"]
        if b["boot_index"] == 0:
            return "it maps the instance's boot volume: a person decides (dangling-root-volume-runbook)"
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=(
                f"soft-delete block device mapping {b['uuid'] or b['id']} of instance {b['instance_uuid']} "
                f"({b['device_name'] or 'no device'}, volume {b['volume_id']}) in cell {b['cell']}"
            ),
            params={
                "db": f"cell:{b['cell']}",
                "id": b["id"],
                "instance_uuid": b["instance_uuid"],
                "volume_id": b["volume_id"],
                "attachment_id": b["attachment_id"],
            },
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        return {
            "db": p["db"],
            "table": "block_device_mapping",
            "key": {"id": p["id"], "instance_uuid": p["instance_uuid"]},
            "expect": {
                "deleted": 0,
                "deleted_at": None,
                "volume_id": p["volume_id"],
                "attachment_id": p["attachment_id"],
            },
            "values": {"deleted": p["id"], "deleted_at": now_stored()},
        }
