"""Faults in the lab's databases (real Nova, Cinder, Neutron and Placement schemas on
SQLite): a cell database missing or locked by another process, the API, Cinder, Neutron
and Placement databases down, rows dated in the future (clock skew), and instances
created, deleted and changed while a repair runs."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid as uuidlib
from contextlib import contextmanager
from pathlib import Path

import pytest

from osfsck_lab.loopback import free_port
from tests.faults.conftest import after_the_scan, exit_for, judge

pytestmark = pytest.mark.integration

REPAIR = ("repair", "--unsafe", "--yes", "--grace", "0", "--format", "json")


def db(lab, name: str) -> Path:
    return lab.path / "db" / f"{name}.sqlite"


def ids(lab, name: str, *queries: str) -> set[str]:
    """Every value the queries return from one lab database, as strings."""
    conn = sqlite3.connect(f"file:{db(lab, name)}?mode=ro", uri=True)
    try:
        return {str(v) for q in queries for row in conn.execute(q) for v in row if v}
    finally:
        conn.close()


def cell_instances(lab, cell: str) -> set[str]:
    return ids(lab, f"nova_{cell}", "SELECT uuid FROM instances", "SELECT uuid FROM shadow_instances")


def closed_url(scheme_user_db: str) -> str:
    """A MySQL URL of a server that is down (nothing listens on its port)."""
    user, _, name = scheme_user_db.partition("/")
    return f"mysql+pymysql://{user}@127.0.0.1:{free_port()}/{name}"


@pytest.mark.slow
def test_a_cell_database_is_missing(lab, scenario):
    """cell1's database is gone (its file, as a cell whose server was decommissioned too
    early): every check that needs cell1 is undecided there, nothing that concerns one of
    its instances is repaired anywhere, and cell2's faults are."""
    cfg = lab.variant("cell-missing.toml", append='\n[nova.cells.cell1]\ndatabase = "sqlite:///db/gone.sqlite"\n')
    run = scenario(*REPAIR, config=cfg)
    judge(
        lab,
        run,
        exit_code=exit_for(run),
        protected={"cell:cell1"},
        concerning=cell_instances(lab, "cell1"),
        failed={"nova-db cell:cell1": "no such SQLite database file"},
    )
    assert {i["target"]["scope"] for i in run.applied} & {"cell:cell2"}, "cell2's own faults are repaired"


