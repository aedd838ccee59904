"""The lab's databases on PostgreSQL: copies of one template database per release and
schema, and rows written with their ids as the services would have them (the serial's
sequence past them), so that what osfsck or a service inserts next gets a new id."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from osfsck_lab import database, schemas
from tests.support.pg import PG_RELEASE

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)


def scalar(url: str, sql: str):
    engine = database.engine(url)
    with engine.begin() as conn:
        value = conn.execute(text(sql)).scalar()
    engine.dispose()
    return value


def nova_with_an_instance(pg_db) -> str:
    url = pg_db("nova")
    database.insert_rows(url, "instances", [{"uuid": "u", "deleted": 0, "created_at": T0}])
    return url


def test_an_insert_without_an_id_after_the_lab_wrote_ids(pg_db):
    """The lab writes instance actions with ids 1-3 (lab/rpc.py); Nova, or osfsck's
    reset-state repair, then inserts one without an id: it gets 4, not a duplicate 1."""
    url = nova_with_an_instance(pg_db)
    action = {"action": "reboot", "instance_uuid": "u", "request_id": "req", "start_time": T0, "deleted": 0}
    database.insert_rows(url, "instance_actions", [{**action, "id": i} for i in (1, 2, 3)])
    new = scalar(url, "INSERT INTO instance_actions (action, instance_uuid, deleted) VALUES ('x', 'u', 0) RETURNING id")
    assert new == 4


def test_a_table_written_without_ids_keeps_its_sequence(pg_db):
    url = nova_with_an_instance(pg_db)
    database.insert_rows(url, "instance_actions", [{"action": "reboot", "instance_uuid": "u", "deleted": 0}])
    new = scalar(url, "INSERT INTO instance_actions (action, instance_uuid, deleted) VALUES ('x', 'u', 0) RETURNING id")
    assert new == 2


def test_each_database_is_a_copy_of_its_template(pg_db, postgres_server):
    first, second = pg_db("cinder", name="one"), pg_db("cinder", name="two")
    server = postgres_server.url + "postgres"
    # the server is the session's: other tests leave templates of other releases
    release = PG_RELEASE.replace(".", "\\_")
    templates = scalar(
        server, f"SELECT count(*) FROM pg_database WHERE datname LIKE 'osfsck\\_template\\_{release}\\_cinder\\_%'"
    )
    assert templates == 1
    heads = schemas.versions()[PG_RELEASE]["alembic_heads"]["cinder"]
    for url in (first, second):
        assert [scalar(url, "SELECT version_num FROM alembic_version")] == heads
    # a copy is a database of its own
    database.insert_rows(first, "volume_types", [{"id": "vt", "name": "lvm", "deleted": 0}])
    assert (
        scalar(first, "SELECT count(*) FROM volume_types"),
        scalar(second, "SELECT count(*) FROM volume_types"),
    ) == (
        1,
        0,
    )
