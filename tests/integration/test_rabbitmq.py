"""The stale-RPC path against a real RabbitMQ 3.10 broker with the management plugin, started
on free loopback ports in a temporary folder and stopped by its PID (its epmd too): the
source reads every page, MQ101 finds a dead host's backlog, delete-dead-host-queue deletes
it (the finding is gone, a second delete is refused), undo puts the queue back with its
binding and messages, and `if-unused` refuses a queue that got a consumer meanwhile."""

from __future__ import annotations

import json
import time

import pika
import pytest

from osfsck.checks.rabbitmq.dead_host_queue_backlog import DeadHostQueueBacklog
from osfsck.checks.rabbitmq.orphan_rpc_queue import OrphanRpcQueue
from osfsck.clients.rabbitmq import RabbitClient
from osfsck.config.rabbitmq import Broker as BrokerSettings
from osfsck.config.rabbitmq import RabbitSettings
from osfsck.config.settings import Settings
from osfsck.engine.context import RepairContext
from osfsck.model.facts.rpc import RabbitQueue
from osfsck.repairs.base import RepairError
from osfsck.repairs.rabbitmq.queues import DeleteDeadHostQueue, DeleteOrphanRpcQueue
from osfsck.sources.rabbitmq.source import RabbitMQSource
from osfsck_lab.rabbitmq import USER, Broker, _epmd_pids
from tests.support.world import HOUR, World

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    b = Broker(tmp_path_factory.mktemp("rabbitmq") / "broker")
    yield b
    b.stop()
    assert not b.running() and _epmd_pids(b.epmd_port) == []


@pytest.fixture
def api(broker):
    with RabbitClient(broker.url, USER, broker.password) as c:
        for q in c.queues("/"):
            c.delete_queue("/", q["name"], if_unused=False)
        yield c


def settings(broker) -> RabbitSettings:
    return RabbitSettings(brokers=(BrokerSettings("lab", broker.url, USER, broker.password, page_size=2),))


def snapshot(broker, dead: str | None = None):
    """A World (hv1 up; `dead`'s nova-compute silent for 3 h) plus the broker's queues as read."""
    w = World()
    w.host("hv1")
    if dead:
        w.host(dead)
        w.service_down(dead, age=3 * HOUR)
    snap = w.snapshot()
    statuses = RabbitMQSource(settings(broker)).collect({RabbitQueue}, snap, snap)
    return snap, statuses


