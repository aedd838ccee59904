"""PlacementDatabaseSource on SQLite files built from Placement's real DDL (both releases):
names resolved by the JOINs, standard classes named even without their rows."""

import datetime as dt

import pytest

from osfsck.config.placement import PlacementSettings
from osfsck.config.settings import Database
from osfsck.model.facts.placement import PLACEMENT_SCOPE, Allocation, Consumer, Inventory, ResourceProvider
from osfsck.model.snapshot import Snapshot
from osfsck.sources.placement_db import PlacementDatabaseSource, queries
from osfsck_lab import database, schemas
from tests.sources.db_fixture import assert_gives_its_fields, fixture, load

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
RP1, RP2 = "11111111-aaaa-4000-8000-000000000001", "11111111-aaaa-4000-8000-000000000002"
C1, C2 = "22222222-bbbb-4000-8000-000000000001", "22222222-bbbb-4000-8000-000000000002"


@pytest.mark.parametrize("kind, query", queries.KINDS.items())
def test_each_query_returns_the_facts_fields_in_order(kind, query):
    assert_gives_its_fields(kind, query())


def _placement(tmp_path, release, *, class_rows=True):
    url = database.database_urls(tmp_path, None, "t", ["placement"])["placement"]
    database.create(url, "placement", release)
    if class_rows:  # what Placement inserts at start-up; a database only `db sync`ed has none
        database.insert_rows(
            url,
            "resource_classes",
            [
                {"id": 0, "name": "VCPU", "created_at": T0},
                {"id": 1, "name": "MEMORY_MB", "created_at": T0},
                {"id": 2, "name": "DISK_GB", "created_at": T0},
            ],
        )
    database.insert_rows(url, "resource_classes", [{"id": 10000, "name": "CUSTOM_GOLD", "created_at": T0}])
    database.insert_rows(url, "consumer_types", [{"id": 1, "name": "INSTANCE", "created_at": T0}])
    database.insert_rows(
        url,
        "resource_providers",
        [
            {
                "id": 1,
                "uuid": RP1,
                "name": "hv1",
                "generation": 4,
                "root_provider_id": 1,
                "created_at": T0,
                "updated_at": T0,
            },
            {
                "id": 2,
                "uuid": RP2,
                "name": "hv1_pci",
                "generation": 1,
                "root_provider_id": 1,
                "parent_provider_id": 1,
                "created_at": T0,
            },
        ],
    )
    database.insert_rows(
        url,
        "inventories",
        [
            {
                "resource_provider_id": 1,
                "resource_class_id": 0,
                "total": 8,
                "reserved": 0,
                "min_unit": 1,
                "max_unit": 8,
                "step_size": 1,
                "allocation_ratio": 16.0,
                "created_at": T0,
            },
            {
                "resource_provider_id": 2,
                "resource_class_id": 10000,
                "total": 1,
                "reserved": 0,
                "min_unit": 1,
                "max_unit": 1,
                "step_size": 1,
                "allocation_ratio": 1.0,
                "created_at": T0,
            },
        ],
    )
    database.insert_rows(url, "projects", [{"id": 7, "external_id": "project-a", "created_at": T0}])
    database.insert_rows(url, "users", [{"id": 9, "external_id": "user-a", "created_at": T0}])
    database.insert_rows(
        url,
        "consumers",
        [
            {
                "uuid": C1,
                "project_id": 7,
                "user_id": 9,
                "generation": 3,
                "consumer_type_id": 1,
                "created_at": T0,
                "updated_at": T0,
            },
            {"uuid": C2, "project_id": 7, "user_id": 9, "generation": 1, "consumer_type_id": None, "created_at": T0},
        ],
    )
    database.insert_rows(
        url,
        "allocations",
        [
            {"resource_provider_id": 1, "consumer_id": C1, "resource_class_id": 0, "used": 2, "created_at": T0},
            {"resource_provider_id": 1, "consumer_id": C1, "resource_class_id": 1, "used": 2048, "created_at": T0},
            {"resource_provider_id": 2, "consumer_id": C2, "resource_class_id": 10000, "used": 1, "created_at": T0},
            {"resource_provider_id": 1, "consumer_id": C2, "resource_class_id": 14, "used": 1, "created_at": T0},
        ],
    )
    return url


def _collect(url):
    src = PlacementDatabaseSource(PlacementSettings(database=Database(url)))
    snap = Snapshot(taken_at=T0)
    return snap, src.collect(set(src.provides), snap, snap)


