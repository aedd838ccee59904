"""The schema version as an operator meets it: `osfsck check` on a Cinder database of the
newest stored release names its release; the same database at a revision osfsck does not
know gives one line on stderr, its check inconclusive and exit 8 (never a finding, never a
traceback); a saved snapshot says it again, and two that disagree are said."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from osfsck.model.schema_versions import RELEASES, SchemaRead, alembic_heads, place
from osfsck.model.snapshot import Snapshot
from osfsck_lab import database, schemas
from tests.support.cli import osfsck

NEWEST = schemas.releases()[0]
T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
UNKNOWN = "ffffffffffff"


def cinder_with_duplicate_usage(tmp_path):
    """A Cinder database (the real DDL) with two live rows for one project's volumes: QU103."""
    url = database.database_urls(tmp_path, None, "t", ["cinder"])["cinder"]
    database.create(url, "cinder", NEWEST)
    usage = {"project_id": "p1", "resource": "volumes", "in_use": 0, "reserved": 0, "deleted": 0}
    database.insert_rows(
        url,
        "quota_usages",
        [
            {**usage, "id": 1, "created_at": T0, "updated_at": T0},
            {**usage, "id": 2, "created_at": T0, "updated_at": T0},
        ],
    )
    config = tmp_path / "osfsck.toml"
    config.write_text(f'[cinder]\ndatabase = "{url}"\n[repair]\njournal = "{tmp_path / "journal"}"\n')
    return url, config


def set_revision(url: str, revision: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    engine.dispose()


def test_a_known_schema_is_read_and_its_release_named(tmp_path):
    _, config = cinder_with_duplicate_usage(tmp_path)
    p = osfsck("check", "--select", "QU103", "-v", config=config)
    assert p.returncode == 4, p.stderr
    assert "QU103 duplicate-quota-usage" in p.stdout
    release = place_of(alembic_heads("cinder", NEWEST)).text
    assert f"Release: {release} (from the schema versions of 1 database(s))" in p.stdout
    assert f"  cinder (cinder): alembic_version {alembic_heads('cinder', NEWEST)[0]} = {release}" in p.stdout
    doc = json.loads(osfsck("check", "--select", "QU103", "-f", "json", config=config).stdout)
    assert doc["schemas"]["release"] == release and NEWEST in doc["schemas"]["releases"]
    assert [(d["scope"], d["state"]) for d in doc["schemas"]["databases"]] == [("cinder", "release")]
    metrics = osfsck("check", "--select", "QU103", "-f", "prometheus", config=config).stdout
    assert f'osfsck_release_info{{release="{release}"}} 1.0' in metrics
    assert 'osfsck_schema_known{database="cinder",scope="cinder"} 1.0' in metrics


def place_of(values):
    return place(SchemaRead("cinder", "cinder", "alembic_version", tuple(values)))


def test_an_unknown_schema_is_one_line_and_its_check_inconclusive(tmp_path):
    url, config = cinder_with_duplicate_usage(tmp_path)
    set_revision(url, UNKNOWN)
    p = osfsck("check", "--select", "QU103", config=config)
    assert p.returncode == 8, p.stderr
    assert "Traceback" not in p.stderr and "QU103 duplicate-quota-usage" not in p.stdout
    line = f"alembic revision {UNKNOWN} is not one osfsck knows (newer than {RELEASES[-1]}?), so it is not read"
    assert [x for x in p.stderr.splitlines() if line in x], p.stderr
    assert "QU103 could not decide cinder" in p.stdout and "Release: unknown" in p.stdout
    doc = json.loads(osfsck("check", "--select", "QU103", "-f", "json", config=config).stdout)
    assert doc["findings"] == [] and doc["exit_code"] == 8
    assert doc["schemas"]["databases"][0]["state"] == "unknown" and doc["schemas"]["databases"][0]["values"] == [
        UNKNOWN
    ]
    assert doc["schemas"]["notes"] == [
        f"Cinder database: alembic revision {UNKNOWN} is not one osfsck knows (newer than {RELEASES[-1]}?)"
    ]


def test_saved_snapshots_carry_the_version_and_say_when_they_disagree(tmp_path):
    url, config = cinder_with_duplicate_usage(tmp_path)
    first, second, old = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "old.json"
    assert osfsck("collect", "--select", "QU103", "-o", str(first), config=config).returncode == 0
    set_revision(url, alembic_heads("cinder", "2023.2")[0])  # a known older head: read as usual
    assert osfsck("collect", "--select", "QU103", "-o", str(second), config=config).returncode == 0
    p = osfsck("check", "--from", str(first), "--select", "QU103", config=config)
    assert p.returncode == 4 and "Release: " in p.stdout, p.stderr
    p = osfsck("check", "--from", str(first), "--from", str(second), "--select", "QU103", config=config)
    assert p.returncode == 4, p.stderr
    said = "the snapshots disagree on the Cinder database (cinder)"
    assert said in p.stdout and said in p.stderr
    # a snapshot written before osfsck read versions: no release, nothing else changes
    data = json.loads(first.read_text())
    del data["schemas"]
    old.write_text(json.dumps(data))
    assert Snapshot.read(str(old)).schemas == {}
    p = osfsck("check", "--from", str(old), "--select", "QU103", config=config)
    assert p.returncode == 4 and "Release:" not in p.stdout, p.stderr
