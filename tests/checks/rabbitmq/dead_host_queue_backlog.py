"""Scenarios of MQ101 dead-host-queue-backlog: a dead host's RPC queue with messages and no consumer."""

from osfsck.checks.rabbitmq.dead_host_queue_backlog import DeadHostQueueBacklog
from osfsck.model.facts.cinder import CINDER_SCOPE
from tests.checks.scenario import Case
from tests.support.world import CINDER_BACKEND, HOUR, World

CHECK = DeadHostQueueBacklog


def backlog_on_a_dead_compute():
    w = World()
    w.host("hv1")
    w.host("hv2")
    w.service_down("hv2", age=3 * HOUR)
    w.queue("compute.hv1", messages=0, consumers=1)
    w.queue("compute.hv2", messages=7, consumers=0)
    w.queue("compute-alt.hv2", messages=1, consumers=0)
    return w.snapshot()


def verify_backlog(out):
    f = next(f for f in out.findings if f.subject.id == "compute.hv2")
    assert f.subject.scope == "rabbitmq:rabbit1//" and "holds 7 message(s) with no consumer" in f.message
    assert "hv2's nova-compute is down" in f.message
    assert f.evidence["service"]["state"] == "down" and f.evidence["queue"]["messages"] == 7
    assert f.related[0].scope == "cell:cell1" and f.changed_at is not None


def deleted_host_in_another_cell_and_broker():
    w = World()
    w.host("c2-hv1", cell="cell2")
    w.service_deleted("c2-hv1", cell="cell2")
    w.queue("compute.c2-hv1", messages=2, consumers=0, broker="rabbit-cell2", vhost="nova")
    return w.snapshot()


def dead_cinder_backend():
    w = World()
    w.cinder_service("stor9@lvm", seen_age=2 * HOUR)
    w.queue("cinder-volume.stor9@lvm", messages=3, consumers=0)
    w.queue("cinder-volume.stor9@lvm.stor9", messages=1, consumers=0)
    w.queue(f"cinder-volume.{CINDER_BACKEND}", messages=0, consumers=1)
    return w.snapshot()


def clean():
    w = World()
    w.host("hv1")
    w.queue("compute.hv1", messages=0, consumers=1)
    w.queue("compute", messages=0, consumers=1)
    w.queue("conductor", messages=0, consumers=2)
    return w.snapshot()


def compute_reconnecting():
    # the service reports, its consumer is momentarily gone
    w = World()
    w.host("hv1")
    w.queue("compute.hv1", messages=4, consumers=0)
    return w.snapshot()


def dead_host_with_an_empty_queue():
    w = World()
    w.host("hv2")
    w.service_down("hv2", age=3 * HOUR)
    w.queue("compute.hv2", messages=0, consumers=0)
    w.queue("compute_fanout_0a1b2c", messages=3, consumers=0, expires=1800000)
    return w.snapshot()


def fresh_queue_without_statistics():
    w = World()
    w.host("hv2")
    w.service_down("hv2", age=3 * HOUR)
    w.queue("compute.hv2", messages=None, consumers=None)
    return w.snapshot()


def cell_services_partial():
    w = World()
    w.host("hv1")
    w.host("c2-hv1", cell="cell2")
    w.cell_down("cell2")
    w.queue("compute.c2-hv1", messages=5, consumers=0)
    return w.snapshot()


def broker_down():
    w = World()
    w.host("hv2")
    w.service_down("hv2", age=3 * HOUR)
    w.rabbit_down()
    return w.snapshot()


def cinder_not_read():
    w = World()
    w.host("hv1")
    w.queue("cinder-volume.stor9@lvm", messages=3, consumers=0)
    return w.snapshot()


CASES = [
    Case(
        "found",
        "compute.<host> of a host down for 3 h",
        backlog_on_a_dead_compute,
        [("MQ101", "compute.hv2"), ("MQ101", "compute-alt.hv2")],
        verify=verify_backlog,
    ),
    Case(
        "found",
        "a deleted host's queue on a cell's own broker",
        deleted_host_in_another_cell_and_broker,
        [("MQ101", "compute.c2-hv1")],
    ),
    Case(
        "found",
        "a dead Cinder backend's queues",
        dead_cinder_backend,
        [("MQ101", "cinder-volume.stor9@lvm"), ("MQ101", "cinder-volume.stor9@lvm.stor9")],
    ),
    Case("clean", "every host consumes its queue", clean),
    Case("near-miss", "a live compute reconnecting", compute_reconnecting),
    Case("near-miss", "a dead host's empty queue and its expiring fanout", dead_host_with_an_empty_queue),
    Case(
        "partial",
        "a queue declared seconds ago has no statistics",
        fresh_queue_without_statistics,
        ["rabbitmq:rabbit1//"],
    ),
    Case("partial", "a cell's services could not be read", cell_services_partial, ["cell:cell2"]),
    Case("partial", "the broker could not be read", broker_down, ["rabbitmq:rabbit1//"]),
    Case("partial", "Cinder was not read", cinder_not_read, [CINDER_SCOPE]),
]