@pytest.mark.parametrize("release", schemas.releases())
def test_rows_become_facts_with_names_resolved(tmp_path, release):
    snap, [status] = _collect(_placement(tmp_path, release))
    assert (status.source, status.scope, status.status) == ("placement-db", PLACEMENT_SCOPE, "ok")
    rps = {p.uuid: p for p in snap.of(ResourceProvider)}
    assert (rps[RP1].name, rps[RP1].generation, rps[RP1].root_provider_uuid, rps[RP1].parent_provider_uuid) == (
        "hv1",
        4,
        RP1,
        None,
    )
    assert (rps[RP2].root_provider_uuid, rps[RP2].parent_provider_uuid, rps[RP1].updated_at) == (RP1, RP1, T0)
    assert sorted((i.provider_uuid, i.resource_class, i.total, i.allocation_ratio) for i in snap.of(Inventory)) == [
        (RP1, "VCPU", 8, 16.0),
        (RP2, "CUSTOM_GOLD", 1, 1.0),
    ]
    assert sorted(tuple(a)[1:] for a in snap.of(Allocation)) == sorted(
        [(C1, RP1, "VCPU", 2), (C1, RP1, "MEMORY_MB", 2048), (C2, RP2, "CUSTOM_GOLD", 1), (C2, RP1, "PCPU", 1)]
    )
    cons = {c.uuid: c for c in snap.of(Consumer)}
    assert tuple(cons[C1])[2:] == ("project-a", "user-a", 3, "INSTANCE", T0, T0)
    assert cons[C2].consumer_type is None and cons[C2].updated_at is None


def test_standard_classes_are_named_without_their_rows(tmp_path):
    # Placement inserts them at start-up; a database it never served has none, and an
    # allocation must not vanish from the JOIN for want of a name
    snap, [status] = _collect(_placement(tmp_path, schemas.releases()[0], class_rows=False))
    assert status.status == "ok"
    assert sorted(a.resource_class for a in snap.of(Allocation)) == ["CUSTOM_GOLD", "MEMORY_MB", "PCPU", "VCPU"]


def test_an_unreadable_database_is_partial_and_adds_nothing(tmp_path):
    snap, [status] = _collect(f"sqlite:///{tmp_path}/absent.sqlite")
    assert status.status == "partial" and status.reason.startswith("Placement database: ")
    assert snap.of(Allocation) == [] and not snap.is_complete(Allocation, PLACEMENT_SCOPE)


def test_not_configured_means_not_run():
    from osfsck.sources.base import NotConfigured

    with pytest.raises(NotConfigured, match=r"\[placement\] database"):
        PlacementDatabaseSource(PlacementSettings())


@pytest.mark.parametrize("release", schemas.releases())
@pytest.mark.parametrize("phase", ["before", "moving", "done"])
def test_a_live_migration_as_nova_writes_it(tmp_path, release, phase):
    """The recorded allocations of a move (fixtures/placement/live-migration.json): Nova's
    consumers have no type; while moving, the migration's uuid holds the source and the
    instance's the destination, each consumer made by that move's write (generation 1)."""
    fx = fixture("placement/live-migration.json")
    url = database.database_urls(tmp_path, None, "t", ["placement"])["placement"]
    database.create(url, "placement", release)
    load(url, fx["phases"][phase])
    snap, [status] = _collect(url)
    assert status.status == "ok"
    held = {}
    for a in snap.of(Allocation):
        held.setdefault(a.consumer_uuid, set()).add(a.provider_uuid)
    vm, mig = "1a1a1a1a-5555-4ccc-8ddd-000000000001", "3c3c3c3c-8888-4ddd-8eee-000000000001"
    hv_a, hv_b = "a0a0a0a0-7777-4aaa-8bbb-00000000000a", "b0b0b0b0-7777-4aaa-8bbb-00000000000b"
    assert held == {"before": {vm: {hv_a}}, "moving": {mig: {hv_a}, vm: {hv_b}}, "done": {vm: {hv_b}}}[phase]
    consumers = snap.of(Consumer)
    assert consumers and all(c.consumer_type is None and c.generation == 1 and c.project_id == "p1" for c in consumers)
    assert {(i.resource_class, i.reserved, i.allocation_ratio) for i in snap.of(Inventory)} == {
        ("VCPU", 0, 4.0),
        ("MEMORY_MB", 512, 1.0),
        ("DISK_GB", 0, 1.0),
    }
