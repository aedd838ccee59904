"""Row updates that name the state they saw, as every osfsck database write does.

An update is {"table", "key": {...}, "expect": {...}, "values": {...}}: set `values` where
`key` and `expect` still hold.  A repair's updates run in ONE transaction, all or nothing:
if any of them does not match exactly one row, none of them is kept.  Undo runs the
reverse updates (set `expect` back where `key` and `values` hold), last first.

So `expect` must name every column that `values` sets, as stored before the repair:
undo puts back exactly those, timestamps included.  The before-image reads them from the
row (`as_seen`), and `run_updates` refuses an update whose `expect` lacks one (only a
Neutron revision bump, marked "bump", goes forward on undo too: neutron/common.py).

Before-images are {"db": "api" | "cell:<name>" | "cinder", "rows": [update, ...]}, or one
update inline ({"db", "table", "key", "expect", "values"}) as the single-row repairs write
them.

Values are kept as the database stores them.  A DATETIME comes back from SQLite as text
("2026-01-01 00:00:00.000000" as SQLAlchemy wrote it, or without the fraction) and from
MySQL and PostgreSQL as a datetime: `stored()` turns both into JSON-safe text that a WHERE
matches on each (SQLite compares the text itself, MySQL converts the literal, PostgreSQL
casts it to the column's type), so a condition on a timestamp read back is exact on all.
A Boolean column is kept as 0/1, as MySQL and SQLite store it; PostgreSQL's real booleans
are read and written as 0/1 too (`_table`), so a before-image is the same on every backend.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, and_, column, delete, insert, inspect, literal, select, table, text, update

from osfsck.clients.db import FLAG
from osfsck.model.plan import RepairPlan
from osfsck.repairs.base import Context, Repair, RepairError


def stored(value):
    """A column value as JSON-safe text that compares equal to what the database holds
    (a boolean as 0/1: see the module's docstring)."""
    if isinstance(value, bool):
        return int(value)
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value


def _table(conn, name: str, columns) -> Any:
    """table() of `columns`, untyped (each value bound as it is), except on PostgreSQL:
    there each column has the type the database gives it, as PostgreSQL compares no
    boolean with an integer and no timestamp with text (each parameter is sent cast to
    its Python value's type unless the column's is known), and its booleans are 0/1
    (clients/db.FLAG).  The types are asked of the catalogue once per connection."""
    if conn.dialect.name != "postgresql":
        return table(name, *(column(c) for c in columns))
    known = conn.info.setdefault("osfsck_column_types", {})
    if name not in known:
        known[name] = {
            c["name"]: FLAG if isinstance(c["type"], Boolean) else c["type"] for c in inspect(conn).get_columns(name)
        }
    return table(name, *(column(c, known[name].get(c)) for c in columns))


def now_stored() -> str:
    # whole seconds: Nova's and Cinder's DATETIME columns have no fraction on MySQL, so a
    # written fraction would be rounded away and undo's condition on it would never match
    return stored(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0))


def same(stored_value, seen) -> bool:
    """A value as read back (see `stored`) against the same value as a finding's evidence
    holds it: equal, or the same instant (ISO text in evidence, stored text on SQLite)."""
    if stored_value == seen:
        return True
    if isinstance(stored_value, str) and isinstance(seen, str):
        try:
            return dt.datetime.fromisoformat(stored_value) == dt.datetime.fromisoformat(seen)
        except ValueError:
            return False
    return False


def _where(t, cond: dict):
    return and_(*(t.c[k].is_(None) if v is None else t.c[k] == _as_column(t.c[k], v) for k, v in cond.items()))


def _as_column(col, value):
    """`value` bound as `col`'s type where the table is typed (`_table`: PostgreSQL): a
    timestamp's text compared with the column would otherwise be sent as VARCHAR."""
    return value if col.type._isnull else literal(value, col.type)


def read_row(conn, name: str, key: dict, columns) -> dict | None:
    """The row's `columns` as stored (see `stored`), or None when no row has `key`."""
    t = _table(conn, name, {*key, *columns})
    row = conn.execute(select(*(t.c[c] for c in columns)).where(_where(t, key))).first()
    return None if row is None else {c: stored(v) for c, v in zip(columns, row)}


def as_seen(conn, u: dict) -> dict:
    """The update with `expect` read from the row as stored now: every column it names and
    every column `values` sets (so undo can put each back exactly).  Refuses when the row
    is gone or a column `expect` names is no longer as seen."""
    columns = list(dict.fromkeys([*u["expect"], *u["values"]]))
    row = read_row(conn, u["table"], u["key"], columns)
    if row is None:
        raise RepairError(f"{u['table']} row {_key(u)} is gone; nothing changed")
    moved = [c for c, v in u["expect"].items() if not same(row[c], v)]
    if moved:
        raise RepairError(
            f"{u['table']} row {_key(u)} is no longer in the state that was seen ("
            + ", ".join(f"{c} {row[c]!r}, not {u['expect'][c]!r}" for c in moved)
            + "); nothing changed"
        )
    return {**u, "expect": row}


