"""Recount a quota usage row from the tables, as `cinder-manage quota sync` (and Neutron's
own resync of a dirty row) would, merging Cinder's duplicate rows on the way."""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, false, select, table

from osfsck.clients.quota_counts import cinder_counted, neutron_counted
from osfsck.model.facts.quota import CinderCounted
from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, RepairError
from osfsck.repairs.conditional_update import ConditionalUpdate, now_stored, stored
from osfsck.rules.cinder_quota import cinder_expected

USAGE_COLUMNS = ("id", "in_use", "reserved", "deleted", "deleted_at", "race_preventer", "updated_at")
_usages = table("quota_usages", *(column(c) for c in (*USAGE_COLUMNS, "project_id", "resource")))
_reservations = table(
    "reservations",
    column("id"),
    column("usage_id"),
    column("project_id"),
    column("delta"),
    column("deleted"),
    column("updated_at"),
)
_types = table("volume_types", column("id"), column("name"), column("deleted"))
_neutron_usages = table("quotausages", column("project_id"), column("resource"), column("in_use"), column("dirty"))


def _live(col):
    # Cinder's read_deleted="no": deleted = false (a NULL is not live either); false(), not
    # 0: PostgreSQL's Boolean columns are real booleans
    return col == false()


def cinder_rows(conn, project: str, resource: str, lock: bool = False) -> list[dict]:
    """The live usage rows of one project and resource, by id, as stored.  With `lock`,
    every live usage row of the project is locked first (SELECT ... FOR UPDATE, as
    cinder-manage's _get_usages and Cinder's quota_reserve do; SQLite has no row locks:
    there the conditional updates alone refuse a row that changed)."""
    u = _usages
    if lock:
        conn.execute(select(u.c.id).where(u.c.project_id == project, _live(u.c.deleted)).with_for_update()).all()
    found = conn.execute(
        select(*(u.c[c] for c in USAGE_COLUMNS))
        .where(u.c.project_id == project, u.c.resource == resource, _live(u.c.deleted))
        .order_by(u.c.id)
    ).all()
    return [{c: stored(v) for c, v in zip(USAGE_COLUMNS, r)} for r in found]


def cinder_recount(conn, project: str, resource: str, usage_ids: list[int], no_snapshot_gb: bool) -> dict:
    """What Cinder's sync sets: in_use from the tables, reserved from the positive deltas
    of the live reservations of those rows."""
    types = {name: id_ for id_, name in conn.execute(select(_types.c.id, _types.c.name).where(_live(_types.c.deleted)))}
    counted = [CinderCounted._make(r) for r in conn.execute(cinder_counted(project))]
    in_use = cinder_expected(counted, resource, types, no_snapshot_gb)
    if in_use is None:
        raise RepairError(f"Cinder does not sync {resource} (a deleted volume type's?); nothing changed")
    r = _reservations
    deltas = conn.execute(
        select(r.c.delta).where(r.c.usage_id.in_(usage_ids), r.c.project_id == project, _live(r.c.deleted))
    ).scalars()
    return {"in_use": int(in_use), "reserved": int(sum(d for d in deltas if d > 0))}


def neutron_row(conn, project: str, resource: str, lock: bool = False) -> dict | None:
    u = _neutron_usages
    if lock:
        conn.execute(select(u.c.resource).where(u.c.project_id == project).with_for_update()).all()
    row = conn.execute(select(u.c.in_use, u.c.dirty).where(u.c.project_id == project, u.c.resource == resource)).first()
    return None if row is None else {"in_use": row[0], "dirty": int(row[1] or 0)}


def neutron_recount(conn, project: str, resource: str) -> int:
    return sum(r[3] for r in conn.execute(neutron_counted(project, [resource])))


