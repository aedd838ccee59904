"""What the Neutron database repairs share: the database, and revision bumps.

Neutron's ML2/OVN driver keeps OVN in step with Neutron's database through revision
numbers: `ovn_revision_numbers` records the revision each resource had when it was last
written to OVN, and the maintenance task (DBInconsistenciesPeriodics, every few minutes)
re-syncs every resource whose `standardattributes.revision_number` is ahead of it.  A
repair that writes Neutron's database directly therefore bumps the revision of what it
changed: OVN then catches up on its own.  Like Neutron's own bump, it sets updated_at to
now: the OVN checks give a change that recent time to reach NB.  Undo bumps it again
(never back: OVN has already seen the higher number, and a lower one would hide the
change from it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, select, table

from osfsck.repairs.base import Context, RepairError, Undone
from osfsck.repairs.conditional_update import ConditionalUpdate, now_stored, read_row, reverse

NEUTRON = "neutron"


def revision_bump(conn, resource_table: str, resource_id: str) -> dict:
    """An update raising the resource's revision_number by one, conditional on the
    number read now; marked "bump" so undo raises it again instead of lowering it."""
    t = table(resource_table, column("id"), column("standard_attr_id"))
    sa_id = conn.execute(select(t.c.standard_attr_id).where(t.c.id == resource_id)).scalar()
    row = read_row(conn, "standardattributes", {"id": sa_id}, ("revision_number",)) if sa_id is not None else None
    if row is None:
        raise RepairError(f"{resource_table} {resource_id} has no standardattributes row; nothing changed")
    n = int(row["revision_number"])
    return {
        "table": "standardattributes",
        "key": {"id": sa_id},
        "expect": {"revision_number": n},
        "values": {"revision_number": n + 1, "updated_at": now_stored()},
        "bump": True,
    }


def undo_updates(updates: list[dict]) -> list[dict]:
    """The updates that undo `updates`: the reverse of each, except that a revision bump is
    bumped once more."""
    out = []
    for u in reversed(updates):
        if u.get("bump"):
            n = u["values"]["revision_number"]
            out.append(
                {
                    **u,
                    "expect": {"revision_number": n},
                    "values": {"revision_number": n + 1, "updated_at": now_stored()},
                }
            )
        else:
            out.extend(reverse([u]))
    return out


class NeutronUpdate(ConditionalUpdate):
    """A conditional update of Neutron rows whose revision bumps move forward on undo."""

    def undo_updates(self, updates: list[dict]) -> list[dict]:
        return undo_updates(updates)

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        done = super().undo(entry, ctx)
        return Undone(
            done,
            [
                "the revision_number and updated_at of the object's standardattributes row: they move "
                "forward (revision +1, updated_at now), as every Neutron write moves them, so that "
                "OVN's maintenance task re-syncs the object; the checks give a change that recent "
                "their min_age before judging it again"
            ],
        )
