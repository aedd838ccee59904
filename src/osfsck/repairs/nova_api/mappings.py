"""Instance mapping corrections in the API database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import column, delete, insert, select, table

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, Repair, RepairError
from osfsck.repairs.conditional_update import ConditionalUpdate, as_seen, now_stored

_mappings = table(
    "instance_mappings",
    column("id"),
    column("instance_uuid"),
    column("cell_id"),
    column("project_id"),
    column("user_id"),
    column("queued_for_delete"),
    column("created_at"),
)
_instances = table("instances", column("uuid"), column("project_id"), column("user_id"), column("deleted"))


def _cell_id(ctx: Context, name: str) -> int:
    cell = next((c for c in ctx.cells() if c["name"] == name), None)
    if cell is None:
        raise RepairError(f"no cell named {name}")
    return cell["id"]


class MapInstance(Repair):
    """What `nova-manage cell_v2 map_instances` does for one instance."""

    name = "map-instance"
    safety = Safety.SAFE
    writes = "Nova API database: INSERT INTO instance_mappings (instance_uuid, cell_id, project_id, user_id)"
    undoable = True

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        inst = finding.evidence["instance"]
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"map instance {inst['uuid']} to {inst['cell']}",
            params={"uuid": inst["uuid"], "cell": inst["cell"]},
            touches=("api",),
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        with ctx.database(f"cell:{p['cell']}").connect() as conn:
            row = conn.execute(
                select(_instances.c.project_id, _instances.c.user_id).where(
                    _instances.c.uuid == p["uuid"], _instances.c.deleted == 0
                )
            ).first()
        if row is None:
            raise RepairError(f"instance {p['uuid']} is no longer live in {p['cell']}")
        return {
            "uuid": p["uuid"],
            "cell": p["cell"],
            "cell_id": _cell_id(ctx, p["cell"]),
            "project_id": row[0],
            "user_id": row[1],
            "mapping": None,
        }

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        with ctx.nova_api().begin() as conn:
            if conn.execute(select(_mappings.c.id).where(_mappings.c.instance_uuid == before["uuid"])).first():
                raise RepairError(f"instance {before['uuid']} got a mapping meanwhile; nothing changed")
            conn.execute(
                insert(_mappings).values(
                    instance_uuid=before["uuid"],
                    cell_id=before["cell_id"],
                    project_id=before["project_id"],
                    user_id=before["user_id"],
                    queued_for_delete=False,
                    created_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0),
                )
            )
        return f"mapped instance {before['uuid']} to {before['cell']}"

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        b = entry["before"]
        with ctx.nova_api().begin() as conn:
            n = conn.execute(
                delete(_mappings).where(_mappings.c.instance_uuid == b["uuid"], _mappings.c.cell_id == b["cell_id"])
            ).rowcount
        if n != 1:
            raise RepairError(f"the mapping of {b['uuid']} changed since; nothing removed")
        return f"removed the mapping of {b['uuid']} again"


class FixMappingCell(ConditionalUpdate):
    """Point the mapping at the cell that holds the live instance, as InstanceMapping.save()
    writes a changed cell (nova/objects/instance_mapping.py _save_in_db): cell_id, and
    updated_at by the API models' TimestampMixin onupdate."""

    name = "fix-mapping-cell"
    safety = Safety.UNSAFE
    writes = (
        "Nova API database: UPDATE instance_mappings SET cell_id=?, updated_at=now WHERE instance_uuid=? "
        "AND cell_id=<seen>"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        ev = finding.evidence
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"point the mapping of {finding.subject.id} to {ev['actual_cell']} (was {ev['mapped_cell']})",
            params={"mapped_cell": ev["mapped_cell"], "actual_cell": ev["actual_cell"]},
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        u = {
            "table": "instance_mappings",
            "key": {"instance_uuid": plan.target.id},
            "expect": {"cell_id": _cell_id(ctx, p["mapped_cell"])},
            "values": {"cell_id": _cell_id(ctx, p["actual_cell"]), "updated_at": now_stored()},
        }
        with ctx.nova_api().connect() as conn:
            return {"db": "api", **as_seen(conn, u)}
