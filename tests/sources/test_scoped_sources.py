"""Sources read only what a run's scope needs (`Source.within`): a run of one cell connects
to the API database and that cell's, never another cell's (here, one whose server is
unreachable); a run of some hosts reaches only their hypervisors; a run of some projects
reads only their quota rows, narrowed in the SQL itself.  What lies outside gets no
coverage at all: not read, never read and empty.

Connections and SELECTs are counted as the drivers see them: SQLAlchemy's pool `connect`
event for each new DBAPI connection, and SQLite's own statement trace on it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool

from osfsck.config.settings import ConfigError, Database, HostOverride, HypervisorSettings, NovaSettings
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import Cell, ComputeNode, ComputeService, Instance, cell_scope
from osfsck.model.facts.quota import NovaQuotaUsage
from osfsck.model.scope import RunScope
from osfsck.model.snapshot import Snapshot
from osfsck.sources.hosts import scoped_hosts
from osfsck.sources.nova_db import NovaDatabaseSource, queries
from osfsck_lab import database, schemas

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
CELL1 = "11111111-1111-4111-8111-111111111111"
CELL2 = "22222222-2222-4222-8222-222222222222"
# a MariaDB server nobody runs: connecting to it is refused at once, and would be seen
UNREACHABLE = "mysql+pymysql://nova:secret@127.0.0.1:9/nova_cell2"


class Reads:
    """Every DBAPI connection opened, and every SQL statement SQLite ran, per database file."""

    def __init__(self):
        self.connections: Counter = Counter()
        self.selects: Counter = Counter()
        self.sql: list[str] = []

    def __enter__(self):
        event.listen(Engine, "do_connect", self._dialling)
        event.listen(Pool, "connect", self._connected)
        return self

    def __exit__(self, *exc):
        event.remove(Engine, "do_connect", self._dialling)
        event.remove(Pool, "connect", self._connected)

    def _dialling(self, dialect, record, cargs, cparams):
        """Every connection attempt, before the driver tries (a refused one counts too)."""
        where = cargs[0] if cargs else cparams.get("database", "?")
        self.connections[Path(str(where).split("?")[0].removeprefix("file:")).stem] += 1

    def _connected(self, dbapi_conn, record):
        if isinstance(dbapi_conn, sqlite3.Connection):
            name = Path(dbapi_conn.execute("PRAGMA database_list").fetchone()[2]).stem
            dbapi_conn.set_trace_callback(lambda sql, name=name: self._ran(name, sql))

    def _ran(self, name: str, sql: str) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            self.selects[name] += 1
            self.sql.append(sql)


def two_cells(tmp_path: Path) -> NovaDatabaseSource:
    """The API database and cell1's on SQLite (the real DDL), cell2 on a server that is down;
    an instance and a leftover quota usage row of two projects each."""
    release = schemas.releases()[0]
    urls = database.database_urls(tmp_path, None, "t", ["nova_api", "nova_cell1"])
    database.create(urls["nova_api"], "nova_api", release)
    database.create(urls["nova_cell1"], "nova", release)
    cell = {"transport_url": "none:///", "disabled": False, "created_at": T0}
    database.insert_rows(
        urls["nova_api"],
        "cell_mappings",
        [
            {**cell, "id": 1, "uuid": CELL1, "name": "cell1", "database_connection": urls["nova_cell1"]},
            {**cell, "id": 2, "uuid": CELL2, "name": "cell2", "database_connection": UNREACHABLE},
        ],
    )
    usage = {"user_id": "u", "resource": "instances", "in_use": 1, "reserved": 0, "created_at": T0}
    database.insert_rows(
        urls["nova_api"],
        "quota_usages",
        [{**usage, "id": 1, "project_id": "p1"}, {**usage, "id": 2, "project_id": "p2"}],
    )
    row = {"host": "hv1", "node": "hv1", "vcpus": 1, "memory_mb": 64, "root_gb": 1, "created_at": T0}
    database.insert_rows(
        urls["nova_cell1"],
        "instances",
        [
            {**row, "id": 1, "uuid": "i-1", "project_id": "p1", "deleted": 0, "vm_state": "active"},
            {**row, "id": 2, "uuid": "i-2", "project_id": "p2", "deleted": 0, "vm_state": "active"},
        ],
    )
    return NovaDatabaseSource(NovaSettings(api_database=Database(urls["nova_api"])))


def collect(source, within: RunScope | None, kinds=None):
    source.within = within
    snap = Snapshot(taken_at=T0)
    with Reads() as reads:
        statuses = source.collect(set(kinds or source.provides), snap, snap)
    return snap, {s.scope: s.status for s in statuses}, reads


def test_a_whole_run_reaches_every_cell(tmp_path):
    _, status, reads = collect(two_cells(tmp_path), None)
    assert status == {"api": "ok", "cell:cell1": "ok", "cell:cell2": "partial"}  # cell2 tried, refused
    # cell1 twice: its host list first, then the rest; cell2, refused the first time, once
    assert reads.connections == {"nova_api": 1, "nova_cell1": 2, "nova_cell2": 1}


@pytest.mark.parametrize("named", ["cell1", CELL1])
def test_a_one_cell_run_connects_to_no_other_cell(tmp_path, named):
    snap, status, reads = collect(two_cells(tmp_path), RunScope(cells=(named,)))
    assert status == {"api": "ok", "cell:cell1": "ok"}
    # the API database twice: its cell list, then, after the cell, what concerns the cell;
    # the cell twice: its host list, then the rest
    assert reads.connections == {"nova_api": 2, "nova_cell1": 2}  # cell2's server never dialled
    assert not any(s == "cell:cell2" for _, s in snap.coverage)  # not read: no coverage, not "read and empty"
    assert {c.name for c in snap.of(Cell)} == {"cell1", "cell2"}  # the cell list is read whole
    assert {i.uuid for i in snap.of(Instance)} == {"i-1", "i-2"}
    # each database: its schema version first (the catalogue's list of tables, then
    # alembic_version); cell_mappings; instance_mappings to the cell or none, and of its 2
    # instances (one batch); build_requests; the API's quota rows lie in no cell: not read
    version = 2
    assert reads.selects == {"nova_api": version + 4, "nova_cell1": 2 * version + len(queries.CELL_KINDS)}
    assert snap.coverage[("quota.nova_usage", "api")].part == "none"


def test_a_cell_that_does_not_exist_is_one_clear_error_before_any_cell_is_read(tmp_path):
    with pytest.raises(ConfigError, match=r"--cell cell9: no cell of that name or uuid in cell_mappings"):
        collect(two_cells(tmp_path), RunScope(cells=("cell1", "cell9")))


def test_a_project_run_reads_only_its_quota_rows_in_sql(tmp_path):
    snap, _, reads = collect(two_cells(tmp_path), RunScope(projects=("p1",)), {Cell, NovaQuotaUsage, Instance})
    assert {u.project_id for u in snap.of(NovaQuotaUsage)} == {"p1"}
    assert any("FROM quota_usages" in sql and "WHERE quota_usages.project_id = 'p1'" in sql for sql in reads.sql)
    # instances are read whole: only all projects' rows can say a uuid is no one's
    assert {i.project_id for i in snap.of(Instance)} == {"p1", "p2"}


def _known(*hosts_by_cell) -> Snapshot:
    snap = Snapshot(taken_at=T0)
    for cell, hosts in hosts_by_cell:
        snap.add(Cell.kind, [Cell("api", f"uuid-{cell}", cell, False)])
        snap.add(ComputeNode.kind, [ComputeNode(cell, f"node-{h}", h, h, "QEMU") for h in hosts])
        snap.add(ComputeService.kind, [ComputeService(cell, h, 0, 0, T0, T0) for h in hosts])
    from osfsck.model.snapshot import Coverage

    for cell, _ in hosts_by_cell:
        for k in (ComputeNode, ComputeService):
            snap.cover(Coverage(k.kind, cell_scope(cell), "nova-db", True))
    snap.cover(Coverage(Cell.kind, "api", "nova-db", True))
    return snap


HV = HypervisorSettings(
    uri_template="test:///default", extra_hosts=["spare-1"], hosts={"byhand": HostOverride(uri="test:///default")}
)


def test_hosts_in_scope():
    known = _known(("cell1", ["cmp-1", "cmp-2"]), ("cell2", ["cmp-3"]))
    names = lambda within: [t.name for t in scoped_hosts(known, HV, within)]  # noqa: E731
    assert names(None) == ["byhand", "cmp-1", "cmp-2", "cmp-3", "spare-1"]
    assert names(RunScope(hosts=("cmp-[13]",))) == ["cmp-1", "cmp-3"]
    # a cell's hosts are those Nova lists in it: an extra or overridden host is no cell's
    assert names(RunScope(cells=("cell1",))) == ["cmp-1", "cmp-2"]
    assert names(RunScope(cells=("cell1",), hosts=("*-2", "spare-*"))) == ["cmp-2"]
    assert names(RunScope(hosts=("spare-*",))) == ["spare-1"]
    with pytest.raises(ConfigError, match="--host 'nope-\\*': no compute host Nova lists"):
        names(RunScope(hosts=("nope-*",)))


def test_a_one_host_run_reaches_only_that_hosts_libvirt():
    from osfsck.sources.libvirt import LibvirtSource

    known = _known(("cell1", ["cmp-1", "cmp-2", "cmp-3"]))
    dialled: list[str] = []

    def connect(uri):
        dialled.append(uri)
        raise RuntimeError("no libvirtd here")

    src = LibvirtSource(HypervisorSettings(uri_template="qemu+ssh://{host}/system"), connect=connect)
    src.within = RunScope(hosts=("cmp-2",))
    sink = Snapshot(taken_at=T0)
    statuses = src.collect({Domain}, known, sink)
    assert dialled == ["qemu+ssh://cmp-2/system"]
    assert [(s.scope, s.status) for s in statuses] == [("host:cmp-2", "partial")]
    assert [s for _, s in sink.coverage] == ["host:cmp-2"]


def test_a_project_run_counts_only_its_cinder_rows_and_reads_the_rest_whole(tmp_path):
    from osfsck.config.settings import CinderSettings
    from osfsck.model.facts.cinder import CinderVolume
    from osfsck.model.facts.quota import CinderCounted, CinderQuotaUsage
    from osfsck.sources.cinder_db import CinderDatabaseSource

    url = database.database_urls(tmp_path, None, "t", ["cinder"])["cinder"]
    database.create(url, "cinder", schemas.releases()[0])
    lvm = "1d1d1d1d-0000-4000-8000-000000000001"
    database.insert_rows(url, "volume_types", [{"id": lvm, "name": "lvm", "deleted": 0, "created_at": T0}])
    vol = {"size": 1, "status": "available", "deleted": 0, "use_quota": 1, "created_at": T0, "volume_type_id": lvm}
    database.insert_rows(
        url, "volumes", [{**vol, "id": "v1", "project_id": "p1"}, {**vol, "id": "v2", "project_id": "p2"}]
    )
    usage = {"resource": "volumes", "in_use": 1, "reserved": 0, "deleted": 0, "created_at": T0}
    database.insert_rows(
        url,
        "quota_usages",
        [{**usage, "id": 1, "project_id": "p1", "race_preventer": 1}, {**usage, "id": 2, "project_id": "p2"}],
    )
    snap, status, reads = collect(
        CinderDatabaseSource(CinderSettings(database=Database(url))), RunScope(projects=("p1",))
    )
    assert status == {"cinder": "ok"}
    assert {c.project_id for c in snap.of(CinderCounted)} == {"p1"}  # each part of the GROUP BY union
    assert {u.project_id for u in snap.of(CinderQuotaUsage)} == {"p1"}
    assert {v.project_id for v in snap.of(CinderVolume)} == {"p1", "p2"}  # what other checks judge: whole
    counted = [sql for sql in reads.sql if "GROUP BY" in sql]
    assert counted and all("project_id = 'p1'" in sql for sql in counted)


def test_a_one_cell_run_reads_the_mappings_of_its_instances_in_batches_and_no_others(tmp_path):
    """The second pass of the API database (model/cell_slice.py): the mappings of the
    cell's instances by uuid, BATCH at a time, wherever they point; of the other cell's
    instances, none."""
    from osfsck.model.facts.nova import InstanceMapping
    from osfsck.sources.db_read import BATCH

    source = two_cells(tmp_path)
    url = source.api_database.url.replace("nova_api", "nova_cell1")
    n = 2 * BATCH + 1
    row = {"host": "hv1", "node": "hv1", "vcpus": 1, "memory_mb": 64, "root_gb": 1, "created_at": T0}
    rows = [{**row, "id": 10 + i, "uuid": f"c1-{i:05d}", "project_id": "p1", "deleted": 0} for i in range(n)]
    database.insert_rows(url, "instances", rows)
    mapping = {"project_id": "p1", "queued_for_delete": False, "created_at": T0}
    database.insert_rows(
        source.api_database.url,
        "instance_mappings",
        [{**mapping, "id": 1, "instance_uuid": "c1-00000", "cell_id": 2}]  # cell1's, mapped to cell2
        + [{**mapping, "id": 2 + i, "instance_uuid": f"c1-{i:05d}", "cell_id": 1} for i in range(1, n)]
        + [{**mapping, "id": 10000, "instance_uuid": "c2-only", "cell_id": 2}]  # cell2's: not read
        + [{**mapping, "id": 10001, "instance_uuid": "building", "cell_id": None}],  # a build: read
    )
    snap, status, reads = collect(source, RunScope(cells=("cell1",)))
    assert status == {"api": "ok", "cell:cell1": "ok"}
    read = {m.instance_uuid for m in snap.of(InstanceMapping)}
    assert read == {r["uuid"] for r in rows} | {"building"}
    assert len(snap.of(InstanceMapping)) == n + 1  # each once, though read by both passes
    # the schema version (2), cell_mappings, mappings to the cell or none, 3 batches of the
    # 1,003 instances (its own rows and the fixture's two), build_requests
    assert reads.selects["nova_api"] == 2 + 1 + 1 + 3 + 1
    assert snap.coverage[(InstanceMapping.kind, "api")].part == "cells:cell1"
