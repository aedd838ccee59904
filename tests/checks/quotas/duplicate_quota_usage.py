"""Scenarios of QU103 duplicate-quota-usage: two live Cinder usage rows for one project and
resource (Cinder bug 1484343)."""

from osfsck.checks.quotas.duplicate_quota_usage import DuplicateQuotaUsage
from tests.checks.scenario import Case
from tests.support.world import World


def duplicate_gigabytes():
    w = World()
    w.cinder_project("project-a", volumes=2, gigabytes=20)
    w.cinder_usage("project-a", "gigabytes", in_use=0)
    return w.snapshot()


def three_rows():
    w = World()
    w.cinder_project("project-a", volumes=1, gigabytes=10)
    w.cinder_usage("project-a", "volumes", in_use=1)
    w.cinder_usage("project-a", "volumes", in_use=0)
    return w.snapshot()


def verify_ids(out):
    (f,) = out.findings
    assert "3 live rows (ids 1, 5, 6)" in f.message and [u["id"] for u in f.evidence["usages"]] == [1, 5, 6]


def clean():
    w = World()
    w.cinder_project("project-a", volumes=2, gigabytes=20, snapshots=1, snapshot_gigabytes=2)
    w.cinder_project("project-b", volumes=1, gigabytes=5)
    return w.snapshot()


def per_type_and_other_projects():
    # volumes and volumes_<type> are different resources; the same resource in two projects too
    w = World()
    w.cinder_type("ssd")
    w.cinder_project("project-a", volumes=1, gigabytes=10)
    w.cinder_project("project-a", volumes=1, gigabytes=10, type_name="ssd")
    w.cinder_project("project-b", volumes=1, gigabytes=10)
    return w.snapshot()


def cinder_partial():
    w = World()
    w.cinder_project("project-a", volumes=1, gigabytes=10)
    w.quota_down("cinder")
    return w.snapshot()


CHECK = DuplicateQuotaUsage
CASES = [
    Case("found", "two gigabytes rows", duplicate_gigabytes, [("QU103", "cinder/project-a/gigabytes")]),
    Case("found", "three volumes rows", three_rows, [("QU103", "cinder/project-a/volumes")], verify=verify_ids),
    Case("clean", "one row per project and resource", clean),
    Case(
        "near-miss",
        "per-type rows and other projects' rows",
        per_type_and_other_projects,
        [("QU103", "cinder/project-a/volumes"), ("QU103", "cinder/project-a/gigabytes")],
    ),
    Case("partial", "Cinder's usage rows unreadable", cinder_partial, ["cinder"]),
]
