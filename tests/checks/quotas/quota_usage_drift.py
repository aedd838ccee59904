"""Scenarios of QU101 quota-usage-drift: a usage row that disagrees with what it counts."""

from osfsck.checks.quotas.quota_usage_drift import QuotaUsageDrift
from osfsck.model.facts.neutron import NEUTRON_SCOPE
from osfsck.model.finding import Confidence, Severity
from osfsck.model.schema_versions import SchemaRead, alembic_heads
from osfsck.model.scope import RunScope
from tests.checks.scenario import Case
from tests.support.world import DAY, HOUR, MINUTE, World


def _both(w: World) -> World:
    """Every scenario reads Cinder and Neutron; Nova's table is read and empty (counted live)."""
    w.quotas("cinder")
    w.quotas("neutron")
    w.cell("cell1")
    w.nova_quota_rows()
    return w


def cinder_in_use_too_high():
    # a volume delete whose quota commit was lost: the row still counts it
    w = _both(World())
    w.cinder_counted("project-a", count=2, gigabytes=20)
    for r, n in (("volumes", 3), ("gigabytes", 20), ("volumes___DEFAULT__", 2), ("gigabytes___DEFAULT__", 20)):
        w.cinder_usage("project-a", r, in_use=n)
    return w.snapshot()


def cinder_reserved_without_reservations():
    w = _both(World())
    ids = w.cinder_project("project-b", volumes=1, gigabytes=5)
    w.cinder_reservation(ids["gigabytes"], "project-b", "gigabytes", 5, created_age=2 * DAY)
    w._facts["quota.cinder_usage"] = [
        u._replace(reserved=12) if u.id == ids["gigabytes"] else u for u in w._facts["quota.cinder_usage"]
    ]
    return w.snapshot()


def cinder_per_type_with_snapshots():
    # gigabytes_<type> counts the snapshots of that type's volumes too
    w = _both(World())
    w.cinder_type("ceph-ssd")
    w.cinder_project("project-c", volumes=2, gigabytes=30, snapshots=1, snapshot_gigabytes=10, type_name="ceph-ssd")
    w._facts["quota.cinder_usage"] = [
        u._replace(in_use=30) if u.resource == "gigabytes_ceph-ssd" else u for u in w._facts["quota.cinder_usage"]
    ]
    return w.snapshot()


def neutron_port_drift():
    w = _both(World())
    w.neutron_project("project-a", network=2, port=6)
    w.neutron_counted("project-b", "security_group_rule", 8)
    w.neutron_usage("project-b", "security_group_rule", 12)
    return w.snapshot()


def _neutron_drift(driver: str | None, release: str | None = None):
    """Project-b's rule row drifted; Neutron runs `driver` (None: not configured here) on a
    schema of `release` (None: its version table was not read)."""
    w = World()
    w.quotas("neutron", neutron_driver=driver)
    w.neutron_counted("project-b", "security_group_rule", 8)
    w.neutron_usage("project-b", "security_group_rule", 12)
    snap = w.snapshot()
    if release is not None:
        heads = alembic_heads("neutron", release)
        snap.schemas[NEUTRON_SCOPE] = SchemaRead(NEUTRON_SCOPE, "neutron", "alembic_version", heads)
    return snap


def no_lock_driver_configured():
    # neutron.conf says DbQuotaNoLockDriver: Neutron counts rows live and never reads quotausages
    return _neutron_drift("neutron.db.quota.driver_nolock.DbQuotaNoLockDriver")


def default_driver_from_xena():
    # nothing configured here, a 2024.1 schema: Neutron runs its default, the no-lock driver
    # (an upgraded cloud keeps the old driver's rows, and they drift harmlessly)
    return _neutron_drift(None, "2024.1")


def default_driver_before_xena():
    # nothing configured here, a Wallaby schema: the default then was the legacy driver
    return _neutron_drift(None, "wallaby")


