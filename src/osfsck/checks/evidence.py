"""How facts appear in findings' evidence: the fact values used, as plain JSON."""

from __future__ import annotations

from osfsck.model.facts.nova import Instance


def instance_evidence(i: Instance) -> dict:
    return {
        "cell": i.cell, "uuid": i.uuid, "host": i.host, "vm_state": i.vm_state,
        "task_state": i.task_state, "power_state": i.power_state, "deleted": bool(i.deleted),
        "hidden": bool(i.hidden), "project_id": i.project_id,
        "updated_at": _iso(i.updated_at), "deleted_at": _iso(i.deleted_at),
    }


def _iso(t):
    return t.isoformat() if t else None