class RecomputeQuotaUsage(ConditionalUpdate):
    """Set a usage row to what the service itself counts.

    Cinder, as `cinder-manage quota sync` does for one project (cinder/cmd/manage.py):
    the project's usage rows locked, duplicates merged (their live reservations moved to
    the row with the lowest id, the extra rows soft-deleted with race_preventer NULL,
    Cinder's delete_values), then in_use recounted with Cinder's own sync rules and
    reserved from the live positive reservations; updated_at set to now, as Cinder's
    ORM does.  Neutron, as TrackedResource's resync: in_use recounted, the row left
    clean.  One short transaction per row, in which the count is taken again: if it
    differs from the before-image (a volume was created meanwhile) nothing is written.
    Every update is conditional on the row as read; undo restores the rows as they were.
    Nova's leftover rows are not rewritten: nothing reads them.
    """

    name = "recompute-quota-usage"
    safety = Safety.SAFE
    writes = (
        "Cinder database, one transaction per row: SELECT ... FOR UPDATE the project's quota_usages; "
        "UPDATE reservations SET usage_id=<kept row>, updated_at=now WHERE id=? AND usage_id=<duplicate> (duplicates "
        "only); "
        "UPDATE quota_usages SET deleted=1, deleted_at=now, race_preventer=NULL WHERE id=<duplicate> AND "
        "<as seen>; UPDATE quota_usages SET in_use=<count>, reserved=<sum>, updated_at=now WHERE id=? AND "
        "<as seen>.  Neutron database: UPDATE quotausages SET in_use=<count> WHERE project_id=? AND "
        "resource=? AND in_use=<seen> AND dirty=0"
    )

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        if finding.subject.kind != "quota-usage":
            return f"{self.name} recounts quota usage rows; this {finding.subject.kind} is none"
        service, project, resource = finding.subject.id.split("/", 2)
        ev = finding.evidence
        if service == "cinder":
            # duplicate-quota-usage's evidence lists every row, quota-usage-drift's the one
            rows = ev["usages"] if finding.code == "QU103" else [ev["usage"]]
            seen = {
                "ids": [r["id"] for r in rows],
                "in_use": [r["in_use"] for r in rows],
                "reserved": [r["reserved"] for r in rows],
            }
            merge = f", merging {len(rows) - 1} duplicate row(s) into row {rows[0]['id']}" if len(rows) > 1 else ""
        elif service == "neutron":
            seen = {"in_use": ev["usage"]["in_use"]}
            merge = ""
        else:
            return (
                "Nova has counted usage live since Pike and reads none of these rows: nothing to recompute "
                "(archive them by hand)"
            )
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            action=f"recount {service}'s quota usage of {resource} for project {project} from its tables{merge}",
            params={
                "service": service,
                "project_id": project,
                "resource": resource,
                "seen": seen,
                "no_snapshot_gb_quota": bool(ev["no_snapshot_gb_quota"]) if service == "cinder" else False,
            },
        )

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        with ctx.database(p["service"]).connect() as conn:
            if p["service"] == "cinder":
                return self._cinder_before(conn, p)
            return self._neutron_before(conn, p)

    @staticmethod
    def _cinder_before(conn, p: dict) -> dict:
        project, resource, seen = p["project_id"], p["resource"], p["seen"]
        rows = cinder_rows(conn, project, resource)
        if (
            [r["id"] for r in rows] != seen["ids"]
            or [r["in_use"] for r in rows] != seen["in_use"]
            or [r["reserved"] for r in rows] != seen["reserved"]
        ):
            raise RepairError(
                f"the quota usage rows of {resource} for project {project} changed since the check "
                "saw them; nothing changed"
            )
        keep, extras = rows[0], rows[1:]
        counted = cinder_recount(conn, project, resource, [r["id"] for r in rows], p["no_snapshot_gb_quota"])
        r = _reservations
        moved = (
            conn.execute(
                select(r.c.id, r.c.usage_id, r.c.updated_at)
                .where(r.c.usage_id.in_([x["id"] for x in extras]), _live(r.c.deleted))
                .order_by(r.c.id)
            ).all()
            if extras
            else []
        )
        now = now_stored()
        # cinder-manage sets reservation.usage_id on the ORM object: its flush sets updated_at
        updates = [
            {
                "table": "reservations",
                "key": {"id": rid},
                "expect": {"usage_id": uid, "updated_at": stored(at)},
                "values": {"usage_id": keep["id"], "updated_at": now},
            }
            for rid, uid, at in moved
        ]
        updates += [
            {
                "table": "quota_usages",
                "key": {"id": x["id"]},
                "expect": {k: x[k] for k in ("deleted", "deleted_at", "race_preventer", "in_use", "reserved")},
                "values": {"deleted": 1, "deleted_at": now, "race_preventer": None},
            }
            for x in extras
        ]
        if extras or (keep["in_use"], keep["reserved"]) != (counted["in_use"], counted["reserved"]):
            updates.append(
                {
                    "table": "quota_usages",
                    "key": {"id": keep["id"]},
                    "expect": {k: keep[k] for k in ("in_use", "reserved", "updated_at", "deleted")},
                    "values": {"in_use": counted["in_use"], "reserved": counted["reserved"], "updated_at": now},
                }
            )
        if not updates:
            raise RepairError(
                f"the quota usage of {resource} for project {project} already matches its count; nothing changed"
            )
        return {
            "db": "cinder",
            "service": "cinder",
            "project_id": project,
            "resource": resource,
            "usage_ids": [r["id"] for r in rows],
            "no_snapshot_gb_quota": p["no_snapshot_gb_quota"],
            "counted": counted,
            "rows": updates,
        }

    @staticmethod
    def _neutron_before(conn, p: dict) -> dict:
        project, resource = p["project_id"], p["resource"]
        row = neutron_row(conn, project, resource)
        if row is None or row["in_use"] != p["seen"]["in_use"] or row["dirty"]:
            raise RepairError(
                f"Neutron's quota usage of {resource} for project {project} changed since the check "
                "saw it (or is marked dirty: Neutron recounts it); nothing changed"
            )
        counted = {"in_use": neutron_recount(conn, project, resource)}
        if counted["in_use"] == row["in_use"]:
            raise RepairError(
                f"Neutron's quota usage of {resource} for project {project} already matches its count; nothing changed"
            )
        return {
            "db": "neutron",
            "service": "neutron",
            "project_id": project,
            "resource": resource,
            "counted": counted,
            "rows": [
                {
                    "table": "quotausages",
                    "key": {"project_id": project, "resource": resource},
                    "expect": {"in_use": row["in_use"], "dirty": 0},
                    "values": {"in_use": counted["in_use"]},
                }
            ],
        }

    def guard(self, conn, before: dict) -> None:
        """Lock the project's usage rows, then count again: a count that moved since the
        before-image (an operation finished meanwhile) refuses the whole repair."""
        project, resource = before["project_id"], before["resource"]
        if before["service"] == "cinder":
            cinder_rows(conn, project, resource, lock=True)
            now = cinder_recount(conn, project, resource, before["usage_ids"], before["no_snapshot_gb_quota"])
        else:
            neutron_row(conn, project, resource, lock=True)
            now = {"in_use": neutron_recount(conn, project, resource)}
        if now != before["counted"]:
            raise RepairError(
                f"the count of {resource} for project {project} moved since it was read "
                f"({before['counted']} -> {now}); nothing changed"
            )

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        self.write(ctx, before)
        c = before["counted"]
        merged = sum(1 for u in before["rows"] if u["table"] == "quota_usages" and "race_preventer" in u["values"])
        return (
            f"{before['service']} quota usage of {before['resource']} for project {before['project_id']}: "
            f"in_use {c['in_use']}"
            + (f", reserved {c['reserved']}" if "reserved" in c else "")
            + (f"; {merged} duplicate row(s) merged" if merged else "")
        )
