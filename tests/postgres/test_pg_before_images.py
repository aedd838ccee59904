"""A repair's before-image (what the journal keeps and undo writes back) is the same
whether the row was read from SQLite or from PostgreSQL: booleans as 0/1, timestamps as
text, types included, so a journal reads the same on every backend."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from osfsck.repairs.conditional_update import as_seen, read_row, read_rows
from osfsck_lab import database
from tests.support.pg import PG_RELEASE

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
VOLUME = {
    "id": "v1",
    "status": "available",
    "attach_status": "detached",
    "deleted": 0,
    "size": 1,
    "multiattach": 0,
    "use_quota": 1,
    "bootable": 1,
    "volume_type_id": "vt",
    "created_at": T0,
    "updated_at": T0,
}
COLUMNS = ("deleted", "multiattach", "use_quota", "bootable", "updated_at", "status")


def images(url: str) -> str:
    database.insert_rows(url, "volume_types", [{"id": "vt", "name": "lvm", "deleted": 0, "is_public": 1}])
    database.insert_rows(url, "volumes", [VOLUME])
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        row = read_row(conn, "volumes", {"id": "v1"}, COLUMNS)
        whole = read_rows(conn, "volume_types", {"id": "vt"})
        seen = as_seen(
            conn,
            {
                "table": "volumes",
                "key": {"id": "v1"},
                "expect": {"deleted": 0, "updated_at": T0.isoformat()},
                "values": {"deleted": 1},
            },
        )
    engine.dispose()
    return json.dumps([row, whole, seen], sort_keys=True)


def test_a_before_image_is_the_same_on_both(pg_db, tmp_path):
    on_sqlite = f"sqlite:///{tmp_path / 'cinder.sqlite'}"
    database.create(on_sqlite, "cinder", PG_RELEASE)
    got = images(pg_db("cinder"))
    assert got == images(on_sqlite)
    assert '"deleted": 0' in got and '"updated_at": "2026-03-01 12:00:00"' in got
