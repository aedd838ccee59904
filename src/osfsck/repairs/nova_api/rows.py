"""Conditional deletes of API database rows, as nova-manage would do them.

The whole row is the before-image; undo inserts it again.  Every DELETE names the state
we saw (DESIGN §5): a row that changed meanwhile is left alone.
"""

from __future__ import annotations

from typing import Any

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, Repair, RepairError
from osfsck.repairs.conditional_update import delete_rows, insert_rows, read_rows


class _ApiRowDelete(Repair):
    """Nova deletes these rows for real (InstanceMapping.destroy, BuildRequest.destroy:
    a DELETE, no soft-delete), so the DELETE is all there is to write; its condition is
    every column as read, and undo inserts that row back, every column as it was."""

    table_name = ""
    undoable = True

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        with ctx.nova_api().connect() as conn:
            found = read_rows(conn, self.table_name, {"instance_uuid": plan.target.id})
        if not found:
            raise RepairError(f"{self.table_name} row for {plan.target.id} is already gone")
        return {"table": self.table_name, "row": found[0]}

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        row = before["row"]
        with ctx.nova_api().begin() as conn:
            delete_rows(conn, [{"table": self.table_name, "key": {"instance_uuid": row["instance_uuid"]}, "row": row}])
        return f"deleted the {self.table_name} row of {row['instance_uuid']} (1 row)"

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        row = entry["before"]["row"]
        with ctx.nova_api().begin() as conn:
            insert_rows(conn, [{"table": self.table_name, "key": {"instance_uuid": row["instance_uuid"]}, "row": row}])
        return f"restored the {self.table_name} row of {row['instance_uuid']}"


class DeleteInstanceMapping(_ApiRowDelete):
    name = "delete-instance-mapping"
    safety = Safety.SAFE  # per plan: unsafe when the instance is absent rather than archived
    writes = "Nova API database: DELETE FROM instance_mappings WHERE instance_uuid=? AND <every column as seen>"
    table_name = "instance_mappings"

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        archived = finding.evidence.get("instance_state") == "archived"
        return RepairPlan(
            self.name,
            Safety.SAFE if archived else Safety.UNSAFE,
            finding,
            finding.subject,
            action=f"delete the instance mapping of {finding.subject.id}",
            params={"instance_uuid": finding.subject.id},
        )


class DeleteBuildRequest(_ApiRowDelete):
    name = "delete-build-request"
    safety = Safety.SAFE
    writes = "Nova API database: DELETE FROM build_requests WHERE instance_uuid=? AND <every column as seen>"
    table_name = "build_requests"

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        if finding.evidence.get("why") == "never-scheduled":
            return "never scheduled: delete the server through the API instead"
        return RepairPlan(
            self.name,
            Safety.SAFE,
            finding,
            finding.subject,
            action=f"delete the build request of {finding.subject.id}",
            params={"instance_uuid": finding.subject.id},
        )
