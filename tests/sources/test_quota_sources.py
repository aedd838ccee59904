"""The quota facts as the sources read them from the real schemas (both releases): Cinder's
counts per project and volume type exactly as Cinder's quota sync counts (live rows with
use_quota; a snapshot's type is its volume's; MySQL's SUM as an int), Neutron's per
tracked resource, Nova's leftover usage rows in the API and cell databases, and an
unreadable database partial."""

import datetime as dt

import pytest

from osfsck.config.settings import CinderSettings, Database, NeutronSettings, NovaSettings
from osfsck.model.facts.cinder import CinderVolumeType
from osfsck.model.facts.quota import (
    CinderCounted,
    CinderQuotaUsage,
    CinderReservation,
    NeutronCounted,
    NeutronQuotaDriver,
    NeutronQuotaUsage,
    NeutronReservation,
    NovaQuotaUsage,
)
from osfsck.model.snapshot import Snapshot
from osfsck.rules.cinder_quota import cinder_expected
from osfsck.sources.cinder_db import CinderDatabaseSource
from osfsck.sources.neutron_db import NeutronDatabaseSource
from osfsck.sources.nova_db import NovaDatabaseSource
from osfsck_lab import database, schemas
from tests.sources.db_fixture import fixture, load

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
LVM, SSD = "1d1d1d1d-0000-4000-8000-000000000001", "1d1d1d1d-0000-4000-8000-000000000002"


def _collect(src):
    snap = Snapshot(taken_at=T0)
    return snap, src.collect(set(src.provides), snap, snap)


def _vol(id_, size, type_id=LVM, project="p1", **kw):
    return {
        "id": id_,
        "size": size,
        "volume_type_id": type_id,
        "project_id": project,
        "status": "available",
        "deleted": 0,
        "use_quota": 1,
        "created_at": T0,
        "updated_at": T0 - dt.timedelta(days=1),
        **kw,
    }


@pytest.mark.parametrize("release", schemas.releases())
def test_cinder_counts_as_cinder_syncs(tmp_path, release):
    url = database.database_urls(tmp_path, None, "t", ["cinder"])["cinder"]
    database.create(url, "cinder", release)
    database.insert_rows(
        url,
        "volume_types",
        [
            {"id": LVM, "name": "lvm", "deleted": 0, "created_at": T0},
            {"id": SSD, "name": "ssd", "deleted": 0, "created_at": T0},
            {"id": "gone-type", "name": "retired", "deleted": 1, "created_at": T0},
        ],
    )
    database.insert_rows(
        url,
        "volumes",
        [
            _vol("v1", 10),
            _vol("v2", 5),
            _vol("v3", 20, SSD),
            _vol("v4", 7, deleted=1, deleted_at=T0 - dt.timedelta(minutes=3)),  # deleted: not counted
            _vol("v5", 9, use_quota=0),  # a migration's target
            _vol("v6", 1, project="p2"),
        ],
    )
    snap_row = {
        "project_id": "p1",
        "use_quota": 1,
        "deleted": 0,
        "status": "available",
        "created_at": T0,
        "volume_type_id": LVM,
    }
    database.insert_rows(
        url,
        "snapshots",
        [
            {**snap_row, "id": "s1", "volume_id": "v3", "volume_size": 20},  # of the ssd volume
            {**snap_row, "id": "s2", "volume_id": "v1", "volume_size": 10, "deleted": 1},
        ],
    )
    database.insert_rows(
        url,
        "backups",
        [
            {"id": "b1", "volume_id": "v1", "project_id": "p1", "size": 10, "deleted": 0, "created_at": T0},
            {"id": "b2", "volume_id": "v1", "project_id": "p1", "size": 10, "deleted": 1, "created_at": T0},
        ],
    )
    database.insert_rows(
        url,
        "quota_usages",
        [
            {
                "id": 1,
                "project_id": "p1",
                "resource": "volumes",
                "in_use": 3,
                "reserved": 0,
                "deleted": 0,
                "race_preventer": 1,
                "created_at": T0,
                "updated_at": T0,
            },
            {
                "id": 2,
                "project_id": "p1",
                "resource": "volumes",
                "in_use": 9,
                "reserved": 0,
                "deleted": 1,
                "created_at": T0,
                "updated_at": T0,
            },
        ],
    )
    database.insert_rows(
        url,
        "reservations",
        [
            {
                "id": 1,
                "uuid": "r1",
                "usage_id": 1,
                "project_id": "p1",
                "resource": "volumes",
                "delta": 1,
                "expire": T0,
                "deleted": 0,
                "created_at": T0,
            },
            {
                "id": 2,
                "uuid": "r2",
                "usage_id": 1,
                "project_id": "p1",
                "resource": "volumes",
                "delta": 1,
                "expire": T0,
                "deleted": 1,
                "created_at": T0,
            },
        ],
    )
    snap, [status] = _collect(CinderDatabaseSource(CinderSettings(database=Database(url))))
    assert status.status == "ok"
    types = {t.name: t.id for t in snap.of(CinderVolumeType)}
    assert types == {"lvm": LVM, "ssd": SSD}
    p1 = [c for c in snap.of(CinderCounted) if c.project_id == "p1"]
    assert all(type(c.count) is int and type(c.gigabytes) is int for c in p1)
    expect = {
        "volumes": 3,
        "gigabytes": 55,
        "volumes_lvm": 2,
        "gigabytes_lvm": 15,
        "volumes_ssd": 1,
        "gigabytes_ssd": 40,
        "snapshots": 1,
        "snapshots_ssd": 1,
        "snapshots_lvm": 0,
        "backups": 1,
        "backup_gigabytes": 10,
        "groups": 0,
        "volumes_retired": None,
        "per_volume_gigabytes": None,
    }
    assert {r: cinder_expected(p1, r, types) for r in expect} == expect
    assert cinder_expected(p1, "gigabytes", types, no_snapshot_gb_quota=True) == 35
    vols = next(c for c in p1 if c.table == "volumes" and c.volume_type_id == LVM)
    assert vols.last_deleted == T0 - dt.timedelta(minutes=3) and vols.last_updated == T0 - dt.timedelta(days=1)
    [u] = snap.of(CinderQuotaUsage)  # live rows only
    assert (u.id, u.in_use, u.updated_at) == (1, 3, T0)
    assert [r.uuid for r in snap.of(CinderReservation)] == ["r1"]