def run_updates(conn, updates: list[dict]) -> None:
    """Apply `updates` inside the caller's transaction; one that does not match exactly one
    row raises, and the caller's transaction then keeps none of them.  An update whose
    `expect` does not record a column it sets is refused before anything is written: its
    undo could not put that column back."""
    for u in updates:
        unrecorded = sorted(set(u["values"]) - set(u["expect"]))
        if unrecorded and not u.get("bump"):
            raise RepairError(
                f"{u['table']} row {_key(u)}: the before-image does not record "
                f"{', '.join(unrecorded)}, so undo could not restore it; nothing changed"
            )
    run_undo(conn, updates)


def run_undo(conn, updates: list[dict]) -> None:
    """Apply undo's updates (`reverse`'s, or a repair's own) inside the caller's transaction,
    each matching exactly one row."""
    for u in updates:
        t = _table(conn, u["table"], {**u["key"], **u["expect"], **u["values"]})
        n = conn.execute(update(t).where(_where(t, {**u["key"], **u["expect"]})).values(**u["values"])).rowcount
        if n != 1:
            raise RepairError(
                f"{u['table']} row {_key(u)} is no longer in the state that was seen "
                f"({n} rows matched); nothing changed"
            )


def read_rows(conn, name: str, key: dict) -> list[dict]:
    """Every column of the rows that have `key`, as stored: a before-image that
    `insert_rows` can put back exactly (Neutron deletes rows for real)."""
    t = _table(conn, name, key)
    found = conn.execute(select(text("*")).select_from(t).where(_where(t, key))).mappings()
    return [{c: stored(v) for c, v in r.items()} for r in found]


def delete_rows(conn, deletes: list[dict]) -> None:
    """Delete each {"table", "key", "row"} where every column is still as read, inside the
    caller's transaction; one that does not match exactly one row raises."""
    for d in deletes:
        row = d["row"]
        t = _table(conn, d["table"], row)
        if conn.execute(delete(t).where(_where(t, row))).rowcount != 1:
            raise RepairError(f"{d['table']} row {_key(d)} is no longer in the state that was seen; nothing changed")


def insert_rows(conn, rows: list[dict]) -> None:
    """Insert each {"table", "key", "row"}: rows `delete_rows` deleted, put back as they
    were, or the rows a repair adds (undo deletes those, every column as inserted)."""
    for d in rows:
        t = _table(conn, d["table"], d["row"])
        try:
            conn.execute(insert(t).values(**d["row"]))
        except Exception as e:  # noqa: BLE001 - the driver's IntegrityError, whichever driver
            raise RepairError(
                f"{d['table']} row {_key(d)} cannot be put back ({type(e).__name__}: another row "
                "has taken its place?); nothing changed"
            ) from None


def reverse(updates: list[dict]) -> list[dict]:
    return [
        {"table": u["table"], "key": u["key"], "expect": u["values"], "values": u["expect"]} for u in reversed(updates)
    ]


def rows_of(before: dict) -> list[dict]:
    if "rows" in before:
        return before["rows"]
    return [before] if "table" in before else []


class ConditionalUpdate(Repair):
    """A repair whose before-image is {"db", "rows": [update...], "deletes": [...],
    "inserts": [...]} (or one update inline): in one transaction, rows deleted for real
    (every column as read), updates, rows added.  Undo, in one transaction: the added rows
    deleted (every column as added), the updates reversed, the deleted rows put back."""

    undoable = True

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        """The plan's update, its `expect` read from the row (`as_seen`)."""
        p = plan.params
        with ctx.database(p["db"]).connect() as conn:
            u = as_seen(conn, {k: p[k] for k in ("table", "key", "expect", "values")})
        return {"db": p["db"], **u}

    def guard(self, conn, before: dict) -> None:
        """Raise RepairError when something the rows do not show changed since the
        before-image; runs first, in the same transaction as the updates."""

    def undo_updates(self, updates: list[dict]) -> list[dict]:
        return reverse(updates)

    def write(self, ctx: Context, before: dict) -> None:
        with ctx.database(before["db"]).begin() as conn:
            self.guard(conn, before)
            delete_rows(conn, before.get("deletes", []))
            run_updates(conn, rows_of(before))
            insert_rows(conn, before.get("inserts", []))

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        self.write(ctx, before)
        return "; ".join(
            [
                f"{u['table']} {_key(u)} in {before['db']}: "
                + ", ".join(f"{k} {u['expect'].get(k)!r} -> {v!r}" for k, v in u["values"].items())
                for u in rows_of(before)
            ]
            + [f"{d['table']} {_key(d)} in {before['db']}: deleted" for d in before.get("deletes", [])]
            + [f"{d['table']} {_key(d)} in {before['db']}: added" for d in before.get("inserts", [])]
        )

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        b = entry["before"]
        with ctx.database(b["db"]).begin() as conn:
            delete_rows(conn, b.get("inserts", []))
            run_undo(conn, self.undo_updates(rows_of(b)))
            insert_rows(conn, list(reversed(b.get("deletes", []))))
        return "; ".join(
            [f"{d['table']} {_key(d)} in {b['db']}: removed the row osfsck added" for d in b.get("inserts", [])]
            + [
                f"{u['table']} {_key(u)} in {b['db']}: "
                + ("revision bumped again" if u.get("bump") else f"restored {', '.join(u['values'])}")
                for u in rows_of(b)
            ]
            + [f"{d['table']} {_key(d)} in {b['db']}: re-inserted as it was" for d in b.get("deletes", [])]
        )


def _key(u: dict) -> str:
    return ",".join(str(v) for v in u["key"].values())
