"""The schema version on PostgreSQL, where a failed statement aborts its transaction: which
version table exists is asked of the catalogue (no SELECT that fails), and a SELECT that
fails on an old schema ends that database's read with one line, never a traceback."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from osfsck.config.settings import CinderSettings, Database
from osfsck.model.facts.cinder import CinderVolume
from osfsck.model.snapshot import Snapshot
from osfsck.sources.cinder_db import CinderDatabaseSource
from osfsck_lab import database

pytestmark = pytest.mark.integration

MIGRATE_TABLE = """CREATE TABLE migrate_version (
    repository_id VARCHAR(250) NOT NULL, repository_path TEXT, version INTEGER, PRIMARY KEY (repository_id))"""


def cinder(pg_db, *sql: str) -> str:
    url = pg_db("cinder")
    database.insert_rows(url, "volume_types", [{"id": "vt", "name": "lvm", "deleted": 0, "is_public": 1}])
    row = {"status": "available", "attach_status": "detached", "deleted": 0, "size": 1, "volume_type_id": "vt"}
    database.insert_rows(url, "volumes", [{**row, "id": "v-1", "use_quota": 1}])
    engine = database.engine(url)
    with engine.begin() as conn:
        for s in sql:
            conn.execute(text(s))
    engine.dispose()
    return url


def read(url: str):
    src = CinderDatabaseSource(CinderSettings(database=Database(url)))
    snap = Snapshot(taken_at=dt.datetime(2026, 3, 1))
    (status,) = src.collect({CinderVolume}, snap, snap)
    return snap, status


def test_a_known_schema_is_read(pg_db):
    snap, status = read(cinder(pg_db))
    assert status.status == "ok" and [v.id for v in snap.of(CinderVolume)] == ["v-1"]


def test_no_version_table_is_one_line(pg_db):
    snap, status = read(cinder(pg_db, "DROP TABLE alembic_version"))
    assert status.status == "partial" and snap.of(CinderVolume) == []
    assert status.reason.startswith("Cinder database: it has no alembic_version or migrate_version table")


def test_migrate_version_alone_is_read_as_its_release(pg_db):
    url = cinder(
        pg_db, "DROP TABLE alembic_version", MIGRATE_TABLE, "INSERT INTO migrate_version VALUES ('cinder', 'x', 141)"
    )
    snap, status = read(url)
    assert status.status == "ok" and [v.id for v in snap.of(CinderVolume)] == ["v-1"]


def test_an_old_schema_that_lacks_a_column_names_its_release(pg_db):
    url = cinder(
        pg_db,
        "DROP TABLE alembic_version",
        MIGRATE_TABLE,
        "INSERT INTO migrate_version VALUES ('cinder', 'x', 117)",
        "ALTER TABLE volumes DROP COLUMN use_quota",  # Queens has no volumes.use_quota
    )
    snap, status = read(url)
    assert status.status == "partial" and snap.of(CinderVolume) == []
    assert status.reason.endswith(" (its schema: Queens)") and "use_quota" in status.reason
    assert "\n" not in status.reason
