"""Scenarios of MQ102 orphan-rpc-queue: reply and fanout queues with no consumer and no expiry."""

from osfsck.checks.rabbitmq.orphan_rpc_queue import OrphanRpcQueue
from tests.checks.scenario import Case
from tests.support.world import World

CHECK = OrphanRpcQueue


def orphans():
    w = World()
    w.queue("reply_5f1e0c2a9b8d4e7f", messages=12, consumers=0)
    w.queue("compute_fanout_3b9d2e", messages=0, consumers=0, durable=True)
    w.queue("reply_cmp1:nova-compute:1", messages=0, consumers=0, broker="rabbit-cell2", vhost="nova")
    return w.snapshot()


def verify_orphans(out):
    f = next(f for f in out.findings if f.subject.id == "reply_5f1e0c2a9b8d4e7f")
    assert (
        f.message == "Reply queue reply_5f1e0c2a9b8d4e7f on rabbit1 (/) has no consumer and no expiry (12 message(s))."
    )
    assert f.evidence["queue"]["expires_ms"] is None and f.evidence["kind"] == "reply"


def clean():
    w = World()
    w.queue("reply_aa", messages=0, consumers=1, expires=1800000)
    w.queue("conductor", messages=0, consumers=1)
    w.queue("notifications.info", messages=40, consumers=0)  # not an RPC reply or fanout queue
    return w.snapshot()


def reply_queue_in_use():
    w = World()
    w.queue("reply_0b1c", messages=1, consumers=1)
    return w.snapshot()


def expiring_fanout():
    w = World()
    w.queue("scheduler_fanout_77aa", messages=2, consumers=0, expires=1800000)
    w.queue("reply_77ab", messages=0, consumers=0, expires=600000, policy_expires=True)
    w.queue("reply_77ac", messages=0, consumers=0, exclusive=True)
    return w.snapshot()


def no_statistics_yet():
    w = World()
    w.queue("reply_9f", messages=None, consumers=None)
    return w.snapshot()


def broker_down():
    w = World()
    w.queue("reply_1", messages=0, consumers=1, expires=1000, vhost="nova")
    w.rabbit_down()
    return w.snapshot()


CASES = [
    Case(
        "found",
        "reply and fanout queues left behind",
        orphans,
        [
            ("MQ102", "reply_5f1e0c2a9b8d4e7f"),
            ("MQ102", "compute_fanout_3b9d2e"),
            ("MQ102", "reply_cmp1:nova-compute:1"),
        ],
        verify=verify_orphans,
    ),
    Case("clean", "every reply queue in use and expiring", clean),
    Case("near-miss", "a reply queue in use, no expiry", reply_queue_in_use),
    Case(
        "near-miss",
        "fanout and reply queues that expire (argument, policy) or die with their connection",
        expiring_fanout,
    ),
    Case("partial", "a queue without statistics yet", no_statistics_yet, ["rabbitmq:rabbit1//"]),
    Case("partial", "the broker could not be read", broker_down, ["rabbitmq:rabbit1//"]),
]