def driver_unknown():
    # nothing configured, no version table read: judged, with low confidence, and said why
    return _neutron_drift(None)


def verify_legacy_configured(out):
    (f,) = out.findings
    assert f.confidence is Confidence.HIGH and "not marked dirty for a recount." in f.message
    assert f.evidence["quota_driver"] == "Neutron's quota_driver is neutron.db.quota.driver.DbQuotaDriver"


def verify_unknown_driver(out):
    (f,) = out.findings
    assert f.confidence is Confidence.LOW
    assert "only if Neutron runs its legacy DbQuotaDriver" in f.message and "[neutron] quota_driver" in f.message


def verify_legacy_default(out):
    (f,) = out.findings
    assert f.confidence is Confidence.HIGH
    assert "default quota driver before Xena is DbQuotaDriver" in f.evidence["quota_driver"]


def nova_leftover_rows():
    # a cloud upgraded from Ocata: Nova's old rows say 3 instances, the cell has 2
    w = _both(World())
    w.instance(project_id="project-n", vcpus=2, memory_mb=2048)
    w.instance(project_id="project-n", vcpus=2, memory_mb=2048)
    w.instance(project_id="project-n", deleted=True)
    w.nova_usage("project-n", "instances", 2, user_id="user-1")
    w.nova_usage("project-n", "instances", 1, user_id="user-2")
    w.nova_usage("project-n", "cores", 4)
    w.nova_usage("project-n", "ram", 4096)
    return w.snapshot()


def verify_cinder(out):
    (f,) = out.findings
    assert "in_use 3 where Cinder counts 2" in f.message and f.evidence["counted_in_use"] == 2
    assert f.subject.scope == "cinder" and f.subject.kind == "quota-usage"


def verify_reserved(out):
    (f,) = out.findings
    assert "reserved 12 where its live reservations hold 5" in f.message and "in_use" not in f.message


def verify_nova(out):
    (f,) = out.findings
    assert f.confidence is Confidence.LOW and f.severity is Severity.LOW
    assert "no Nova since Pike reads these rows" in f.message and len(f.evidence["rows"]) == 2


def clean():
    w = _both(World())
    ids = w.cinder_project("project-a", volumes=3, gigabytes=40, snapshots=2, snapshot_gigabytes=8)
    w.cinder_reservation(ids["volumes"], "project-a", "volumes", 1, created_age=HOUR)
    w._facts["quota.cinder_usage"] = [
        u._replace(reserved=1) if u.id == ids["volumes"] else u for u in w._facts["quota.cinder_usage"]
    ]
    w.cinder_counted("project-b", "backups", count=2, gigabytes=7, type_name=None)
    w.cinder_usage("project-b", "backups", in_use=2)
    w.cinder_usage("project-b", "backup_gigabytes", in_use=7)
    w.cinder_usage("project-b", "volumes", in_use=0)  # all its volumes deleted: counts 0
    w.neutron_project(
        "project-a", network=2, subnet=2, port=7, router=1, floatingip=1, security_group=1, security_group_rule=4
    )
    return w.snapshot()


def usage_updated_a_minute_ago():
    # a volume create between reserve and commit: the row and the count disagree for seconds
    w = _both(World())
    w.cinder_counted("project-a", count=1, gigabytes=10)
    w.cinder_usage("project-a", "volumes", in_use=2, age=MINUTE)
    return w.snapshot()


def volume_deleted_a_minute_ago():
    w = _both(World())
    w.cinder_counted("project-a", count=1, gigabytes=10, deleted_age=MINUTE)
    w.cinder_usage("project-a", "volumes", in_use=2)
    return w.snapshot()


def fresh_reservation():
    w = _both(World())
    ids = w.cinder_project("project-a", volumes=1, gigabytes=10)
    w.cinder_reservation(ids["volumes"], "project-a", "volumes", 1, created_age=30)
    return w.snapshot()


