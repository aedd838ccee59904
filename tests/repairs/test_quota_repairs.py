"""The quota repairs against Cinder's and Neutron's real schemas (both releases; SQLite, and
MariaDB in the integration run).  Findings come from the real QU checks over facts the real
database sources read; each repair applies, a fresh read and check finds nothing, a second
apply is refused, undo restores the before-image exactly, and a before-image gone stale
(the row, or what it counts, changed meanwhile) changes nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from osfsck.checks.quotas.duplicate_quota_usage import DuplicateQuotaUsage
from osfsck.checks.quotas.expired_reservation import ExpiredReservation
from osfsck.checks.quotas.quota_usage_drift import QuotaUsageDrift
from osfsck.config.settings import CinderSettings, Database, NeutronSettings, Settings
from osfsck.engine.context import RepairContext
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import RepairError
from osfsck.repairs.quotas.reservations import DeleteExpiredReservations
from osfsck.repairs.quotas.usage import RecomputeQuotaUsage
from osfsck.rules.neutron_quota import LEGACY_DRIVER
from osfsck.sources.cinder_db import CinderDatabaseSource
from osfsck.sources.neutron_db import NeutronDatabaseSource
from osfsck_lab import database, schemas
from tests.repairs.helpers import T0, VOLUME_TYPE, apply, execute, plan_of, rows, volume

OLD = T0 - dt.timedelta(days=3)
SSD = "0d0d0d0d-0000-4000-8000-000000000001"


def usage(id_, project, resource, in_use, reserved=0, **kw):
    return {
        "id": id_,
        "project_id": project,
        "resource": resource,
        "in_use": in_use,
        "reserved": reserved,
        "deleted": 0,
        "race_preventer": 1,
        "created_at": OLD,
        "updated_at": OLD,
        **kw,
    }


def reservation(id_, usage_id, project, resource, delta, expire, **kw):
    return {
        "id": id_,
        "uuid": f"5e5e5e5e-0000-4000-8000-{id_:012d}",
        "usage_id": usage_id,
        "project_id": project,
        "resource": resource,
        "delta": delta,
        "expire": expire,
        "deleted": 0,
        "created_at": OLD,
        "updated_at": OLD,
        **kw,
    }


def cinder(url: str, release: str) -> str:
    """p1: 2 live volumes of 1 GiB (+ a deleted one, + a temporary one, + a 3 GiB ssd one) and a
    2 GiB snapshot; its `volumes` row says 5 (drift); two `gigabytes` rows, the extra one
    holding a live reservation; p2: a reservation expired 3 days ago."""
    database.create(url, "cinder", release)
    database.insert_rows(
        url,
        "volume_types",
        [
            {"id": VOLUME_TYPE, "name": "__DEFAULT__", "deleted": 0, "is_public": 1, "created_at": OLD},
            {"id": SSD, "name": "ssd", "deleted": 0, "is_public": 1, "created_at": OLD},
        ],
    )
    database.insert_rows(
        url,
        "volumes",
        [
            volume("v1", "available", "detached"),
            volume("v2", "in-use", "attached"),
            volume("v3", "deleted", "detached", deleted=1, deleted_at=OLD),
            volume("v4", "available", "detached", use_quota=0),
            volume("v5", "available", "detached", size=3, volume_type_id=SSD),
            volume("v6", "available", "detached", project_id="p2"),
        ],
    )
    database.insert_rows(
        url,
        "snapshots",
        [
            {
                "id": "s1",
                "volume_id": "v1",
                "project_id": "p1",
                "volume_size": 2,
                "volume_type_id": VOLUME_TYPE,
                "use_quota": 1,
                "status": "available",
                "deleted": 0,
                "created_at": OLD,
                "updated_at": OLD,
            }
        ],
    )
    database.insert_rows(
        url,
        "quota_usages",
        [
            usage(1, "p1", "volumes", 5),
            usage(2, "p1", "gigabytes", 6),
            usage(3, "p1", "gigabytes", 0, reserved=1, race_preventer=None),
            usage(4, "p1", "volumes___DEFAULT__", 2),
            usage(5, "p1", "gigabytes_ssd", 3),
            usage(6, "p2", "volumes", 1, reserved=1),
            usage(7, "p2", "gigabytes", 1),
        ],
    )
    database.insert_rows(
        url,
        "reservations",
        [
            reservation(1, 3, "p1", "gigabytes", 1, T0 + dt.timedelta(hours=20)),
            reservation(2, 6, "p2", "volumes", 1, T0 - dt.timedelta(days=3)),
        ],
    )
    return url


def neutron(url: str, release: str) -> str:
    database.create(url, "neutron", release)
    database.insert_rows(
        url,
        "standardattributes",
        [
            {
                "id": i,
                "resource_type": "ports" if i < 4 else "networks",
                "revision_number": 1,
                "created_at": OLD,
                "updated_at": OLD,
            }
            for i in range(1, 5)
        ],
    )
    database.insert_rows(
        url,
        "networks",
        [
            {
                "id": "net-1",
                "name": "private",
                "project_id": "p1",
                "mtu": 1450,
                "standard_attr_id": 4,
                "status": "ACTIVE",
                "admin_state_up": True,
            }
        ],
    )
    database.insert_rows(
        url,
        "ports",
        [
            {
                "id": f"port-{i}",
                "network_id": "net-1",
                "mac_address": f"fa:16:3e:00:00:0{i}",
                "admin_state_up": True,
                "status": "ACTIVE",
                "device_id": "",
                "device_owner": "",
                "project_id": "p1",
                "standard_attr_id": i,
            }
            for i in range(1, 4)
        ],
    )
    database.insert_rows(
        url,
        "quotausages",
        [
            {"project_id": "p1", "resource": "port", "in_use": 5, "reserved": 0, "dirty": False},
            {"project_id": "p2", "resource": "port", "in_use": 9, "reserved": 0, "dirty": True},
        ],
    )
    database.insert_rows(
        url,
        "reservations",
        [
            {"id": "r-old", "project_id": "p1", "expiration": T0 - dt.timedelta(hours=2)},
            {"id": "r-new", "project_id": "p1", "expiration": T0 + dt.timedelta(minutes=2)},
        ],
    )
    database.insert_rows(
        url,
        "resourcedeltas",
        [
            {"reservation_id": "r-old", "resource": "port", "amount": 1},
            {"reservation_id": "r-old", "resource": "security_group_rule", "amount": 4},
            {"reservation_id": "r-new", "resource": "port", "amount": 1},
        ],
    )
    return url


def read(cinder_url: str | None = None, neutron_url: str | None = None) -> Snapshot:
    snap = Snapshot(taken_at=T0)
    sources = []
    if cinder_url:
        sources.append(CinderDatabaseSource(CinderSettings(database=Database(cinder_url))))
    if neutron_url:
        # these rows are Neutron's legacy driver's, the one that reads them (rules/neutron_quota.py)
        sources.append(
            NeutronDatabaseSource(NeutronSettings(database=Database(neutron_url), quota_driver=LEGACY_DRIVER))
        )
    for src in sources:
        assert all(s.status == "ok" for s in src.collect(set(src.provides), snap, snap))
    return snap


def found(check, snap) -> dict:
    return {f.subject.id: f for f in check.evaluate(snap).findings}


def every_finding(snap) -> set:
    return {(c.code, s) for c in (QuotaUsageDrift, DuplicateQuotaUsage, ExpiredReservation) for s in found(c(), snap)}


def ctx_for(cinder_url=None, neutron_url=None) -> RepairContext:
    return RepairContext(
        Settings(
            cinder=CinderSettings(database=Database(cinder_url) if cinder_url else None),
            neutron=NeutronSettings(
                database=Database(neutron_url) if neutron_url else None, quota_driver=LEGACY_DRIVER
            ),
        ),
        None,
    )


@pytest.fixture(params=schemas.releases())
def dbs(request, new_db):
    return cinder(new_db("cinder"), request.param), neutron(new_db("neutron"), request.param)


def test_the_checks_see_the_broken_rows(dbs):
    snap = read(*dbs)
    assert set(found(QuotaUsageDrift(), snap)) == {"cinder/p1/volumes", "neutron/p1/port"}
    assert set(found(DuplicateQuotaUsage(), snap)) == {"cinder/p1/gigabytes"}
    assert set(found(ExpiredReservation(), snap)) == {"cinder/5e5e5e5e-0000-4000-8000-000000000002", "neutron/r-old"}


@pytest.mark.parametrize(
    ("check", "subject", "repair", "tables"),
    [
        (QuotaUsageDrift, "cinder/p1/volumes", RecomputeQuotaUsage, [("cinder", "quota_usages")]),
        (
            DuplicateQuotaUsage,
            "cinder/p1/gigabytes",
            RecomputeQuotaUsage,
            [("cinder", "quota_usages"), ("cinder", "reservations")],
        ),
        (
            ExpiredReservation,
            "cinder/5e5e5e5e-0000-4000-8000-000000000002",
            DeleteExpiredReservations,
            [("cinder", "quota_usages"), ("cinder", "reservations")],
        ),
        (QuotaUsageDrift, "neutron/p1/port", RecomputeQuotaUsage, [("neutron", "quotausages")]),
        (
            ExpiredReservation,
            "neutron/r-old",
            DeleteExpiredReservations,
            [("neutron", "reservations"), ("neutron", "resourcedeltas")],
        ),
    ],
)
def test_two_runs_then_undo(dbs, check, subject, repair, tables):
    urls = {"cinder": dbs[0], "neutron": dbs[1]}
    before = {t: _all(urls[db], t) for db, t in tables}
    first = every_finding(read(*dbs))
    finding = found(check(), read(*dbs))[subject]
    r, ctx = repair(), ctx_for(*dbs)
    plan = plan_of(r, finding)
    entry = apply(r, plan, ctx)
    # fixes must settle, and leave nothing new for the other quota checks (a merge or an
    # expiry keeps in_use and reserved consistent)
    assert every_finding(read(*dbs)) == first - {(check.code, subject)}
    with pytest.raises(RepairError):
        r.apply(plan, ctx, entry["before"])
    r.undo(entry, ctx)
    assert {t: _all(urls[db], t) for db, t in tables} == before
    ctx.close()


def _all(url: str, name: str) -> list:
    if name in ("quotausages", "resourcedeltas"):
        from sqlalchemy import create_engine, select, table, text
        from sqlalchemy.pool import NullPool

        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as conn:
            got = sorted(
                tuple(sorted(r.items())) for r in conn.execute(select(text("*")).select_from(table(name))).mappings()
            )
        engine.dispose()
        return got
    return sorted(rows(url, name).items())


def test_the_merge_moves_reservations_and_recounts(dbs):
    cinder_url = dbs[0]
    finding = found(DuplicateQuotaUsage(), read(cinder_url))["cinder/p1/gigabytes"]
    r, ctx = RecomputeQuotaUsage(), ctx_for(cinder_url)
    seen = rows(cinder_url, "reservations")
    apply(r, plan_of(r, finding), ctx)
    u, res = rows(cinder_url, "quota_usages"), rows(cinder_url, "reservations")
    # 1 + 1 GiB volumes and the 2 GiB snapshot (the 3 GiB ssd volume too: gigabytes is every type)
    assert (u[2]["in_use"], u[2]["reserved"], u[2]["deleted"]) == (7, 1, 0)
    assert u[3]["deleted"] and u[3]["race_preventer"] is None and u[3]["deleted_at"] is not None
    # cinder-manage moves a reservation on its ORM object: the flush sets its updated_at
    assert res[1]["usage_id"] == 2 and res[1]["updated_at"] != seen[1]["updated_at"]
    ctx.close()


def test_expiry_gives_back_reserved(dbs):
    cinder_url = dbs[0]
    finding = found(ExpiredReservation(), read(cinder_url))["cinder/5e5e5e5e-0000-4000-8000-000000000002"]
    r, ctx = DeleteExpiredReservations(), ctx_for(cinder_url)
    apply(r, plan_of(r, finding), ctx)
    assert rows(cinder_url, "quota_usages")[6]["reserved"] == 0 and rows(cinder_url, "reservations")[2]["deleted"]
    assert not found(QuotaUsageDrift(), read(cinder_url)).get("cinder/p2/volumes")
    ctx.close()


def test_a_stale_before_image_changes_nothing(dbs):
    cinder_url = dbs[0]
    finding = found(QuotaUsageDrift(), read(cinder_url))["cinder/p1/volumes"]
    r, ctx = RecomputeQuotaUsage(), ctx_for(cinder_url)
    plan = plan_of(r, finding)
    before = r.before_image(plan, ctx)
    execute(cinder_url, "UPDATE quota_usages SET in_use = 4 WHERE id = 1")  # Cinder moved it meanwhile
    snapshot = rows(cinder_url, "quota_usages")
    with pytest.raises(RepairError, match="no longer in the state that was seen"):
        r.apply(plan, ctx, before)
    assert rows(cinder_url, "quota_usages") == snapshot
    # the row as seen, but what it counts moved: a volume created meanwhile
    execute(cinder_url, "UPDATE quota_usages SET in_use = 5 WHERE id = 1")
    database.insert_rows(cinder_url, "volumes", [volume("v9", "creating", "detached")])
    with pytest.raises(RepairError, match="moved since it was read"):
        r.apply(plan, ctx, before)
    assert rows(cinder_url, "quota_usages") == snapshot | {1: {**snapshot[1], "in_use": 5}}
    # and a before-image read now says the row changed since the check saw it
    execute(cinder_url, "UPDATE quota_usages SET in_use = 3 WHERE id = 1")
    with pytest.raises(RepairError, match="changed since the check"):
        r.before_image(plan, ctx)
    ctx.close()


def test_neutron_rows_marked_dirty_and_nova_rows_are_left_alone(dbs):
    snap = read(neutron_url=dbs[1])
    assert set(found(QuotaUsageDrift(), snap)) == {"neutron/p1/port"}  # p2's dirty row: Neutron recounts it
    neutron_finding = found(QuotaUsageDrift(), snap)["neutron/p1/port"]
    nova = dataclasses.replace(neutron_finding, subject=ObjectRef("quota-usage", "nova/p1/instances", "cell:cell1"))
    assert "counted usage live since Pike" in RecomputeQuotaUsage().plan(nova, snap)
