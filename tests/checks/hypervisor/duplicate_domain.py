"""Scenarios of HV104 duplicate-domain: one live instance with domains on several hosts."""

from osfsck.checks.hypervisor.duplicate_domain import DuplicateDomain
from osfsck.model.facts.nova import Migration
from osfsck.model.finding import Severity
from osfsck.model.scope import RunScope
from tests.checks.scenario import Case
from tests.support.world import HOUR, World, uid

CHECK = DuplicateDomain
TWIN = uid(404)


def live_migration_never_cleaned_up():
    w = World()
    w.instance(TWIN, host="hv2")
    w.migration(TWIN, type="live-migration", status="completed", source="hv1", dest="hv2")
    w.domain("hv1", TWIN, state=3)
    w.domain("hv2", TWIN)
    return w.snapshot()


def verify_twins(out):
    (f,) = out.findings
    assert f.severity == Severity.CRITICAL
    assert f.subject.scope == "cell:cell1"
    assert "2 hosts (hv1, hv2)" in f.message and "records hv2" in f.message
    assert sorted(r.scope for r in f.related) == ["host:hv1", "host:hv2"]
    assert f.evidence["expected_hosts"] == ["hv2"]


def evacuation_already_cleaned_up():
    # the source restarted and reported the evacuation completed, yet a domain is left
    w = World()
    w.instance(TWIN, host="hv2")
    w.migration(TWIN, type="evacuation", status="completed", source="hv1", dest="hv2")
    w.domain("hv1", TWIN, state=5)
    w.domain("hv2", TWIN)
    return w.snapshot()


def third_copy_beside_a_resize():
    # a resize waiting for confirmation explains hv1 and hv2, not hv3
    w = World()
    w.instance(TWIN, host="hv2", vm_state="resized")
    w.migration(TWIN, type="resize", status="finished", source="hv1", dest="hv2")
    for h in ("hv1", "hv2", "hv3"):
        w.domain(h, TWIN, state=5 if h == "hv1" else 1)
    return w.snapshot()


def clean():
    w = World()
    w.domain("hv1", w.instance(host="hv1"))
    w.domain("hv2", w.instance(host="hv2"))
    return w.snapshot()


def resize_waiting_for_confirmation():
    w = World()
    w.instance(TWIN, host="hv2", vm_state="resized")
    w.migration(TWIN, type="resize", status="finished", source="hv1", dest="hv2")
    w.domain("hv1", TWIN, state=5)
    w.domain("hv2", TWIN)
    return w.snapshot()


def cold_migration_copying():
    # a cold migration whose task_state was already cleared; the migration is in progress
    w = World()
    w.instance(TWIN, host="hv1", vm_state="stopped")
    w.migration(TWIN, type="migration", status="post-migrating", source="hv1", dest="hv2")
    w.domain("hv1", TWIN, state=5)
    w.domain("hv2", TWIN, state=5)
    return w.snapshot()


def live_migration_running():
    w = World()
    w.instance(TWIN, host="hv1", task_state="migrating")
    w.migration(TWIN, type="live-migration", status="running", source="hv1", dest="hv2")
    w.domain("hv1", TWIN)
    w.domain("hv2", TWIN, state=3)
    return w.snapshot()


def evacuation_source_awaiting_cleanup():
    # hv1 went down, the instance was rebuilt on hv2; hv1 still holds the guest until its
    # nova-compute restarts and runs _destroy_evacuated_instances
    w = World()
    w.instance(TWIN, host="hv2")
    w.migration(TWIN, type="evacuation", status="done", source="hv1", dest="hv2")
    w.domain("hv1", TWIN)
    w.domain("hv2", TWIN)
    return w.snapshot()


def hand_made_clone():
    # an operator's copy without Nova's metadata and with another name is not Nova's
    w = World()
    w.instance(TWIN, host="hv1")
    w.domain("hv1", TWIN)
    w.domain("hv2", TWIN, name="forensics-copy", nova=False, state=5)
    return w.snapshot()