@pytest.mark.parametrize("release", schemas.releases())
def test_neutron_counts_every_tracked_resource(tmp_path, release):
    url = database.database_urls(tmp_path, None, "t", ["neutron"])["neutron"]
    database.create(url, "neutron", release)
    database.insert_rows(
        url,
        "standardattributes",
        [{"id": i, "resource_type": "x", "revision_number": 1, "created_at": T0} for i in range(1, 6)],
    )
    database.insert_rows(
        url,
        "networks",
        [
            {
                "id": f"n{i}",
                "project_id": p,
                "mtu": 1450,
                "standard_attr_id": i,
                "status": "ACTIVE",
                "admin_state_up": True,
            }
            for i, p in ((1, "p1"), (2, "p1"), (3, "p2"))
        ],
    )
    database.insert_rows(
        url,
        "securitygroups",
        [{"id": "sg1", "name": "default", "project_id": "p1", "standard_attr_id": 4, "stateful": True}],
    )
    database.insert_rows(
        url, "quotausages", [{"project_id": "p1", "resource": "network", "in_use": 2, "reserved": 0, "dirty": True}]
    )
    database.insert_rows(url, "reservations", [{"id": "r1", "project_id": "p1", "expiration": T0}])
    snap, [status] = _collect(NeutronDatabaseSource(NeutronSettings(database=Database(url))))
    assert status.status == "ok"
    counts = {(c.project_id, c.resource): c.count for c in snap.of(NeutronCounted)}
    assert counts == {("p1", "network"): 2, ("p2", "network"): 1, ("p1", "security_group"): 1}
    assert snap.of(NeutronQuotaUsage)[0][1:] == ("p1", "network", 2, 0, 1)
    assert [(r.id, r.expiration) for r in snap.of(NeutronReservation)] == [("r1", T0)]


@pytest.mark.parametrize("release", schemas.releases())
def test_nova_leftover_rows_from_the_api_and_each_cell(tmp_path, release):
    urls = database.database_urls(tmp_path, None, "t", ["nova_api", "nova_cell1"])
    database.create(urls["nova_api"], "nova_api", release)
    database.create(urls["nova_cell1"], "nova", release)
    database.insert_rows(
        urls["nova_api"],
        "cell_mappings",
        [
            {
                "id": 1,
                "uuid": "c1c1c1c1-0000-4000-8000-000000000001",
                "name": "cell1",
                "transport_url": "none:///",
                "database_connection": urls["nova_cell1"],
                "disabled": False,
                "created_at": T0,
            }
        ],
    )
    database.insert_rows(
        urls["nova_api"],
        "quota_usages",
        [{"id": 1, "project_id": "p", "user_id": "u", "resource": "instances", "in_use": 2, "reserved": 0}],
    )
    database.insert_rows(
        urls["nova_cell1"],
        "quota_usages",
        [
            {
                "id": 1,
                "project_id": "p",
                "user_id": "u",
                "resource": "cores",
                "in_use": 4,
                "reserved": 0,
                "deleted": 0,
                "updated_at": T0,
            },
            {"id": 2, "project_id": "p", "user_id": "u", "resource": "ram", "in_use": 64, "reserved": 0, "deleted": 2},
        ],
    )
    src = NovaDatabaseSource(NovaSettings(api_database=Database(urls["nova_api"])))
    snap = Snapshot(taken_at=T0)
    statuses = src.collect({NovaQuotaUsage}, snap, snap)
    assert {(s.scope, s.status) for s in statuses} == {("api", "ok"), ("cell:cell1", "ok")}
    got = sorted((u.scope, u.resource, u.in_use) for u in snap.of(NovaQuotaUsage))
    assert got == [("api", "instances", 2), ("cell:cell1", "cores", 4)]
    assert snap.is_complete(NovaQuotaUsage, "api") and snap.is_complete(NovaQuotaUsage, "cell:cell1")


