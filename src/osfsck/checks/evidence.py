"""How facts appear in findings' evidence: the fact values used, as plain JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from osfsck.model.facts.cinder import CinderAttachment, CinderVolume
from osfsck.model.facts.nova import BlockDeviceMapping, Instance


def instance_evidence(i: Instance) -> dict[str, Any]:
    return {
        "cell": i.cell,
        "uuid": i.uuid,
        "host": i.host,
        "vm_state": i.vm_state,
        "task_state": i.task_state,
        "power_state": i.power_state,
        "deleted": bool(i.deleted),
        "hidden": bool(i.hidden),
        "project_id": i.project_id,
        "updated_at": iso(i.updated_at),
        "deleted_at": iso(i.deleted_at),
    }


def iso(t: dt.datetime | None) -> str | None:
    """A time as evidence spells it: ISO 8601, naive UTC as stored; None stays None."""
    return t.isoformat() if t else None


def volume_evidence(v: CinderVolume) -> dict[str, Any]:
    return {
        "id": v.id,
        "status": v.status,
        "attach_status": v.attach_status,
        "migration_status": v.migration_status,
        "host": v.host,
        "project_id": v.project_id,
        "size_gb": v.size,
        "multiattach": bool(v.multiattach),
        "deleted": bool(v.deleted),
        "updated_at": iso(v.updated_at),
    }


def attachment_evidence(a: CinderAttachment) -> dict[str, Any]:
    return {
        "id": a.id,
        "volume_id": a.volume_id,
        "instance_uuid": a.instance_uuid,
        "attached_host": a.attached_host,
        "attach_status": a.attach_status,
        "deleted": bool(a.deleted),
        "updated_at": iso(a.updated_at),
    }


def bdm_evidence(b: BlockDeviceMapping) -> dict[str, Any]:
    return {
        "cell": b.cell,
        "id": b.id,
        "uuid": b.uuid,
        "instance_uuid": b.instance_uuid,
        "volume_id": b.volume_id,
        "attachment_id": b.attachment_id,
        "device_name": b.device_name,
        "boot_index": b.boot_index,
        "created_at": iso(b.created_at),
        "updated_at": iso(b.updated_at),
    }
