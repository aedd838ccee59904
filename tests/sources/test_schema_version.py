"""The schema version every database source reads first (sources/schema_version.py), on
databases built from the real schemas the lab stores (every release, SQLite and MariaDB),
then made hostile: versions emptied, doubled, unknown, garbage, tables dropped or added.

A schema osfsck does not know is not read: its scope is partial with one line, never a
traceback, never facts a check could misjudge.  One it knows is read, however old."""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.pool import NullPool

from osfsck.config.dns import DesignateSettings
from osfsck.config.placement import PlacementSettings
from osfsck.config.settings import CinderSettings, Database, NeutronSettings, NovaSettings
from osfsck.model import schema_versions as sv
from osfsck.model.facts.cinder import CINDER_SCOPE, CinderVolume
from osfsck.model.facts.nova import Cell, Instance, InstanceMapping
from osfsck.model.facts.placement import Consumer
from osfsck.model.facts.quota import CinderCounted
from osfsck.model.releases import SERIES
from osfsck.model.schema_versions import ALEMBIC_TABLE, RELEASES, alembic_heads, cloud_release, place
from osfsck.model.snapshot import Snapshot
from osfsck.sources.cinder_db import CinderDatabaseSource
from osfsck.sources.designate_db import DesignateDatabaseSource
from osfsck.sources.neutron_db import NeutronDatabaseSource
from osfsck.sources.nova_db import NovaDatabaseSource
from osfsck.sources.placement_db import PlacementDatabaseSource
from osfsck.sources.schema_version import read_schema
from osfsck_lab import database, schemas
from tests.support.databases import drop_databases, mariadb_in

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
NEWEST = schemas.releases()[0]
UNKNOWN = "ffffffffffff"
SERVICES = {
    "cinder": (CinderDatabaseSource, CinderSettings),
    "neutron": (NeutronDatabaseSource, NeutronSettings),
    "placement": (PlacementDatabaseSource, PlacementSettings),
    "designate": (DesignateDatabaseSource, DesignateSettings),
}


@pytest.fixture(scope="module")
def mariadb(tmp_path_factory):
    """A real MariaDB on loopback for this module (the lab's helper), stopped by its PID."""
    with mariadb_in(tmp_path_factory.mktemp("mariadb")) as server:
        yield server


@pytest.fixture(scope="module")
def sqlite_templates(tmp_path_factory):
    """(db kind, release) -> a SQLite file loaded with that DDL once, copied per test."""
    folder, made = tmp_path_factory.mktemp("templates"), {}

    def template(db: str, release: str) -> Path:
        if (db, release) not in made:
            url = database.database_urls(folder / release, None, "", [db])[db]  # SQLite: <folder>/db/<db>.sqlite
            database.create(url, db, release)
            made[db, release] = Path(url.removeprefix("sqlite:///"))
        return made[db, release]

    return template


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.integration)])
def new_db(request, tmp_path):
    """(db kind, release, name) -> the URL of a new database of that kind, loaded with the
    lab's stored DDL of that release, on the backend under test."""
    mariadb = request.getfixturevalue("mariadb") if request.param == "mariadb" else None
    server = mariadb.url if mariadb else None
    prefix = f"v{secrets.token_hex(4)}"

    def make(db: str, release: str = NEWEST, name: str | None = None) -> str:
        url = database.database_urls(tmp_path, server, prefix, [name or db])[name or db]
        if server is None:
            shutil.copyfile(request.getfixturevalue("sqlite_templates")(db, release), url.removeprefix("sqlite:///"))
        else:
            database.create(url, db, release)
        return url

    make.backend = request.param
    yield make
    if mariadb:
        drop_databases(mariadb, prefix)


def run(db_url: str, sql: str, **params) -> None:
    engine = create_engine(db_url, poolclass=NullPool)
    with engine.begin() as conn:
        for stmt in sql.split(";\n"):
            if stmt.strip():
                conn.execute(text(stmt), params)
    engine.dispose()