def settled(broker, names: set[str], timeout: float = 20):
    """Until the API's (sampled) statistics cover `names`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snap, _ = snapshot(broker)
        qs = {q.name: q for q in snap.of(RabbitQueue)}
        if names <= set(qs) and all(qs[n].messages is not None for n in names):
            return qs
        time.sleep(0.5)
    pytest.fail(f"no statistics for {names} after {timeout}s")


def declare_backlog(api, name: str, n: int) -> None:
    api.request("PUT", "/api/exchanges/%2F/nova", body={"type": "topic", "durable": False})
    api.declare_queue("/", name, durable=False, auto_delete=False, arguments={})
    api.bind("/", "nova", name, name)
    for i in range(n):
        api.publish(
            "/",
            name,
            {
                "properties": {"content_type": "application/json", "headers": {"i": i}},
                "payload": json.dumps({"method": "reboot_instance", "i": i}),
                "payload_encoding": "string",
            },
            exchange="nova",
        )


def test_the_source_reads_every_page(broker, api):
    for i in range(5):
        api.declare_queue("/", f"reply_{i:02d}", durable=False, auto_delete=False, arguments={"x-expires": 600000})
    qs = settled(broker, {f"reply_{i:02d}" for i in range(5)})
    assert len(qs) == 5 and all(q.expires == 600000 for q in qs.values())


def test_backlog_found_deleted_settles_and_undo_restores(broker, api):
    declare_backlog(api, "compute.hv2", 3)
    api.declare_queue("/", "compute.hv1", durable=False, auto_delete=False, arguments={})
    settled(broker, {"compute.hv2", "compute.hv1"})
    snap, statuses = snapshot(broker, dead="hv2")
    assert all(s.status == "ok" for s in statuses)
    (f,) = DeadHostQueueBacklog().evaluate(snap).findings
    assert f.subject.id == "compute.hv2" and f.evidence["queue"]["messages"] == 3

    repair = DeleteDeadHostQueue()
    ctx = RepairContext(Settings(rabbitmq=settings(broker)), snap)
    try:
        plan = repair.plan(f, snap)
        repair.ownership(plan, snap)
        before = repair.before_image(plan, ctx)
        assert len(before["messages"]) == 3 and before["bindings"] == [
            {"source": "nova", "routing_key": "compute.hv2", "arguments": {}}
        ]
        assert "3 message(s) kept" in repair.apply(plan, ctx, before)
        # the fresh check: the finding is gone (a deleted queue leaves the list at once)
        assert DeadHostQueueBacklog().evaluate(snapshot(broker, dead="hv2")[0]).findings == []
        with pytest.raises(RepairError, match="gone already; nothing changed"):
            repair.before_image(plan, ctx)
        entry = json.loads(json.dumps({"before": before}))
        assert "republished 3 of 3 message(s)" in repair.undo(entry, ctx)
    finally:
        ctx.close()
    (again,) = DeadHostQueueBacklog().evaluate(snapshot(broker, dead="hv2")[0]).findings
    assert again.fingerprint == f.fingerprint and again.evidence["queue"]["messages"] == 3
    # the messages came back in order, with their properties, routed by the restored binding too
    got = api.peek("/", "compute.hv2", 10)
    assert [json.loads(m["payload"])["i"] for m in got] == [0, 1, 2]
    assert got[0]["properties"]["headers"] == {"i": 0}
    assert api.bindings("/", "compute.hv2")[-1]["source"] == "nova"


def test_if_unused_refuses_a_queue_that_got_a_consumer(broker, api):
    declare_backlog(api, "compute.hv3", 2)
    settled(broker, {"compute.hv3"})
    snap, _ = snapshot(broker, dead="hv3")
    (f,) = DeadHostQueueBacklog().evaluate(snap).findings
    repair = DeleteDeadHostQueue()
    ctx = RepairContext(Settings(rabbitmq=settings(broker)), snap)
    conn = pika.BlockingConnection(pika.URLParameters(broker.amqp_url))
    try:
        plan = repair.plan(f, snap)
        before = repair.before_image(plan, ctx)
        # nova-compute on hv3 comes back between the before-image and the delete
        conn.channel().basic_consume("compute.hv3", lambda *a: None)
        with pytest.raises(RepairError, match="the broker refused: .*in use.*nothing changed"):
            repair.apply(plan, ctx, before)
        assert api.queue("/", "compute.hv3") is not None
    finally:
        conn.close()
        ctx.close()


def test_an_empty_orphan_is_deleted_safely_and_one_that_got_a_message_is_kept(broker, api):
    api.declare_queue("/", "reply_orphan1", durable=False, auto_delete=False, arguments={})
    settled(broker, {"reply_orphan1"})
    snap, _ = snapshot(broker)
    (f,) = OrphanRpcQueue().evaluate(snap).findings
    repair = DeleteOrphanRpcQueue()
    ctx = RepairContext(Settings(rabbitmq=settings(broker)), snap)
    try:
        plan = repair.plan(f, snap)
        assert plan.safety.value == "safe" and plan.params["if_empty"]
        before = repair.before_image(plan, ctx)
        api.publish("/", "reply_orphan1", {"payload": "late reply", "payload_encoding": "string", "properties": {}})
        with pytest.raises(RepairError, match="the broker refused"):
            repair.apply(plan, ctx, before)
        assert api.peek("/", "reply_orphan1", 5)[0]["payload"] == "late reply"
    finally:
        ctx.close()