def test_unreadable_databases_are_partial(tmp_path):
    for src, kind in (
        (CinderDatabaseSource(CinderSettings(database=Database(f"sqlite:///{tmp_path}/no.sqlite"))), CinderCounted),
        (NeutronDatabaseSource(NeutronSettings(database=Database(f"sqlite:///{tmp_path}/no.sqlite"))), NeutronCounted),
    ):
        snap, [status] = _collect(src)
        assert status.status == "partial" and snap.of(kind) == [] and not snap.is_complete(kind, status.scope)


@pytest.mark.parametrize("release", schemas.releases())
@pytest.mark.parametrize("phase, reserved, live", [("reserved", 10, 4), ("committed", 0, 0), ("expired", 0, 0)])
def test_cinder_quota_rows_around_a_volume_create(tmp_path, release, phase, reserved, live):
    """The recorded rows of a volume create (fixtures/cinder/quota-reservations.json): reserved
    while the reservations are live; committed or expired ones are soft-deleted, not read."""
    url = database.database_urls(tmp_path, None, "t", ["cinder"])["cinder"]
    database.create(url, "cinder", release)
    load(url, fixture("cinder/quota-reservations.json")["phases"][phase])
    snap, statuses = _collect(CinderDatabaseSource(CinderSettings(database=Database(url))))
    assert all(s.status == "ok" for s in statuses)
    usages = {u.resource: u for u in snap.of(CinderQuotaUsage)}
    assert usages["gigabytes"].reserved == reserved and len(usages) == 4
    assert len(snap.of(CinderReservation)) == live
    assert all(r.delta > 0 and r.usage_id for r in snap.of(CinderReservation))


@pytest.mark.parametrize("release", schemas.releases())
def test_neutron_quota_rows_of_the_legacy_driver(tmp_path, release):
    """The recorded rows of Neutron's legacy DbQuotaDriver (fixtures/neutron/quota-legacy-driver.json):
    a dirty row as stored, reserved 0, a reservation of a request in flight."""
    url = database.database_urls(tmp_path, None, "t", ["neutron"])["neutron"]
    database.create(url, "neutron", release)
    load(url, fixture("neutron/quota-legacy-driver.json")["tables"])
    snap, statuses = _collect(NeutronDatabaseSource(NeutronSettings(database=Database(url))))
    assert all(s.status == "ok" for s in statuses)
    rows = {(u.project_id, u.resource): u for u in snap.of(NeutronQuotaUsage)}
    assert rows[("p2", "port")].dirty and not rows[("p1", "port")].dirty
    assert all(u.reserved == 0 for u in rows.values())
    [r] = snap.of(NeutronReservation)
    assert r.project_id == "p2" and r.expiration == dt.datetime(2026, 3, 1, 12, 1, 58)


def test_the_configured_quota_driver_is_said_beside_the_rows(tmp_path):
    """A configured [quotas] quota_driver becomes one fact; none configured, none (QU101 then
    takes the default of the schema's release, rules/neutron_quota.py)."""
    url = database.database_urls(tmp_path, None, "t", ["neutron"])["neutron"]
    database.create(url, "neutron", schemas.releases()[-1])
    driver = "neutron.db.quota.driver.DbQuotaDriver"
    snap, _ = _collect(NeutronDatabaseSource(NeutronSettings(database=Database(url), quota_driver=driver)))
    assert snap.of(NeutronQuotaDriver) == [NeutronQuotaDriver("neutron", driver)]
    snap, _ = _collect(NeutronDatabaseSource(NeutronSettings(database=Database(url))))
    assert snap.of(NeutronQuotaDriver) == []