def temporary_volume_not_counted():
    # a migration's destination (use_quota false) is not in the count: the source reads
    # COUNT ... WHERE use_quota, so the counted facts never include it; the row agrees
    w = _both(World())
    w.cinder_project("project-a", volumes=1, gigabytes=10)
    return w.snapshot()


def neutron_dirty_row():
    w = _both(World())
    w.neutron_counted("project-a", "port", 5)
    w.neutron_usage("project-a", "port", 4, dirty=True)
    return w.snapshot()


def unsynced_resources():
    # a deleted volume type's rows and per_volume_gigabytes are not synced by Cinder
    w = _both(World())
    w.cinder_counted("project-a", count=1, gigabytes=10)
    w.cinder_usage("project-a", "volumes_retired-type", in_use=9)
    w.cinder_usage("project-a", "per_volume_gigabytes", in_use=9)
    w.neutron_usage("project-a", "rbac_policy", 3)
    return w.snapshot()


def duplicates_left_to_qu103():
    w = _both(World())
    w.cinder_counted("project-a", count=1, gigabytes=10)
    w.cinder_usage("project-a", "volumes", in_use=1)
    w.cinder_usage("project-a", "volumes", in_use=4)
    return w.snapshot()


def nova_counted_live():
    # no rows anywhere: Nova counts live, nothing to judge (even beside instances)
    w = _both(World())
    w.instance(project_id="project-n")
    return w.snapshot()


def cinder_partial():
    w = _both(World())
    w.neutron_project("project-a", port=3)
    w.quota_down("cinder")
    return w.snapshot()


def nova_cell_down():
    w = _both(World())
    w.nova_usage("project-n", "instances", 1, scope="api")
    w.cell_down("cell1")
    return w.snapshot()


CHECK = QuotaUsageDrift


def nova_cell_never_read():
    # the API database lists cell2, whose database was never read (no coverage at all):
    # the API database's rows count its instances too
    w = _both(World())
    w.instance(project_id="project-n")
    w.nova_usage("project-n", "instances", 2, scope="api")
    snap = w.snapshot()
    w2 = World()
    w2.cell("cell1")
    w2.cell("cell2")
    snap.facts["nova.cell"] = [c for c in w2.snapshot().facts["nova.cell"]]
    return snap


def cinder_only_cloud():
    # issue 16 #2: a cloud with Cinder and no Neutron in the config: Neutron's rows are not
    # collected at all, and the Cinder part still runs
    w = World()
    w.quotas("cinder")
    w.cinder_counted("project-a", count=2, gigabytes=20)
    for r, n in (("volumes", 3), ("gigabytes", 20), ("volumes___DEFAULT__", 2), ("gigabytes___DEFAULT__", 20)):
        w.cinder_usage("project-a", r, in_use=n)
    return w.snapshot()


def neutron_only_cloud():
    w = World()
    w.quotas("neutron")
    w.neutron_counted("project-b", "security_group_rule", 8)
    w.neutron_usage("project-b", "security_group_rule", 12)
    return w.snapshot()


def neither_service_collected():
    # a snapshot with neither service's rows (the check selected on a cloud without them):
    # it could not look, which is not "consistent"
    return World().snapshot()


def scoped_to_one_project():
    # --project project-a: its drift is found; project-b's rows were not read
    w = _both(World())
    w.cinder_counted("project-a", count=2, gigabytes=20)
    for r, n in (("volumes", 3), ("gigabytes", 20), ("volumes___DEFAULT__", 2), ("gigabytes___DEFAULT__", 20)):
        w.cinder_usage("project-a", r, in_use=n)
    w.neutron_counted("project-b", "security_group_rule", 8)
    w.neutron_usage("project-b", "security_group_rule", 12)
    return w.snapshot(RunScope(projects=("project-a",)))


def scoped_to_another_project():
    # --project project-b: project-a's rows are neither read nor asked about
    w = _both(World())
    w.cinder_counted("project-a", count=2, gigabytes=20)
    for r, n in (("volumes", 3), ("gigabytes", 20), ("volumes___DEFAULT__", 2), ("gigabytes___DEFAULT__", 20)):
        w.cinder_usage("project-a", r, in_use=n)
    return w.snapshot(RunScope(projects=("project-b",)))


