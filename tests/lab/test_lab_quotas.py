"""The lab's quota rows, as written: Cinder's and Neutron's usage rows count exactly what
the cloud holds (the sources' GROUP BY reads agree with the lab's own count), and the QU
checks on the written databases find exactly the quota faults truth names."""

import datetime as dt

import pytest

from osfsck.checks.quotas.duplicate_quota_usage import DuplicateQuotaUsage
from osfsck.checks.quotas.expired_reservation import ExpiredReservation
from osfsck.checks.quotas.quota_usage_drift import QuotaUsageDrift
from osfsck.config.settings import CinderSettings, Database, NeutronSettings
from osfsck.model.facts.quota import CinderQuotaUsage, NeutronQuotaUsage
from osfsck.model.snapshot import Snapshot
from osfsck.rules.neutron_quota import LEGACY_DRIVER
from osfsck.sources.cinder_db import CinderDatabaseSource
from osfsck.sources.neutron_db import NeutronDatabaseSource
from osfsck_lab import build, database, quotas, schemas

NOW = dt.datetime(2026, 11, 24, 12, 0)
CHECKS = (QuotaUsageDrift, ExpiredReservation, DuplicateQuotaUsage)


def _cloud(seed: int):
    return build.spec("small", seed, NOW)


@pytest.mark.parametrize("seed", [1, 2])
def test_usage_rows_count_what_the_cloud_holds_outside_the_faults(seed):
    c = _cloud(seed)
    truth = {(t["code"], t["subject"]) for t in c.truth if t["code"].startswith("QU")}
    assert {code for code, _ in truth} == {"QU101", "QU102", "QU103"}
    drifted = {s for code, s in truth if code in ("QU101", "QU103")}
    in_flight = {r["project_id"] for r in quotas.reservation_rows(c) if c.now - r["created_at"] < quotas.IN_FLIGHT}
    assert in_flight
    for (project, resource), rows in quotas.by_resource(c.quota.cinder_usages).items():
        if f"cinder/{project}/{resource}" in drifted or project in in_flight:
            continue
        assert len(rows) == 1
        assert rows[0]["in_use"] == quotas.cinder_counts(c, project)[resource], (project, resource)
    for (project, resource), [row] in quotas.by_resource(c.quota.neutron_usages).items():
        if f"neutron/{project}/{resource}" in drifted or row["dirty"]:
            continue
        assert row["in_use"] == quotas.neutron_counts(c, project)[resource], (project, resource)
    # temporary volumes and deleted ones exist, and are not counted
    assert any(not v["use_quota"] for v in c.volumes) and any(v["deleted"] for v in c.volumes)
    assert any(s["deleted"] for s in c.quota.snapshots) and c.quota.backups


@pytest.mark.parametrize("release", schemas.releases())
def test_checks_on_the_written_databases_find_exactly_the_quota_truth(tmp_path, release):
    c = _cloud(3)
    urls = database.database_urls(tmp_path, None, "t", ["cinder", "neutron"])
    build._write_cinder(c, urls["cinder"], release)
    database.create(urls["neutron"], "neutron", release)
    build._write_neutron(c, urls["neutron"])
    quotas.write(c, urls)
    snap = Snapshot(taken_at=NOW + dt.timedelta(minutes=3))  # checked a few minutes after the build
    for src in (
        CinderDatabaseSource(CinderSettings(database=Database(urls["cinder"]))),
        # the lab's neutron-server runs the legacy driver, the one that reads these rows
        NeutronDatabaseSource(NeutronSettings(database=Database(urls["neutron"]), quota_driver=LEGACY_DRIVER)),
    ):
        statuses = src.collect(set(src.provides), snap, snap)
        assert all(s.status == "ok" for s in statuses), statuses
    found, examined = set(), 0
    for cls in CHECKS:
        out = cls().evaluate(snap)
        assert out.inconclusive_list == []
        found |= {(f.code, f.subject.id) for f in out.findings}
        examined += out.examined
    assert found == {(t["code"], t["subject"]) for t in c.truth if t["code"].startswith("QU")}
    assert len(snap.of(CinderQuotaUsage)) == len(c.quota.cinder_usages)
    assert len(snap.of(NeutronQuotaUsage)) == len(c.quota.neutron_usages) and examined > 100


def test_neutron_rows_as_the_legacy_driver_leaves_them():
    """After a create the API's quota hook marks the project's rows dirty
    (resource_registry.set_resources_dirty) and leaves in_use at the count from before,
    until a list request recounts them; `reserved` is never written."""
    c = _cloud(1)
    ports = {}
    created = {a["id"]: a["created_at"] for a in c.net.attrs}
    for p in c.net.ports:
        if c.now - created[p["standard_attr_id"]] < quotas.IN_FLIGHT:
            ports[p["project_id"]] = ports.get(p["project_id"], 0) + 1
    assert ports
    rows = quotas.by_resource(c.quota.neutron_usages)
    for project, new in ports.items():
        [row] = rows[(project, "port")]
        assert row["dirty"] == 1 and row["in_use"] == quotas.neutron_counts(c, project)["port"] - new
    assert all(r["reserved"] == 0 for r in c.quota.neutron_usages)


def test_committed_reservations_stay_soft_deleted():
    """Cinder's reservation_commit soft-deletes a reservation (deleted = 1, deleted_at):
    every volume create and delete leaves its four, and their deltas add up to in_use."""
    c = _cloud(1)
    truth = {t["subject"] for t in c.truth if t["code"] in ("QU101", "QU103")}
    committed = [r for r in quotas.reservation_rows(c) if r["deleted"]]
    assert committed and all(r["deleted_at"] and r["updated_at"] == r["deleted_at"] for r in committed)
    assert {r["resource"] for r in committed} == {
        "volumes",
        "gigabytes",
        f"volumes_{quotas.TYPE_NAME}",
        f"gigabytes_{quotas.TYPE_NAME}",
    }
    assert any(r["delta"] < 0 for r in committed)
    live = {r["project_id"] for r in quotas.reservation_rows(c) if not r["deleted"]}
    checked = 0
    for (project, resource), [row] in (
        (k, v) for k, v in quotas.by_resource(c.quota.cinder_usages).items() if len(v) == 1
    ):
        if resource != "volumes" or project in live or f"cinder/{project}/volumes" in truth:
            continue
        assert row["in_use"] == sum(
            r["delta"] for r in committed if r["project_id"] == project and r["resource"] == "volumes"
        ), project
        checked += 1
    assert checked > 5