def migrations_partial():
    w = World()
    w.instance(TWIN, host="hv2")
    w.domain("hv1", TWIN)
    w.domain("hv2", TWIN)
    w.partial(Migration, "cell:cell1", "migrations: query timed out")
    return w.snapshot()


def cell_down_hidden_copy_remains():
    # cell2 is down; the hidden copy in cell1 is all we see of a cross-cell move
    w = World()
    w.instance(TWIN, cell="cell1", host="hv1", hidden=True, mapped="cell2")
    w.host("hv3", cell="cell2")
    w.instance(TWIN, cell="cell2", host="hv3", mapped=False)
    w.migration(TWIN, type="resize", status="finished", source="hv1", dest="hv3", cell="cell2", age=HOUR)
    w.domain("hv1", TWIN, state=5)
    w.domain("hv3", TWIN)
    w.cell_down("cell2")
    return w.snapshot()


def a_host_could_not_be_listed():
    # one copy on hv2 where Nova records it; hv3 unreachable may hold a second
    w = World()
    w.instance(TWIN, host="hv2")
    w.domain("hv2", TWIN)
    w.host_unreachable("hv3")
    return w.snapshot()


def instance_cell_partial_copies_elsewhere():
    # the instance row of a guest running on two hosts could not be read
    w = World()
    w.instance(TWIN, host="hv2")
    w.domain("hv1", TWIN)
    w.domain("hv2", TWIN)
    w.cell_down("cell1")
    return w.snapshot()


def scoped_to_the_source_host():
    # --host hv1: hv1's copy is seen, the instance's own host hv2 is not read: whether a
    # second copy runs there (the whole run's finding) cannot be told from hv1
    w = World()
    w.instance(TWIN, host="hv2")
    w.migration(TWIN, type="live-migration", status="completed", source="hv1", dest="hv2")
    w.domain("hv1", TWIN, state=3)
    w.domain("hv2", TWIN)
    return w.snapshot(RunScope(hosts=("hv1",)))


def scoped_to_another_host():
    # --host hv3: neither copy lies there, nothing is asked about them
    w = World()
    w.instance(TWIN, host="hv2")
    w.migration(TWIN, type="live-migration", status="completed", source="hv1", dest="hv2")
    w.domain("hv1", TWIN, state=3)
    w.domain("hv2", TWIN)
    w.domain("hv3", w.instance(host="hv3"))
    return w.snapshot(RunScope(hosts=("hv3",)))


CASES = [
    Case(
        "found",
        "live migration completed, source domain never cleaned up",
        live_migration_never_cleaned_up,
        [("HV104", TWIN)],
        verify=verify_twins,
    ),
    Case("found", "evacuation completed, source domain left", evacuation_already_cleaned_up, [("HV104", TWIN)]),
    Case("found", "third copy beside a resize waiting for confirmation", third_copy_beside_a_resize, [("HV104", TWIN)]),
    Case("clean", "one domain per instance", clean),
    Case("near-miss", "resize waiting for confirmation", resize_waiting_for_confirmation),
    Case("near-miss", "cold migration in progress", cold_migration_copying),
    Case("near-miss", "live migration running", live_migration_running),
    Case("near-miss", "evacuation source awaiting cleanup", evacuation_source_awaiting_cleanup),
    Case("near-miss", "hand-made clone without Nova's metadata", hand_made_clone),
    Case("partial", "the cell's migrations are partial", migrations_partial, ["cell:cell1"]),
    Case(
        "partial",
        "only the hidden copy is visible, the live copy's cell is down",
        cell_down_hidden_copy_remains,
        ["cell:cell2"],
    ),
    Case("partial", "a host could not be listed: a copy may be there", a_host_could_not_be_listed, ["host:hv3"]),
    Case(
        "partial",
        "the instance's cell is down, its copies are seen",
        instance_cell_partial_copies_elsewhere,
        ["cell:cell1"],
    ),
    Case(
        "partial",
        "in --host hv1: a copy may run on a host outside the scope",
        scoped_to_the_source_host,
        ["outside-scope"],
    ),
    Case(
        "partial",
        "in --host hv3: hv3's own instance may have a copy elsewhere",
        scoped_to_another_host,
        ["outside-scope"],
    ),
]