CASES = [
    Case(
        "found",
        "Cinder in_use counts a deleted volume",
        cinder_in_use_too_high,
        [("QU101", "cinder/project-a/volumes")],
        verify=verify_cinder,
    ),
    Case(
        "found",
        "Cinder reserved beyond its reservations",
        cinder_reserved_without_reservations,
        [("QU101", "cinder/project-b/gigabytes")],
        verify=verify_reserved,
    ),
    Case(
        "found",
        "per-type gigabytes forget the snapshots",
        cinder_per_type_with_snapshots,
        [("QU101", "cinder/project-c/gigabytes_ceph-ssd")],
    ),
    Case(
        "found",
        "Neutron rule count drifted",
        neutron_port_drift,
        [("QU101", "neutron/project-b/security_group_rule")],
        verify=verify_legacy_configured,
    ),
    Case(
        "found",
        "Nova's leftover rows disagree",
        nova_leftover_rows,
        [("QU101", "nova/project-n/instances")],
        verify=verify_nova,
    ),
    Case("clean", "every row matches its count", clean),
    Case("near-miss", "usage row updated a minute ago", usage_updated_a_minute_ago),
    Case("near-miss", "a volume deleted a minute ago", volume_deleted_a_minute_ago),
    Case("near-miss", "a reservation made seconds ago", fresh_reservation),
    Case("near-miss", "temporary volume with use_quota false", temporary_volume_not_counted),
    Case("near-miss", "Neutron row marked dirty", neutron_dirty_row),
    Case("near-miss", "resources Cinder does not sync", unsynced_resources),
    Case("near-miss", "duplicate rows are QU103's", duplicates_left_to_qu103),
    Case("near-miss", "Nova counts live", nova_counted_live),
    Case("partial", "Cinder's quota tables unreadable", cinder_partial, ["cinder"]),
    Case("partial", "a cell down under Nova's API rows", nova_cell_down, ["cell:cell1"]),
    Case(
        "found",
        "no_snapshot_gb_quota: gigabytes leave the snapshots out",
        cinder_per_type_with_snapshots,
        [("QU101", "cinder/project-c/gigabytes")],
        params={"no_snapshot_gb_quota": True},
    ),
    Case("partial", "a cell the API database lists was never read", nova_cell_never_read, ["cell:cell2"]),
    Case(
        "found",
        "a Cinder-only cloud runs the Cinder part (issue 16 #2)",
        cinder_only_cloud,
        [("QU101", "cinder/project-a/volumes")],
    ),
    Case(
        "found",
        "a Neutron-only cloud runs the Neutron part (issue 16 #2)",
        neutron_only_cloud,
        [("QU101", "neutron/project-b/security_group_rule")],
    ),
    Case("partial", "neither service's rows were collected", neither_service_collected, ["cinder", "neutron"]),
    Case("near-miss", "Neutron's no-lock driver (configured) never reads its rows", no_lock_driver_configured),
    Case("near-miss", "no driver configured, a 2024.1 schema: the no-lock default", default_driver_from_xena),
    Case(
        "found",
        "no driver configured, a Wallaby schema: the legacy default",
        default_driver_before_xena,
        [("QU101", "neutron/project-b/security_group_rule")],
        verify=verify_legacy_default,
    ),
    Case(
        "found",
        "Neutron's quota driver unknown: judged with low confidence",
        driver_unknown,
        [("QU101", "neutron/project-b/security_group_rule")],
        verify=verify_unknown_driver,
    ),
    Case(
        "found", "in --project project-a: only its rows", scoped_to_one_project, [("QU101", "cinder/project-a/volumes")]
    ),
    Case("near-miss", "in --project project-b: another project's drift is not read", scoped_to_another_project),
]
