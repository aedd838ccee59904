"""Scenarios of NV301 stuck-instance-task: a task_state set far longer than the task takes."""

from osfsck.checks.nova.stuck_instance_task import StuckInstanceTask
from osfsck.model.facts.nova import Migration
from tests.checks.scenario import Case
from tests.support.world import DAY, HOUR, MINUTE, World, uid

CHECK = StuckInstanceTask


def lost_reboot():
    # rebooting for 5 h on a live host; the message was lost: the domain still runs
    w = World()
    u = w.instance(host="hv1", task_state="rebooting", updated_age=5 * HOUR)
    w.action(u, "reboot", age=5 * HOUR)
    w.domain("hv1", u)
    w.queue("compute.hv1", messages=0, consumers=1)
    return w.snapshot()


def verify_lost_reboot(out):
    (f,) = out.findings
    assert "rebooting for 5 h on hv1" in f.message and "nova-compute up" in f.message
    assert "compute.hv1 holds 0 message(s), 1 consumer(s)" in f.message and "its domain is running" in f.message
    ev = f.evidence
    assert ev["hypervisor"]["read"] and ev["hypervisor"]["domain"]["state"] == "running"
    assert ev["service"]["state"] == "up" and ev["last_action"]["action"] == "reboot"
    assert ev["queue"]["queues"][0]["name"] == "compute.hv1"


def deleting_on_a_dead_host_without_rabbitmq():
    # no broker and no hypervisor was read: the finding still comes, saying so
    w = World()
    w.instance(host="hv2", task_state="deleting", updated_age=2 * DAY)
    w.service_down("hv2", age=2 * DAY)
    w.host_unreachable("hv2")
    return w.snapshot()


def verify_dead_host(out):
    (f,) = out.findings
    assert "nova-compute down" in f.message and "its queue was not read" in f.message
    assert "its hypervisor was not read" in f.message
    assert f.evidence["hypervisor"]["read"] is False and f.evidence["last_action"] is None


def migrating_for_days_without_a_migration_in_progress():
    w = World()
    u = w.instance(host="hv1", task_state="migrating", updated_age=3 * DAY)
    w.migration(u, type="live-migration", status="error", source="hv1", dest="hv2", age=3 * DAY)
    return w.snapshot()


def operator_threshold():
    w = World()
    w.instance(host="hv1", task_state="powering-off", updated_age=20 * MINUTE)
    return w.snapshot()


def clean():
    w = World()
    w.instance(host="hv1")
    w.instance(host="hv1", vm_state="stopped")
    w.instance(host="hv2", task_state="deleting", deleted=True, deleted_age=DAY)  # deleted rows are not judged
    return w.snapshot()


def task_started_a_minute_ago():
    w = World()
    u = w.instance(host="hv1", task_state="rebooting", updated_age=MINUTE)
    w.action(u, "reboot", age=MINUTE)
    return w.snapshot()


def live_migration_running():
    # the row was last touched 20 days ago; its migration, minutes ago
    w = World()
    u = w.instance(host="hv1", task_state="migrating", age=20 * DAY)
    w.migration(u, type="live-migration", status="running", source="hv1", dest="hv2", age=5 * MINUTE)
    return w.snapshot()


def old_row_recent_event():
    # a long resize whose last event (the disk copy finishing) came minutes ago
    w = World()
    u = w.instance(host="hv1", task_state="resize_migrated", updated_age=8 * HOUR)
    w.action(u, "resize", age=8 * HOUR, event="compute_resize_instance", event_age=10 * MINUTE)
    return w.snapshot()


def build_is_not_a_task():
    w = World()
    w.instance(host="hv1", vm_state="building", task_state="spawning", age=DAY)
    return w.snapshot()


def actions_partial():
    w = World()
    w.instance(host="hv1", task_state="rebooting", updated_age=5 * HOUR)
    w.actions_partial("cell1")
    return w.snapshot()


def migrations_partial():
    # migrating for 20 days by its row; its migration record could not be read
    w = World()
    w.instance(host="hv1", task_state="migrating", age=20 * DAY)
    w.partial(Migration, "cell:cell1", "cell1: SELECT from migrations interrupted")
    return w.snapshot()


CASES = [
    Case(
        "found",
        "a reboot lost 5 h ago, the domain running",
        lost_reboot,
        [("NV301", uid(1))],
        verify=verify_lost_reboot,
    ),
    Case(
        "found",
        "deleting for days on a dead host, RabbitMQ and the hypervisor unread",
        deleting_on_a_dead_host_without_rabbitmq,
        [("NV301", uid(1))],
        verify=verify_dead_host,
    ),
    Case(
        "found",
        "migrating for days, its migration failed",
        migrating_for_days_without_a_migration_in_progress,
        [("NV301", uid(1))],
    ),
    Case(
        "found",
        "an operator's shorter threshold",
        operator_threshold,
        [("NV301", uid(1))],
        params={"thresholds": {"powering-off": 600}},
    ),
    Case("clean", "no instance in a task", clean),
    Case("near-miss", "a task started a minute ago", task_started_a_minute_ago),
    Case("near-miss", "a live migration in progress, its instance row untouched for 20 days", live_migration_running),
    Case("near-miss", "an old row, but its action's last event is recent", old_row_recent_event),
    Case("near-miss", "a build is stuck-build's subject", build_is_not_a_task),
    Case("partial", "the cell's instance actions could not be read", actions_partial, ["cell:cell1"]),
    Case("partial", "the cell's migrations are partial", migrations_partial, ["cell:cell1"]),
]
