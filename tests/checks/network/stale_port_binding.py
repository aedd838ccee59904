"""Scenarios of NT103 stale-port-binding: an INACTIVE binding left by a live migration that ended."""

from osfsck.checks.network.stale_port_binding import StalePortBinding
from osfsck.model.facts.nova import Migration
from tests.checks.scenario import Case
from tests.support.world import DAY, HOUR, MINUTE, World
from tests.support.world_neutron import port_uid

CHECK = StalePortBinding


def after_a_finished_migration():
    w = World()
    u = w.instance(host="hv2")
    w.migration(u, type="live-migration", status="completed", source="hv1", dest="hv2", age=DAY)
    p = w.instance_port(u, host="hv2", updated_age=DAY)  # port 1: active on the destination
    w.binding(p, "hv1")  # the source's binding was never deleted
    return w.snapshot()


def after_a_failed_migration():
    w = World()
    u = w.instance(host="hv1")
    w.migration(u, type="live-migration", status="error", source="hv1", dest="hv3", age=3 * HOUR)
    w.instance_port(u)  # port 1: fine
    p = w.instance_port(u)  # port 2: the rollback left hv3's binding
    w.binding(p, "hv3")
    return w.snapshot()


def verify_failed(out):
    (f,) = out.findings
    assert f.subject.id == f"{port_uid(2)}/hv3" and f.evidence["binding"]["status"] == "INACTIVE"
    assert f.evidence["last_migration"]["status"] == "error" and "active binding is on hv1" in f.message


def clean():
    w = World()
    u = w.instance(host="hv2")
    w.migration(u, type="live-migration", status="completed", source="hv1", dest="hv2", age=DAY)
    w.instance_port(u, host="hv2")
    w.instance_port(w.instance(host="hv1"))
    return w.snapshot()


def migration_in_progress():
    w = World()
    u = w.instance(host="hv1", task_state="migrating")
    w.migration(u, type="live-migration", status="running", source="hv1", dest="hv2", age=2 * HOUR)
    w.binding(w.instance_port(u, updated_age=2 * HOUR), "hv2")
    return w.snapshot()


def just_finished():
    w = World()
    u = w.instance(host="hv2")
    w.migration(u, type="live-migration", status="completed", source="hv1", dest="hv2", age=2 * MINUTE)
    w.binding(w.instance_port(u, host="hv2", updated_age=DAY), "hv1")
    return w.snapshot()


def orphan_port_binding():
    # the binding goes with the port when the orphan port is deleted (orphan-port)
    w = World()
    gone = w.instance(host="hv2", deleted=True, deleted_age=2 * DAY)
    w.binding(w.port(gone, host="hv2"), "hv1")
    return w.snapshot()


def neutron_down():
    w = World()
    u = w.instance(host="hv2")
    w.binding(w.instance_port(u, host="hv2"), "hv1")
    w.neutron_down()
    return w.snapshot()


def migrations_unreadable():
    w = World()
    u = w.instance(host="hv2")
    w.binding(w.instance_port(u, host="hv2"), "hv1")
    w.partial(Migration, "cell:cell1", "migrations: lost connection to MySQL server during query")
    return w.snapshot()


def owner_in_a_cell_that_is_down():
    w = World()
    w.instance(cell="cell1")
    u = w.instance(cell="cell2", host="hv2", mapped=False)
    w.binding(w.port(u, host="hv2"), "hv1")
    w.cell_down("cell2")
    return w.snapshot()


CASES = [
    Case("found", "left by a completed live migration", after_a_finished_migration, [("NT103", f"{port_uid(1)}/hv1")]),
    Case(
        "found",
        "left by a failed live migration",
        after_a_failed_migration,
        [("NT103", f"{port_uid(2)}/hv3")],
        verify=verify_failed,
    ),
    Case("clean", "one active binding per port", clean),
    Case("near-miss", "live migration in progress", migration_in_progress),
    Case("near-miss", "migration completed two minutes ago", just_finished),
    Case("near-miss", "binding of an orphan port", orphan_port_binding),
    Case("partial", "Neutron unreadable", neutron_down, ["neutron"]),
    Case("partial", "the cell's migrations could not be read", migrations_unreadable, ["cell:cell1"]),
    Case("partial", "the owner may be in the cell that is down", owner_in_a_cell_that_is_down, ["cell:cell2"]),
]
