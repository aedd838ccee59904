"""Expire a reservation the way the service's own periodic expiry does."""

from __future__ import annotations

from typing import Any

from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, RepairError
from osfsck.repairs.conditional_update import ConditionalUpdate, now_stored, read_row, read_rows

RESERVATION_COLUMNS = ("uuid", "usage_id", "project_id", "delta", "expire", "deleted", "deleted_at")


class DeleteExpiredReservations(ConditionalUpdate):
    """Cinder: what `reservation_expire` (cinder/db/api.py) does to one reservation: for a
    delta >= 0 its live usage row's `reserved` is lowered by min(delta, reserved) (and
    updated_at set, as Cinder's save does), then the reservation soft-deleted
    (deleted, deleted_at; updated_at kept).  Neutron: what `Reservation.delete_expired`
    does: the reservation and its `resourcedeltas` deleted.  One transaction, each row
    conditional on every column as read; undo restores (Neutron: re-inserts) them.
    """

    name = "delete-expired-reservations"
    safety = Safety.SAFE
    undoable = True
    writes = (
        "Cinder database, one transaction: UPDATE quota_usages SET reserved=reserved-<delta>, updated_at=now "
        "WHERE id=<usage> AND reserved=<seen>; UPDATE reservations SET deleted=1, deleted_at=now WHERE id=? AND "
        "deleted=0 AND <as seen>.  Neutron database, one transaction: DELETE FROM resourcedeltas WHERE "
        "reservation_id=? AND <as seen>; DELETE FROM reservations WHERE id=? AND <as seen>"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        r = finding.evidence.get("reservation")
        if finding.subject.kind != "quota-reservation" or not r:
            return f"{self.name} removes quota reservations; this {finding.subject.kind} is none"
        service = finding.subject.id.split("/", 1)[0]
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"expire {service} reservation {r.get('uuid') or r['id']} of project "
            f"{r['project_id']} as {service}'s own periodic expiry would",
            params={"service": service, "reservation": r},
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        with ctx.database(p["service"]).connect() as conn:
            if p["service"] == "cinder":
                return _cinder_before(conn, p["reservation"])
            return _neutron_before(conn, p["reservation"])

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        self.write(ctx, before)
        if before["db"] == "neutron":
            return (
                f"deleted Neutron reservation {before['deletes'][-1]['row']['id']} and "
                f"{len(before['deletes']) - 1} resource delta(s)"
            )
        back = next((u for u in before["rows"] if u["table"] == "quota_usages"), None)
        gave = (
            f"; reserved of usage row {back['key']['id']} {back['expect']['reserved']} -> {back['values']['reserved']}"
            if back
            else ""
        )
        return f"soft-deleted Cinder reservation {before['uuid']}{gave}"


def _cinder_before(conn, seen: dict) -> dict:
    row = read_row(conn, "reservations", {"id": seen["id"]}, RESERVATION_COLUMNS)
    if row is None or row["deleted"] or row["uuid"] != seen["uuid"] or row["delta"] != seen["delta"]:
        raise RepairError(f"Cinder reservation {seen['uuid']} is no longer the live one the check saw; nothing changed")
    updates = []
    if row["delta"] >= 0 and row["usage_id"] is not None:
        usage = read_row(conn, "quota_usages", {"id": row["usage_id"]}, ("reserved", "deleted", "updated_at"))
        give_back = min(row["delta"], usage["reserved"]) if usage and not usage["deleted"] else 0
        if usage and give_back:
            updates.append(
                {
                    "table": "quota_usages",
                    "key": {"id": row["usage_id"]},
                    "expect": {"reserved": usage["reserved"], "updated_at": usage["updated_at"], "deleted": 0},
                    "values": {"reserved": usage["reserved"] - give_back, "updated_at": now_stored()},
                }
            )
    updates.append(
        {
            "table": "reservations",
            "key": {"id": seen["id"]},
            "expect": {
                "deleted": row["deleted"],
                "deleted_at": row["deleted_at"],
                "uuid": row["uuid"],
                "expire": row["expire"],
            },
            "values": {"deleted": 1, "deleted_at": now_stored()},
        }
    )
    return {"db": "cinder", "uuid": row["uuid"], "rows": updates}


def _neutron_before(conn, seen: dict) -> dict:
    found = read_rows(conn, "reservations", {"id": seen["id"]})
    if not found:
        raise RepairError(f"Neutron reservation {seen['id']} is gone already; nothing changed")
    deltas = read_rows(conn, "resourcedeltas", {"reservation_id": seen["id"]})
    deletes = [
        {"table": "resourcedeltas", "key": {"reservation_id": seen["id"], "resource": d["resource"]}, "row": d}
        for d in sorted(deltas, key=lambda d: d["resource"])
    ]
    deletes.append({"table": "reservations", "key": {"id": seen["id"]}, "row": found[0]})
    return {"db": "neutron", "deletes": deletes}