@contextmanager
def locked(path: Path):
    """Another process's exclusive lock on a SQLite database (a long migration, a
    `sqlite3` shell left in a transaction): readers wait for it, then give up."""
    conn = sqlite3.connect(str(path), timeout=60, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_a_cell_database_is_locked(lab, scenario):
    run = scenario(*REPAIR, "--select", "NV10,NV2,NV3,HV10,VL10", inject=locked(db(lab, "nova_cell2")))
    judge(
        lab,
        run,
        exit_code=exit_for(run),
        protected={"cell:cell2"},
        concerning=cell_instances(lab, "cell2"),
        failed={"nova-db cell:cell2": "database is locked"},
    )


def test_the_api_database_is_down(lab, scenario):
    """Without the API database there is no list of cells, so no cell and no host is read:
    nothing of Nova's is decided, and no check says "consistent" about it."""
    cfg = lab.variant("api-down.toml", (r'api_database = "[^"]+"', f'api_database = "{closed_url("nova/nova_api")}"'))
    run = scenario(*REPAIR, config=cfg)
    nova = cell_instances(lab, "cell1") | cell_instances(lab, "cell2")
    judge(
        lab,
        run,
        exit_code=exit_for(run),
        protected={"api", "cell:cell1", "cell:cell2"},
        concerning=nova,
        failed={"nova-db api": "Can't connect"},
    )


SERVICES = {
    # section, its scope, what to select, the ids of what it holds
    "cinder": ("cinder", "VL,QU1", ("SELECT id FROM volumes", "SELECT id FROM volume_attachment")),
    "neutron": (
        "neutron",
        "NT,DN,OV,NX,QU1",
        (
            "SELECT id FROM ports",
            "SELECT id, floating_ip_address FROM floatingips",
            "SELECT ip_address FROM ipallocations",
            "SELECT id FROM networks",
        ),
    ),
    "placement": ("placement", "PL", ("SELECT uuid FROM resource_providers", "SELECT consumer_id FROM allocations")),
}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_service_database_is_down(lab, scenario, service):
    scope, select, queries = SERVICES[service]
    cfg = lab.variant(
        f"{service}-down.toml", (rf'(\[{service}\]\ndatabase = )"[^"]+"', rf'\1"{closed_url(f"{service}/{service}")}"')
    )
    run = scenario(*REPAIR, "--select", select, config=cfg)
    judge(
        lab,
        run,
        exit_code=exit_for(run),
        protected={scope},
        concerning=ids(lab, service, *queries),
        failed={f"{service}-db {scope}": "Can't connect"},
    )


# -- the clock -------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


@contextmanager
def rows_changed(lab, changes: list[tuple[str, str, dict, dict]]):
    """Set `values` on the row `where` selects ((database, table, where, values)) for the
    duration; on the way out, check that osfsck left it so, and put it back."""
    saved = []
    for name, table, where, values in changes:
        rows = Rows(db(lab, name))
        row = rows.one(f"SELECT * FROM {table} WHERE {' AND '.join(f'{k} = ?' for k in where)}", *where.values())
        rows.update(table, row["id"], **values)
        saved.append((rows, table, row, values))
    try:
        yield
    finally:
        for rows, table, row, values in saved:
            now = rows.one(f"SELECT * FROM {table} WHERE id = ?", row["id"])
            assert {k: now[k] for k in values} == values, ("osfsck wrote to a row it had to leave alone", table, now)
            rows.update(table, row["id"], **{k: v for k, v in row.items() if k != "id"})


def planted(lab, code: str) -> dict:
    return next(f for f in lab.baseline["findings"] if f["code"] == code)


def test_rows_dated_in_the_future_are_never_repaired(lab, scenario):
    """Clock skew: the database's clock runs two hours ahead of osfsck's.  Findings whose
    change time is in the future are not repaired even with --grace 0; they say why."""
    later = str(_now() + dt.timedelta(hours=2))
    skewed = []
    for code in ("NV101", "NV102", "HV103"):
        f = planted(lab, code)
        cell = next(s for s in [f["subject"]["scope"], *(r["scope"] for r in f["related"])] if s.startswith("cell:"))
        uuid = f["subject"]["id"]
        skewed.append(
            (f"nova_{cell.removeprefix('cell:')}", "instances", {"uuid": uuid, "deleted": 0}, {"updated_at": later})
        )
    mapping = planted(lab, "NV201")["subject"]["id"]
    skewed.append(
        ("nova_api", "instance_mappings", {"instance_uuid": mapping}, {"created_at": later, "updated_at": later})
    )
    run = scenario(*REPAIR, "--select", "NV101,NV102,HV103,NV201", inject=rows_changed(lab, skewed))
    judge(lab, run, exit_code={4, 5})
    subjects = {w["uuid"] if "uuid" in w else w["instance_uuid"] for _, _, w, _ in skewed}
    assert not {lab.finding(i["fingerprint"])["subject"]["id"] for i in run.applied} & subjects
    held = [r for r in run.report["repairs"] if r["reason"] and "in the future (clock skew?)" in r["reason"]]
    assert held, "the grace guard holds back what is dated in the future"


# -- changes while osfsck runs ------------------------------------------------------------


def test_instances_created_deleted_and_changed_during_a_repair(lab, scenario):
    """Between osfsck's snapshot and its repairs, an instance is created (no domain yet),
    another deleted (its domain still running), and two planted faults change (an operator
    starts a reboot of the instance whose domain is missing; the power state is synced).
    None of them is repaired: the fresh re-check sees the changes and the grace holds back
    what is new, while the planted faults nobody touched are repaired (the zombies of the
    other cell, HV101, before any of this cell's scopes is read again)."""
    missing, drift = planted(lab, "NV101"), planted(lab, "NV102")
    cell = missing["subject"]["scope"].removeprefix("cell:")
    assert drift["subject"]["scope"] == f"cell:{cell}", "the lab puts both in one cell"
    assert all(
        r["scope"] != f"cell:{cell}" for f in lab.baseline["findings"] if f["code"] == "HV101" for r in f["related"]
    ), "the lab's zombies are in the other cell"
    path = db(lab, f"nova_{cell}")
    rows = Rows(path)
    victim = rows.one(
        "SELECT * FROM instances WHERE deleted = 0 AND vm_state = 'active' AND task_state IS NULL "
        "AND power_state = 1 AND host = ? AND uuid NOT IN (?, ?) ORDER BY id LIMIT 1",
        rows.instance(missing["subject"]["id"])["host"],
        missing["subject"]["id"],
        drift["subject"]["id"],
    )
    synced = next(
        r["params"]["values"]["power_state"]
        for r in lab.baseline["repairs"]
        if r["fingerprint"] == drift["fingerprint"]
    )
    new = str(uuidlib.uuid4())
    originals = [rows.instance(u) for u in (victim["uuid"], missing["subject"]["id"], drift["subject"]["id"])]

    def act():
        now = str(_now())
        rows.insert(
            "instances",
            {
                **originals[1],
                "id": None,
                "uuid": new,
                "created_at": now,
                "updated_at": now,
                "launched_at": now,
                "hostname": "created-mid-run",
                "display_name": "created-mid-run",
            },
        )
        rows.update("instances", victim["id"], deleted=victim["id"], deleted_at=now, vm_state="deleted", updated_at=now)
        rows.update("instances", originals[1]["id"], task_state="rebooting", updated_at=now)
        rows.update("instances", originals[2]["id"], power_state=synced, updated_at=now)
        return put_back

    def put_back():
        # osfsck left the test's own changes as they were ...
        assert rows.instance(new, deleted=0)["vm_state"] == originals[1]["vm_state"]
        assert rows.instance(victim["uuid"], deleted=victim["id"])["vm_state"] == "deleted"
        assert rows.instance(missing["subject"]["id"])["task_state"] == "rebooting"
        assert rows.instance(drift["subject"]["id"])["power_state"] == synced
        # ... and they go
        rows.delete("instances", rows.instance(new)["id"])
        for row in originals:
            rows.update("instances", row["id"], **{k: v for k, v in row.items() if k != "id"})

    run = scenario(
        "repair",
        "--unsafe",
        "--yes",
        "--grace",
        "10m",
        "--format",
        "json",
        "--select",
        "HV101,NV10,NV2",
        inject=after_the_scan(lab, act),
    )
    judge(lab, run, exit_code={4, 5})
    touched = {lab.finding(i["fingerprint"])["subject"]["id"] for i in run.applied}
    assert not touched & {new, victim["uuid"], missing["subject"]["id"], drift["subject"]["id"]}, touched
    # what changed is skipped by the fresh re-check (or is gone when its check is planned)
    plans = {r["fingerprint"]: r for r in run.report["repairs"]}
    for f in (missing, drift):
        assert plans.get(f["fingerprint"], {"outcome": "skipped"})["outcome"] == "skipped", plans[f["fingerprint"]]
    assert "fresh re-check" in plans[missing["fingerprint"]]["reason"], plans[missing["fingerprint"]]
    assert run.applied, "the planted faults nobody touched are repaired"


def test_the_api_database_goes_away_before_the_repairs(lab, scenario):
    """The API database (the list of cells) becomes unreachable after the snapshot: the
    fresh re-check cannot read any cell, so it must not judge on the snapshot's old rows;
    nothing is repaired, and the run says a source failed."""
    api = db(lab, "nova_api")
    away = api.with_name("nova_api.away")

    def act():
        api.rename(away)
        return lambda: away.rename(api)

    run = scenario(*REPAIR, "--select", "HV10,NV10,NV2", inject=after_the_scan(lab, act))
    judge(lab, run, exit_code=4 | 8, failed={"nova-db api": "no such SQLite database file"})
    assert not run.applied
    reasons = {r["reason"] for r in run.report["repairs"] if r["outcome"] == "skipped"}
    assert "fresh re-check was inconclusive" in reasons, reasons


class Rows:
    """Plain reads and writes of one lab database, as another program would make them."""

    def __init__(self, path: Path):
        self.path = path

    def _conn(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), timeout=60)
        conn.row_factory = sqlite3.Row
        return conn

    def one(self, sql: str, *args) -> dict:
        conn = self._conn()
        try:
            rows = conn.execute(sql, args).fetchall()
        finally:
            conn.close()
        assert len(rows) == 1, (sql, args, len(rows))
        return dict(rows[0])

    def instance(self, uuid: str, deleted: int = 0) -> dict:
        return self.one("SELECT * FROM instances WHERE uuid = ? AND deleted = ?", uuid, deleted)

    def _write(self, sql: str, args) -> None:
        conn = self._conn()
        try:
            with conn:
                assert conn.execute(sql, list(args)).rowcount == 1, sql
        finally:
            conn.close()

    def insert(self, table: str, row: dict) -> None:
        self._write(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", row.values())

    def update(self, table: str, id_: int, **values) -> None:
        self._write(f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?", [*values.values(), id_])

    def delete(self, table: str, id_: int) -> None:
        self._write(f"DELETE FROM {table} WHERE id = ?", [id_])
