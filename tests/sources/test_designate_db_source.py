"""DesignateDatabaseSource on SQLite files built from Designate's real DDL (both releases):
A/AAAA/PTR records of live zones, ids dashed, names absolute and lower-case."""

import datetime as dt
import uuid

import pytest

from osfsck.config.dns import DesignateSettings
from osfsck.config.settings import Database
from osfsck.model.facts.dns import DESIGNATE_SCOPE, DesignateRecord
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured
from osfsck.sources.designate_db import DesignateDatabaseSource, queries
from osfsck_lab import database, schemas
from tests.sources.db_fixture import assert_gives_its_fields, fixture, load

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
INSTANCE = "6f1c2a8e-0000-4000-8000-000000000001"


def hexid(n: int) -> str:
    return uuid.UUID(int=n).hex


@pytest.mark.parametrize("kind, query", queries.KINDS.items())
def test_the_query_returns_the_facts_fields_in_order(kind, query):
    assert_gives_its_fields(kind, query())


def _designate(tmp_path, release):
    url = database.database_urls(tmp_path, None, "t", ["designate"])["designate"]
    database.create(url, "designate", release)
    zone = {
        "version": 1,
        "email": "admin@example.test",
        "ttl": 3600,
        "refresh": 3600,
        "retry": 600,
        "expire": 86400,
        "minimum": 300,
        "shard": 1,
        "status": "ACTIVE",
        "action": "NONE",
    }
    database.insert_rows(
        url,
        "zones",
        [
            {**zone, "id": hexid(1), "name": "Example.test.", "deleted": "0"},
            {**zone, "id": hexid(2), "name": "old.test.", "deleted": hexid(2), "deleted_at": T0},
        ],
    )
    rs = {"version": 1, "zone_shard": 1, "ttl": None}
    database.insert_rows(
        url,
        "recordsets",
        [
            {**rs, "id": hexid(11), "zone_id": hexid(1), "name": "VM-1.example.test.", "type": "A", "ttl": 60},
            {**rs, "id": hexid(12), "zone_id": hexid(1), "name": "example.test.", "type": "SOA"},
            {**rs, "id": hexid(13), "zone_id": hexid(2), "name": "vm-9.old.test.", "type": "A"},
        ],
    )
    rec = {"version": 1, "zone_shard": 1, "status": "ACTIVE", "action": "NONE", "created_at": T0}
    database.insert_rows(
        url,
        "records",
        [
            {
                **rec,
                "id": hexid(21),
                "zone_id": hexid(1),
                "recordset_id": hexid(11),
                "data": "10.0.0.2",
                "hash": "h1",
                "managed": True,
                "managed_resource_type": "instance",
                "managed_resource_id": uuid.UUID(INSTANCE).hex,
                "managed_plugin_name": "nova_fixed",
                "managed_plugin_type": "handler",
            },
            {
                **rec,
                "id": hexid(22),
                "zone_id": hexid(1),
                "recordset_id": hexid(12),
                "hash": "h2",
                "data": "ns1.example.test. admin.example.test. 1 3600 600 86400 300",
            },
            {**rec, "id": hexid(23), "zone_id": hexid(2), "recordset_id": hexid(13), "data": "10.0.0.9", "hash": "h3"},
        ],
    )
    return url


@pytest.mark.parametrize("release", schemas.releases())
def test_records_of_live_zones_with_what_they_were_made_for(tmp_path, release):
    url = _designate(tmp_path, release)
    src = DesignateDatabaseSource(DesignateSettings(database=Database(url)))
    snap = Snapshot(taken_at=T0)
    (status,) = src.collect(set(src.provides), snap, snap)
    assert status.status == "ok" and snap.is_complete(DesignateRecord, DESIGNATE_SCOPE)
    assert snap.of(DesignateRecord) == [
        DesignateRecord(
            DESIGNATE_SCOPE,
            str(uuid.UUID(hexid(21))),
            str(uuid.UUID(hexid(11))),
            str(uuid.UUID(hexid(1))),
            "example.test.",
            "vm-1.example.test.",
            "A",
            60,
            "10.0.0.2",
            "instance",
            INSTANCE,
            "nova_fixed",
            None,
            "ACTIVE",
            "NONE",
            T0,
            None,
        )
    ]


def test_a_database_that_cannot_be_read_is_partial_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    src = DesignateDatabaseSource(DesignateSettings(database=Database(url)))
    snap = Snapshot(taken_at=T0)
    (status,) = src.collect(set(src.provides), snap, snap)
    assert status.status == "partial" and status.reason.startswith("Designate database") and "\n" not in status.reason
    assert snap.of(DesignateRecord) == []


def test_no_designate_section_skips_its_checks():
    with pytest.raises(NotConfigured, match=r"\[designate\] database"):
        DesignateDatabaseSource(DesignateSettings())


@pytest.mark.parametrize("release", schemas.releases())
def test_records_as_designate_sink_and_the_ptr_api_write_them(tmp_path, release):
    """The recorded rows (fixtures/designate/sink-and-floatingip-ptr.json): nova_fixed's A
    record, neutron_floatingip's, and the floating IP PTR with its address in managed_extra."""
    url = database.database_urls(tmp_path, None, "t", ["designate"])["designate"]
    database.create(url, "designate", release)
    load(url, fixture("designate/sink-and-floatingip-ptr.json")["tables"])
    src = DesignateDatabaseSource(DesignateSettings(database=Database(url)))
    snap = Snapshot(taken_at=T0)
    (status,) = src.collect(set(src.provides), snap, snap)
    assert status.status == "ok"
    got = {
        (r.name, r.type, r.data, r.managed_resource_type, r.managed_resource_id, r.managed_plugin_name, r.managed_extra)
        for r in snap.of(DesignateRecord)
    }
    assert got == {
        (
            "vm-1.example.test.",
            "A",
            "10.2.0.17",
            "instance",
            "6f1c2a8e-0000-4000-8000-00000000000a",
            "nova_fixed",
            None,
        ),
        (
            "vm-1-fip.example.test.",
            "A",
            "198.18.0.44",
            "floatingip",
            "7e2d3b9f-0000-4000-8000-00000000000b",
            "neutron_floatingip",
            None,
        ),
        (
            "44.0.18.198.in-addr.arpa.",
            "PTR",
            "vm-1-fip.example.test.",
            "ptr:floatingip",
            "7e2d3b9f-0000-4000-8000-00000000000b",
            None,
            "198.18.0.44",
        ),
    }
