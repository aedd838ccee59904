"""The shipped Nova schemas load into SQLite and have what our checks read."""

import re
import sqlite3

import pytest

from osfsck.lab import schemas

RELEASES = schemas.releases()

# table -> columns the checks read; must exist in every release.
REQUIRED = {
    "nova": {
        "instances": ["uuid", "id", "host", "node", "vm_state", "task_state", "power_state", "deleted",
                      "deleted_at", "updated_at", "hidden", "project_id", "user_id", "vcpus", "memory_mb",
                      "root_gb"],
        "shadow_instances": ["uuid", "deleted_at", "host"],
        "migrations": ["uuid", "instance_uuid", "source_compute", "dest_compute", "status", "migration_type",
                       "deleted"],
        "services": ["host", "binary", "disabled", "forced_down", "deleted", "updated_at", "last_seen_up"],
        "compute_nodes": ["host", "hypervisor_hostname", "hypervisor_type", "uuid", "deleted"],
    },
    "nova_api": {
        "instance_mappings": ["instance_uuid", "cell_id", "project_id", "queued_for_delete"],
        "cell_mappings": ["uuid", "name", "database_connection", "transport_url", "disabled"],
        "build_requests": ["instance_uuid", "project_id", "created_at"],
    },
}


def load_sqlite(release, db):
    con = sqlite3.connect(":memory:")
    for stmt in schemas.ddl_statements(release, db, "sqlite"):
        con.execute(stmt)
    con.commit()
    return con


def test_releases_present_newest_first():
    assert "2024.1" in RELEASES and len(RELEASES) >= 2
    assert RELEASES == sorted(RELEASES, key=lambda r: tuple(map(int, r.split("."))), reverse=True)
    assert set(RELEASES) == set(schemas.versions())


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("db", schemas.DBS)
def test_sqlite_schema_loads_with_required_columns(release, db):
    con = load_sqlite(release, db)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table, columns in REQUIRED[db].items():
        assert table in tables, f"{release} {db}: table {table} missing"
        have = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
        missing = set(columns) - have
        assert not missing, f"{release} {db}.{table}: columns {sorted(missing)} missing"
    # The row that says which revision this schema is.
    revs = [r[0] for r in con.execute("SELECT version_num FROM alembic_version")]
    assert revs == [schemas.versions()[release]["alembic_heads"][db]]


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("db", schemas.DBS)
def test_mysql_schema_matches_sqlite_tables(release, db):
    stmts = schemas.ddl_statements(release, db, "mysql")
    assert stmts[0] == "SET FOREIGN_KEY_CHECKS=0"
    mysql_tables = {m.group(1) for s in stmts for m in [re.match(r"CREATE TABLE `(\w+)`", s)] if m}
    con = load_sqlite(release, db)
    sqlite_tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert mysql_tables == sqlite_tables
    head = schemas.versions()[release]["alembic_heads"][db]
    assert stmts[-1] == f"INSERT INTO `alembic_version` (`version_num`) VALUES ('{head}')"


def test_cell_db_has_shadow_tables():
    # The migrations (not the models) create one shadow_ table per archivable table.
    con = load_sqlite(RELEASES[0], "nova")
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert len([n for n in names if n.startswith("shadow_")]) > 40


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError):
        schemas.ddl_statements(RELEASES[0], "nova_cell0", "sqlite")
    with pytest.raises(ValueError):
        schemas.ddl_statements(RELEASES[0], "nova", "postgresql")
    with pytest.raises(LookupError):
        schemas.ddl_statements("1999.1", "nova", "sqlite")