def nova(new_db, release: str = NEWEST, cells: int = 1) -> tuple[NovaDatabaseSource, str, list[str]]:
    """The API database and `cells` cell databases of `release`, mapped in cell_mappings."""
    api = new_db("nova_api", release)
    urls = [new_db("nova", release, f"nova_cell{i}") for i in range(1, cells + 1)]
    cell = {"transport_url": "none:///", "disabled": False, "created_at": T0}
    if "disabled" not in columns(api, "cell_mappings"):  # Queens' has none (nova_api 58 added it)
        del cell["disabled"]
    database.insert_rows(
        api,
        "cell_mappings",
        [
            {
                **cell,
                "id": i,
                "uuid": f"00000000-0000-4000-8000-00000000000{i}",
                "name": f"cell{i}",
                "database_connection": u,
            }
            for i, u in enumerate(urls, 1)
        ],
    )
    return NovaDatabaseSource(NovaSettings(api_database=Database(api))), api, urls


def columns(url: str, table: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        names = {c["name"] for c in inspect(conn).get_columns(table)}
    engine.dispose()
    return names


def service(db: str, url: str):
    source, settings = SERVICES[db]
    return source(settings(database=Database(url)))


def collect(source, kinds=()):
    snap = Snapshot(taken_at=T0)
    statuses = source.collect(set(kinds), snap, snap)
    return snap, {s.scope: s for s in statuses}


# -- every numbered release the lab stores, named (every database of them under alembic) --------
@pytest.mark.parametrize("release", [r for r in schemas.stored_releases() if r not in SERIES])
@pytest.mark.parametrize("db", schemas.DBS)
def test_every_stored_release_is_named(new_db, release, db):
    """A database loaded from the lab's DDL of `release` (its alembic rows included) is
    read by its source as that release, with the heads the lab's build recorded."""
    if db in ("nova", "nova_api"):
        source, _, _ = nova(new_db, release)
        scope = "api" if db == "nova_api" else "cell:cell1"
    else:
        source, scope = service(db, new_db(db, release)), db
    snap, status = collect(source)
    assert status[scope].status == "ok", status[scope].reason
    got = snap.schemas[scope]
    assert (got.database, got.table) == (db, "alembic_version")
    assert got.values == tuple(sorted(schemas.versions()[release]["alembic_heads"][db])) == alembic_heads(db, release)
    placed = place(got)
    assert placed.state == "release" and release in placed.position.releases, placed


# -- the releases before 2023.1 (the series: some of their databases before alembic) ----------
OLD = [r for r in schemas.stored_releases() if r in SERIES]
# What osfsck's SELECTs name that an old release's schema lacks, per database and fact
# kind (tools/README.md, "Releases before 2023.1: what osfsck can read"): cinder's
# use_quota and placement's consumer types came with Xena, Nova's columns below with
# Rocky (nova_api 058, 061) and Train (instances.hidden, 399).  Nothing else of any stored
# release is missing; neutron and designate lack nothing.
BEFORE_XENA = {
    "cinder": {CinderVolume: ["volumes.use_quota"], CinderCounted: ["snapshots.use_quota", "volumes.use_quota"]},
    "placement": {Consumer: ["consumer_types", "consumers.consumer_type_id"]},
}
LACKS = {
    **dict.fromkeys(("wallaby", "victoria", "ussuri", "train"), BEFORE_XENA),
    **dict.fromkeys(("stein", "rocky"), {"nova": {Instance: ["instances.hidden"]}}),
    "queens": {
        "nova_api": {InstanceMapping: ["instance_mappings.queued_for_delete"], Cell: ["cell_mappings.disabled"]},
        "nova": {Instance: ["instances.hidden"]},
    },
}
# what a missing table needs to be read (placement's consumer_types, of Xena's 422ece571366)
MISSING_TABLES = {"consumer_types": "CREATE TABLE consumer_types (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(255))"}


def stored(release: str, db: str, backend: str) -> bool:
    dialect = {"sqlite": "sqlite", "mariadb": "mysql"}[backend]
    return dialect not in schemas.versions()[release]["not_built"].get(db, {})


def version_rows(release: str, db: str) -> tuple[str, tuple[str, ...]]:
    """(table, values) of a database of `release` as the lab's build recorded them."""
    v = schemas.versions()[release]
    if db in v["alembic_heads"]:
        return ALEMBIC_TABLE, tuple(sorted(v["alembic_heads"][db]))
    return sv.MIGRATE_TABLE, tuple(f"{m['repository_id']}:{m['version']}" for m in v["migrate_versions"][db])


def add_what_it_lacks(url: str, lacks: dict) -> None:
    for name in sorted({n for names in lacks.values() for n in names}):
        table_name, _, column_name = name.partition(".")
        run(url, f"ALTER TABLE {table_name} ADD COLUMN {column_name} INTEGER" if column_name else MISSING_TABLES[name])


def named_in(reason: str, lacks: dict, kinds=None) -> bool:
    """Whether a read's line names a column (or table) that `kinds` (default: all) lack."""
    return any(n in reason for kind, names in lacks.items() if kinds is None or kind in kinds for n in names)


@pytest.mark.parametrize("release", OLD)
@pytest.mark.parametrize("db", schemas.DBS)
def test_every_stored_old_release_is_named(new_db, release, db):
    """The version table of each old schema the lab stores (migrate_version before alembic)
    is read as the release it is, with what the lab's build recorded and the product's
    table expects."""
    if not stored(release, db, new_db.backend):
        pytest.skip(f"no {new_db.backend} schema of {db} in {release}: {schemas.versions()[release]['not_built'][db]}")
    engine = create_engine(new_db(db, release), poolclass=NullPool)
    with engine.connect() as conn:
        got = read_schema(conn, db, db)
    engine.dispose()
    table, values = version_rows(release, db)
    assert (got.database, got.table, got.values) == (db, table, values)
    if table == ALEMBIC_TABLE:
        assert values == alembic_heads(db, release)
    placed = place(got)
    assert placed.state == "release" and not placed.problem and not placed.note, placed
    assert release in [r.lower() for r in placed.position.releases], placed


@pytest.mark.parametrize("release", OLD)
@pytest.mark.parametrize("db", [db for db in SERVICES])
def test_an_old_service_schema_is_read_but_for_what_it_lacks(new_db, release, db):
    """Each kind whose columns an old schema has is read; a kind that needs one it lacks
    leaves the database partial with one line that names the column and the release, never
    a traceback; and once the columns listed in LACKS are added, everything reads: the
    list is complete."""
    if not stored(release, db, new_db.backend):
        pytest.skip(f"no {new_db.backend} schema of {db} in {release}")
    url = new_db(db, release)
    lacks = LACKS.get(release, {}).get(db, {})
    kinds = SERVICES[db][0].provides
    snap, status = collect(service(db, url), kinds)
    if not lacks:
        assert status[db].status == "ok", status[db].reason
        return
    said = place(snap.schemas[db]).text
    assert status[db].status == "partial" and "\n" not in status[db].reason
    assert status[db].reason.startswith(f"{SERVICES[db][0].label}: ")
    assert status[db].reason.endswith(f" (its schema: {said})") and named_in(status[db].reason, lacks)
    assert all(snap.of(kind) == [] for kind in kinds)  # all or nothing
    for kind in lacks:  # alone (a run of only the checks that need it): unread, and said
        _, alone = collect(service(db, url), [kind])
        assert alone[db].status == "partial" and named_in(alone[db].reason, lacks, [kind]), alone[db].reason
    _, rest = collect(service(db, url), [k for k in kinds if k not in lacks])
    assert rest[db].status == "ok", rest[db].reason
    add_what_it_lacks(url, lacks)
    _, whole = collect(service(db, url), kinds)
    assert whole[db].status == "ok", whole[db].reason


@pytest.mark.parametrize("release", OLD)
def test_an_old_nova_is_read_but_for_what_it_lacks(new_db, release):
    """Nova's API database lists the cells: one that lacks a column the cell list or the
    API kinds need leaves every cell unread; then each cell says what it lacks itself."""
    if not stored(release, "nova", new_db.backend):
        pytest.skip(f"no {new_db.backend} schema of nova in {release}")
    source, api, (cell,) = nova(new_db, release)
    api_lacks, cell_lacks = (LACKS.get(release, {}).get(db, {}) for db in ("nova_api", "nova"))
    snap, status = collect(source, source.provides)
    if api_lacks:
        assert status["api"].status == "partial" and status["api"].reason.startswith("API database: ")
        assert named_in(status["api"].reason, api_lacks) and "cell:cell1" not in status and not snap.of(Instance)
        assert status["api"].reason.endswith(f" (its schema: {place(snap.schemas['api']).text})")
        add_what_it_lacks(api, api_lacks)
        snap, status = collect(source, source.provides)
    assert status["api"].status == "ok", status["api"].reason
    if cell_lacks:
        assert status["cell:cell1"].status == "partial" and named_in(status["cell:cell1"].reason, cell_lacks)
        assert status["cell:cell1"].reason.endswith(f" (its schema: {place(snap.schemas['cell:cell1']).text})")
        add_what_it_lacks(cell, cell_lacks)
        _, status = collect(source, source.provides)
    assert {s.status for s in status.values()} == {"ok"}, status


def test_the_cloud_of_one_release_is_named(new_db):
    source, _, _ = nova(new_db, NEWEST, cells=2)
    snap, _ = collect(source)
    for db in SERVICES:
        part, _ = collect(service(db, new_db(db)))
        snap.schemas.update(part.schemas)
    found = cloud_release(snap.schemas.values())
    assert NEWEST in found.releases and found.notes == ()
    assert [p.read.scope for p in found.databases] == [
        "api",
        "cell:cell1",
        "cell:cell2",
        "cinder",
        "designate",
        "neutron",
        "placement",
    ]


# -- hostile version tables ---------------------------------------------------------------------
def cinder_with_a_volume(new_db) -> str:
    url = new_db("cinder")
    database.insert_rows(
        url, "volume_types", [{"id": "vt-1", "name": "lvm", "deleted": False, "is_public": True, "created_at": T0}]
    )
    row = {"created_at": T0, "deleted": False, "size": 1, "project_id": "p", "status": "available"}
    database.insert_rows(
        url,
        "volumes",
        [{**row, "id": "v-1", "attach_status": "detached", "use_quota": True, "volume_type_id": "vt-1"}],
    )
    return url


def read_cinder(url: str):
    snap, status = collect(service("cinder", url), [CinderVolume])
    return snap, status[CINDER_SCOPE]


def test_a_known_schema_is_read(new_db):
    snap, status = read_cinder(cinder_with_a_volume(new_db))
    assert status.status == "ok" and [v.id for v in snap.of(CinderVolume)] == ["v-1"]


def test_an_empty_alembic_version_is_not_read(new_db):
    url = cinder_with_a_volume(new_db)
    run(url, "DELETE FROM alembic_version")
    snap, status = read_cinder(url)
    assert status.status == "partial" and snap.of(CinderVolume) == []
    assert status.reason == (
        "Cinder database: its alembic_version table is empty (its first migration failed?), so it is not read"
    )


def test_an_unknown_revision_is_one_line_and_nothing_read(new_db):
    url = cinder_with_a_volume(new_db)
    run(url, f"UPDATE alembic_version SET version_num = '{UNKNOWN}'")
    snap, status = read_cinder(url)
    assert status.status == "partial" and snap.of(CinderVolume) == []
    assert status.reason == (
        f"Cinder database: alembic revision {UNKNOWN} is not one osfsck knows (newer than {RELEASES[-1]}?), "
        "so it is not read"
    )
    assert snap.schemas[CINDER_SCOPE].values == (UNKNOWN,)  # kept as read, for the report and later osfscks


def test_no_version_table_is_not_read_and_never_selected_from(new_db):
    url = cinder_with_a_volume(new_db)
    run(url, "DROP TABLE alembic_version")
    statements = []
    engine = create_engine(url, poolclass=NullPool)
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with engine.connect() as conn:
        got = read_schema(conn, "cinder", CINDER_SCOPE)
    engine.dispose()
    assert (got.table, got.values) == ("", ())
    # existence is asked of the catalogue: no SELECT that fails (PostgreSQL would abort
    # the transaction the source's other SELECTs run in)
    assert statements and not any("alembic_version" in s or "migrate_version" in s for s in statements)
    snap, status = read_cinder(url)
    assert status.status == "partial" and snap.of(CinderVolume) == []
    assert status.reason.startswith("Cinder database: it has no alembic_version or migrate_version table")


MIGRATE_TABLE = """CREATE TABLE migrate_version (
    repository_id VARCHAR(250) NOT NULL, repository_path TEXT, version INTEGER, PRIMARY KEY (repository_id))"""


def test_a_migrate_version_alone_is_read_as_the_old_release_it_says(new_db):
    """A release before alembic whose columns osfsck reads all exist is read normally."""
    url = cinder_with_a_volume(new_db)
    run(url, f"DROP TABLE alembic_version;\n{MIGRATE_TABLE};\nINSERT INTO migrate_version VALUES ('cinder', 'x', 141)")
    snap, status = read_cinder(url)
    assert status.status == "ok" and [v.id for v in snap.of(CinderVolume)] == ["v-1"]
    assert place(snap.schemas[CINDER_SCOPE]).text == "Wallaby"


def test_an_old_schema_that_lacks_a_column_names_its_release_in_the_line(new_db):
    url = cinder_with_a_volume(new_db)
    run(
        url,
        f"DROP TABLE alembic_version;\n{MIGRATE_TABLE};\nINSERT INTO migrate_version VALUES ('cinder', 'x', 117);\n"
        "ALTER TABLE volumes DROP COLUMN use_quota",  # Queens has no volumes.use_quota (plan §2.4)
    )
    snap, status = read_cinder(url)
    assert status.status == "partial" and snap.of(CinderVolume) == []
    assert status.reason.startswith("Cinder database: ") and status.reason.endswith(" (its schema: Queens)")
    assert "use_quota" in status.reason


def test_designate_keeps_migrate_version_for_ever_and_alembic_wins(new_db):
    url = new_db("designate")
    run(url, f"{MIGRATE_TABLE};\nINSERT INTO migrate_version VALUES ('Designate', 'x', 103)")
    snap, status = collect(service("designate", url))
    assert status["designate"].status == "ok"
    assert snap.schemas["designate"].values == alembic_heads("designate", NEWEST)
    assert place(snap.schemas["designate"]).text.endswith(NEWEST)


def test_an_empty_alembic_version_falls_back_to_migrate_version(new_db):
    url = new_db("designate")
    run(
        url,
        f"DELETE FROM alembic_version;\n{MIGRATE_TABLE};\nINSERT INTO migrate_version VALUES ('Designate', 'x', 103)",
    )
    snap, status = collect(service("designate", url))
    assert status["designate"].status == "ok"
    assert (snap.schemas["designate"].table, place(snap.schemas["designate"]).text) == ("migrate_version", "Xena–Yoga")


def other_nova_revision() -> str:
    """A Nova cell revision of a release older than the newest stored one."""
    newest = alembic_heads("nova", NEWEST)[0]
    return next(h for r in reversed(RELEASES) if (h := alembic_heads("nova", r)[0]) != newest)


def test_two_rows_in_a_nova_cell_database_leave_that_cell_unread(new_db):
    source, _, urls = nova(new_db, cells=2)
    run(urls[0], f"INSERT INTO alembic_version VALUES ('{other_nova_revision()}')")
    database.insert_rows(urls[1], "instances", [{"id": 1, "uuid": "i-2", "deleted": 0, "created_at": T0}])
    snap, status = collect(source, [Instance])
    assert status["api"].status == "ok" and status["cell:cell2"].status == "ok"
    assert status["cell:cell1"].status == "partial"
    assert status["cell:cell1"].reason.startswith("cell cell1: alembic_version has 2 rows (")
    assert "Nova's migrations keep one row" in status["cell:cell1"].reason
    assert [i.uuid for i in snap.of(Instance)] == ["i-2"]


def test_an_unknown_cell_is_unread_and_the_others_are_read(new_db):
    source, _, urls = nova(new_db, cells=2)
    run(urls[1], f"UPDATE alembic_version SET version_num = '{UNKNOWN}'")
    database.insert_rows(urls[1], "instances", [{"id": 1, "uuid": "i-2", "deleted": 0, "created_at": T0}])
    snap, status = collect(source, [Instance])
    assert (status["cell:cell1"].status, status["cell:cell2"].status) == ("ok", "partial")
    assert status["cell:cell2"].reason == (
        f"cell cell2: alembic revision {UNKNOWN} is not one osfsck knows (newer than {RELEASES[-1]}?), "
        "so it is not read"
    )
    assert snap.of(Instance) == []


def test_an_unknown_api_database_lists_no_cell(new_db):
    """The cells are listed in the API database: one osfsck does not know lists none, so
    every cell is unread (as when the API database is down), never taken for empty."""
    source, api, _ = nova(new_db)
    run(api, f"UPDATE alembic_version SET version_num = '{UNKNOWN}'")
    snap, status = collect(source, [Instance])
    assert status["api"].status == "partial"
    assert status["api"].reason.startswith(f"API database: alembic revision {UNKNOWN} is not one osfsck knows")
    assert not snap.is_complete(Instance, "*") and snap.coverage[("nova.instance", "*")].reason.startswith(
        "no cell could be read: API database: alembic revision"
    )


def test_cells_at_different_revisions_are_read_and_said(new_db):
    source, _, urls = nova(new_db, cells=2)
    revision = other_nova_revision()
    run(urls[1], f"UPDATE alembic_version SET version_num = '{revision}'")
    snap, status = collect(source)
    assert {s.status for s in status.values()} == {"ok"}
    (note,) = cloud_release(snap.schemas.values()).notes
    assert note.startswith("Nova cells disagree: cell1 at ") and f"; cell2 at {revision} (" in note


def test_neutron_with_only_its_expand_row_is_read_and_said(new_db):
    url = new_db("neutron")
    run(url, "DELETE FROM alembic_version WHERE version_num = '5c85685d616d'")
    snap, status = collect(service("neutron", url))
    assert status["neutron"].status == "ok"
    placed = place(snap.schemas["neutron"])
    assert NEWEST in placed.position.releases
    assert placed.note.endswith("the contract row is missing")
    assert any(
        n.startswith("Neutron database: alembic_version has only its expand row")
        for n in cloud_release(snap.schemas.values()).notes
    )


def test_a_binary_value_in_version_num_is_unknown_not_a_traceback(new_db):
    url = cinder_with_a_volume(new_db)
    if new_db.backend == "mariadb":  # a column of bytes, as a hand-made table may have
        run(url, "ALTER TABLE alembic_version MODIFY version_num VARBINARY(32) NOT NULL")
    run(url, "UPDATE alembic_version SET version_num = X'ff00fe'")
    snap, status = read_cinder(url)
    assert status.status == "partial" and snap.of(CinderVolume) == []
    assert status.reason.startswith("Cinder database: alembic revision 0xff00fe is not one osfsck knows")
    assert snap.schemas[CINDER_SCOPE].values == ("0xff00fe",)


def test_control_characters_in_version_num_are_shown_escaped(new_db):
    url = cinder_with_a_volume(new_db)
    run(url, "UPDATE alembic_version SET version_num = :v", v="a\x1b[2Jb")
    snap, status = read_cinder(url)
    assert status.status == "partial"
    assert status.reason.startswith("Cinder database: alembic revision 'a\\x1b[2Jb' is not one osfsck knows")
