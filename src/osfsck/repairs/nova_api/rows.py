"""Conditional deletes of API database rows, as nova-manage would do them.

The whole row is the before-image; undo inserts it again.  Every DELETE names the state
we saw (DESIGN §5): a row that changed meanwhile is left alone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, insert, select, table, column

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Repair, RepairError


def _full_row(conn, name: str, uuid: str) -> dict | None:
    t = table(name, column("instance_uuid"))
    row = conn.execute(select("*").select_from(t).where(t.c.instance_uuid == uuid)).mappings().first()
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()} if row else None


def _restore_row(conn, name: str, row: dict) -> None:
    values = {k: (dt.datetime.fromisoformat(v) if k.endswith("_at") and isinstance(v, str) else v)
              for k, v in row.items()}
    t = table(name, *(column(k) for k in values))
    exists = conn.execute(select(t.c.instance_uuid).where(t.c.instance_uuid == row["instance_uuid"])).first()
    if exists:
        raise RepairError(f"{name} row for {row['instance_uuid']} exists again; nothing restored")
    conn.execute(insert(t).values(values))


class _ApiRowDelete(Repair):
    table_name = ""
    undoable = True

    def before_image(self, plan: RepairPlan, ctx) -> dict:
        with ctx.nova_api().connect() as conn:
            row = _full_row(conn, self.table_name, plan.target.id)
        if row is None:
            raise RepairError(f"{self.table_name} row for {plan.target.id} is already gone")
        return {"table": self.table_name, "row": row}

    def apply(self, plan: RepairPlan, ctx, before: dict) -> str:
        row = before["row"]
        t = table(self.table_name, column("id"), column("instance_uuid"), *(column(c) for c in self.guard_columns))
        cond = [t.c.id == row["id"], t.c.instance_uuid == row["instance_uuid"]]
        for c in self.guard_columns:
            cond.append(t.c[c].is_(None) if row.get(c) is None else t.c[c] == row[c])
        with ctx.nova_api().begin() as conn:
            n = conn.execute(delete(t).where(and_(*cond))).rowcount
        if n != 1:
            raise RepairError(f"{self.table_name} row for {row['instance_uuid']} changed since it was seen ({n} rows matched)")
        return f"deleted the {self.table_name} row of {row['instance_uuid']} (1 row)"

    def undo(self, entry: dict, ctx) -> str:
        row = entry["before"]["row"]
        with ctx.nova_api().begin() as conn:
            _restore_row(conn, self.table_name, row)
        return f"restored the {self.table_name} row of {row['instance_uuid']}"


class DeleteInstanceMapping(_ApiRowDelete):
    name = "delete-instance-mapping"
    safety = Safety.SAFE     # per plan: unsafe when the instance is absent rather than archived
    writes = "Nova API database: DELETE FROM instance_mappings WHERE id=? AND instance_uuid=? AND cell_id=?"
    table_name = "instance_mappings"
    guard_columns = ("cell_id",)

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        archived = finding.evidence.get("instance_state") == "archived"
        return RepairPlan(self.name, Safety.SAFE if archived else Safety.UNSAFE, finding, finding.subject,
                          action=f"delete the instance mapping of {finding.subject.id}",
                          params={"instance_uuid": finding.subject.id})


class DeleteBuildRequest(_ApiRowDelete):
    name = "delete-build-request"
    safety = Safety.SAFE
    writes = "Nova API database: DELETE FROM build_requests WHERE id=? AND instance_uuid=?"
    table_name = "build_requests"
    guard_columns = ()

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        if finding.evidence.get("why") == "never-scheduled":
            return "never scheduled: delete the server through the API instead"
        return RepairPlan(self.name, Safety.SAFE, finding, finding.subject,
                          action=f"delete the build request of {finding.subject.id}",
                          params={"instance_uuid": finding.subject.id})
