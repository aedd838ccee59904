"""CinderDatabaseSource on SQLite files built from Cinder's real DDL (both releases)."""

import datetime as dt

import pytest

from osfsck.config.settings import CinderSettings, Database
from osfsck.model.facts.cinder import CINDER_SCOPE, CinderAttachment, CinderService, CinderVolume
from osfsck.model.snapshot import Snapshot
from osfsck.sources.cinder_db import CinderDatabaseSource, queries
from osfsck_lab import database, schemas
from tests.sources.db_fixture import assert_gives_its_fields

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
V1, V2, GONE = (
    "11111111-aaaa-4000-8000-000000000001",
    "11111111-aaaa-4000-8000-000000000002",
    "11111111-aaaa-4000-8000-000000000003",
)
INST = "22222222-bbbb-4000-8000-000000000001"


@pytest.mark.parametrize("kind, query", queries.KINDS.items())
def test_each_query_returns_the_facts_fields_in_order(kind, query):
    assert_gives_its_fields(kind, query())


def _cinder(tmp_path, release):
    url = database.database_urls(tmp_path, None, "t", ["cinder"])["cinder"]
    database.create(url, "cinder", release)
    database.insert_rows(
        url, "volume_types", [{"id": "vt-1", "name": "lvm", "deleted": False, "is_public": True, "created_at": T0}]
    )
    vol = {
        "created_at": T0,
        "updated_at": T0,
        "deleted": False,
        "size": 1,
        "project_id": "p",
        "host": "cv1@lvm#lvm",
        "multiattach": False,
        "use_quota": True,
        "volume_type_id": "vt-1",
    }
    database.insert_rows(
        url,
        "volumes",
        [
            {**vol, "id": V1, "status": "in-use", "attach_status": "attached"},
            {**vol, "id": V2, "status": "available", "attach_status": "detached", "migration_status": "migrating"},
            {**vol, "id": GONE, "status": "deleted", "attach_status": "detached", "deleted": True, "deleted_at": T0},
        ],
    )
    database.insert_rows(
        url,
        "volume_attachment",
        [
            {
                "id": "a1",
                "volume_id": V1,
                "instance_uuid": INST,
                "attached_host": "hv1",
                "attach_status": "attached",
                # as Cinder stores it: the driver's data flattened (VolumeManager._connection_create)
                "connection_info": '{"target_iqn": "iqn.x", "auth_method": "CHAP", "auth_password": "chap-s3cret", '
                '"driver_volume_type": "iscsi", "attachment_id": "a1"}',
                "deleted": False,
                "created_at": T0,
                "updated_at": T0,
            },
            {
                "id": "a0",
                "volume_id": V1,
                "instance_uuid": INST,
                "attached_host": "hv9",
                "attach_status": "detached",
                "deleted": True,
                "created_at": T0,
                "updated_at": T0,
            },
        ],
    )
    database.insert_rows(
        url,
        "services",
        [
            {
                "host": "cv1@lvm",
                "binary": "cinder-volume",
                "topic": "cinder-volume",
                "report_count": 1,
                "disabled": False,
                "deleted": False,
                "created_at": T0,
                "updated_at": T0,
            },
            {
                "host": "old@lvm",
                "binary": "cinder-volume",
                "topic": "cinder-volume",
                "report_count": 1,
                "disabled": True,
                "deleted": True,
                "created_at": T0,
                "updated_at": T0,
            },
        ],
    )
    return url


def _collect(url):
    src = CinderDatabaseSource(CinderSettings(database=Database(url)))
    snap = Snapshot(taken_at=T0)
    return snap, src.collect(set(src.provides), snap, snap)


@pytest.mark.parametrize("release", schemas.releases())
def test_rows_become_facts_deleted_ones_marked(tmp_path, release):
    snap, [status] = _collect(_cinder(tmp_path, release))
    assert (status.source, status.scope, status.status) == ("cinder-db", CINDER_SCOPE, "ok")
    vols = {v.id: v for v in snap.of(CinderVolume)}
    assert set(vols) == {V1, V2, GONE}
    v1 = vols[V1]
    assert (v1.status, v1.attach_status, v1.host, v1.size, v1.deleted) == ("in-use", "attached", "cv1@lvm#lvm", 1, 0)
    assert not v1.multiattach and v1.use_quota and v1.updated_at == T0  # SQLite text parsed
    assert vols[V2].migration_status == "migrating" and vols[GONE].deleted
    atts = {a.id: a for a in snap.of(CinderAttachment)}
    assert (atts["a1"].volume_id, atts["a1"].instance_uuid, atts["a1"].attached_host) == (V1, INST, "hv1")
    assert not atts["a1"].deleted and atts["a0"].deleted
    # its paths are kept, not the text, nor its CHAP secret
    assert atts["a1"].iscsi_paths and "chap-s3cret" not in repr(atts["a1"])
    assert "connection_info" not in CinderAttachment._fields
    [svc] = snap.of(CinderService)  # live services only
    assert (svc.host, svc.binary, svc.disabled) == ("cv1@lvm", "cinder-volume", 0)


def test_an_unreadable_database_is_partial_and_adds_nothing(tmp_path):
    snap, [status] = _collect(f"sqlite:///{tmp_path}/absent.sqlite")
    assert status.status == "partial" and status.reason.startswith("Cinder database: ")
    assert "no such SQLite database file" in status.reason
    assert snap.of(CinderVolume) == [] and not snap.is_complete(CinderVolume, CINDER_SCOPE)


def test_other_scopes_are_not_read(tmp_path):
    src = CinderDatabaseSource(CinderSettings(database=Database(_cinder(tmp_path, schemas.releases()[0]))))
    snap = Snapshot(taken_at=T0)
    assert src.collect(set(src.provides), snap, snap, scopes={"host:hv1"}) == []
    assert snap.of(CinderVolume) == []


def test_credentials_in_connection_info_never_reach_a_fact():
    from osfsck.model.secrets import redact_connection_info

    text = (
        '{"driver_volume_type": "iscsi", "data": {"target_iqn": "iqn.x", "auth_method": "CHAP", '
        '"auth_username": "u", "auth_password": "s3cr\\"et", "discovery_auth_password": "d1sc", '
        '"secret_uuid": "abc"}}'
    )
    out = redact_connection_info(text)
    assert "s3cr" not in out and "d1sc" not in out and out.count('"***"') == 2
    assert '"auth_username": "u"' in out and '"secret_uuid": "abc"' in out and '"target_iqn": "iqn.x"' in out
    assert redact_connection_info(None) is None and redact_connection_info('{"data": {}}') == '{"data": {}}'
