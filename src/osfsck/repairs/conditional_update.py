"""A row update that names the state it saw, as every osfsck database write does.

Plans carry {"db": "api" | "cell:<name>", "table", "key": {...}, "expect": {...},
"values": {...}}.  Apply sets `values` where `key` and `expect` still hold; undo sets
`expect` back where `key` and `values` hold.  Anything else (0 or 2 rows) is refused.
"""

from __future__ import annotations

from sqlalchemy import and_, column, table, update

from osfsck.model.plan import RepairPlan
from osfsck.repairs.base import Repair, RepairError


def _where(t, cond: dict):
    return and_(*(t.c[k].is_(None) if v is None else t.c[k] == v for k, v in cond.items()))


def update_row(engine, name: str, key: dict, expect: dict, values: dict) -> None:
    t = table(name, *(column(c) for c in {**key, **expect, **values}))
    with engine.begin() as conn:
        n = conn.execute(update(t).where(_where(t, {**key, **expect})).values(**values)).rowcount
    if n != 1:
        shown = ", ".join(f"{k}={v}" for k, v in key.items())
        raise RepairError(f"{name} row {shown} is no longer in the state that was seen ({n} rows matched); nothing changed")


class ConditionalUpdate(Repair):
    undoable = True

    def before_image(self, plan: RepairPlan, ctx) -> dict:
        p = plan.params
        return {k: p[k] for k in ("db", "table", "key", "expect", "values")}

    def apply(self, plan: RepairPlan, ctx, before: dict) -> str:
        update_row(ctx.database(before["db"]), before["table"], before["key"], before["expect"], before["values"])
        changes = ", ".join(f"{k} {before['expect'].get(k)!r} -> {v!r}" for k, v in before["values"].items())
        return f"{before['table']} {_key(before)} in {before['db']}: {changes}"

    def undo(self, entry: dict, ctx) -> str:
        b = entry["before"]
        update_row(ctx.database(b["db"]), b["table"], b["key"], b["values"], b["expect"])
        return f"{b['table']} {_key(b)} in {b['db']}: restored {', '.join(b['expect'])}"


def _key(b: dict) -> str:
    return ",".join(str(v) for v in b["key"].values())
