"""Delete RabbitMQ queues nobody will read, through the management API, and put them back.

The API has no "delete if the queue still holds exactly these messages": `if-unused`
(refused once a consumer is back) and `if-empty` are its only conditions.  So the
before-image peeks the messages just before the delete (ack_requeue_true: read, then put
back); a message published between that peek and the delete (one round trip) is lost
with the queue and is not in the journal.  Undo re-declares the queue with its arguments,
binds it again and republishes the peeked messages through the default exchange.

Messages are journaled without their secrets (`messages.kept`): an OpenStack cast carries
the caller's Keystone token (`_context_auth_token`) and may carry an admin password,
injected files or CHAP credentials.  Undo republishes only the messages kept whole; one
kept without a secret is not sent again (its token replaced, a service would act on it
with a credential that fails; its admin_password replaced, Nova would set the marker as
the guest's password) and is listed instead, for a person to decide.
"""

from __future__ import annotations

import re
import time
from typing import Any

from osfsck.clients.rabbitmq import RabbitClient, RabbitError
from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, NotOwned, Repair, RepairError, Undone
from osfsck.repairs.rabbitmq.messages import describe, held_back, kept

# a before-image keeps at most this many messages: a larger backlog is a person's call
MAX_MESSAGES = 10000
# after undo, how long to wait for the broker's statistics to show the queue again, so
# that a check right after sees it (they are sampled about every 5 s)
STATS_WAIT = 15.0
# the queues oslo.messaging makes for OpenStack services (research B.4.1)
OSLO_QUEUE = re.compile(r"^((compute|compute-alt|cinder-volume)\..+|reply_.+|.+_fanout_.+)$")


def client(ctx: Context, broker: str) -> RabbitClient:
    b = ctx.settings.rabbitmq.broker(broker)
    if b is None:
        raise RepairError(f"no broker {broker!r} in [rabbitmq] any more")
    return ctx.client(f"rabbitmq:{broker}", lambda: RabbitClient(**b.client_kwargs()))


class _DeleteQueue(Repair):
    undoable = True
    if_empty: bool = False

    def unavailable(self, settings) -> str | None:
        return None if settings.rabbitmq.brokers else "[rabbitmq] is not configured"

    def plan(self, finding: Finding, snap: Snapshot) -> RepairPlan | str:
        q = finding.evidence.get("queue")
        if q is None:
            return f"{self.name} deletes RabbitMQ queues; this {finding.subject.kind} is not one"
        empty = self.if_empty and not q["messages"]
        how = "if-unused&if-empty" if empty else "if-unused"
        return RepairPlan(
            self.name,
            Safety.SAFE if empty and self.safety is Safety.SAFE else Safety.UNSAFE,
            finding,
            finding.subject,
            action=(
                f"DELETE queue {q['name']} on {q['broker']} ({q['vhost']}) {how}, seen with {q['messages']} message(s)"
            ),
            params={"broker": q["broker"], "vhost": q["vhost"], "name": q["name"], "if_empty": empty},
        )

    def ownership(self, plan: RepairPlan, snap: Snapshot) -> None:
        if not OSLO_QUEUE.match(plan.params["name"]):
            raise NotOwned(f"queue {plan.params['name']} is not named as oslo.messaging names its queues")

    def before_image(self, plan: RepairPlan, ctx: Context) -> dict[str, Any]:
        p = plan.params
        c = client(ctx, p["broker"])
        where = f"queue {p['name']} on {p['broker']} ({p['vhost']})"
        live = c.queue(p["vhost"], p["name"])
        if live is None:
            raise RepairError(f"{where} is gone already; nothing changed")
        if live.get("consumers"):
            raise RepairError(f"{where} has {live['consumers']} consumer(s) now; nothing changed")
        if p["if_empty"] and live.get("messages"):
            raise RepairError(f"{where} holds {live['messages']} message(s) now; nothing changed")
        messages = c.peek(p["vhost"], p["name"], MAX_MESSAGES + 1)
        if len(messages) > MAX_MESSAGES:
            raise RepairError(
                f"{where} holds more than {MAX_MESSAGES} messages: too many to keep for undo; nothing changed"
            )
        bindings = [
            {"source": b["source"], "routing_key": b.get("routing_key", ""), "arguments": b.get("arguments") or {}}
            for b in c.bindings(p["vhost"], p["name"])
            if b.get("source")
        ]  # the default exchange's is implicit
        return {
            "broker": p["broker"],
            "vhost": p["vhost"],
            "name": p["name"],
            "if_empty": p["if_empty"],
            "durable": bool(live.get("durable")),
            "auto_delete": bool(live.get("auto_delete")),
            "arguments": live.get("arguments") or {},
            "bindings": bindings,
            "messages": [kept(m) for m in messages],
        }

    def apply(self, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> str:
        b = before
        try:
            client(ctx, b["broker"]).delete_queue(b["vhost"], b["name"], if_unused=True, if_empty=b["if_empty"])
        except RabbitError as e:
            if e.status == 400:
                raise RepairError(
                    f"the broker refused: {e} (a consumer came back, or a message arrived); nothing changed"
                ) from None
            raise RepairError(str(e)) from None
        held = held_back(b["messages"])
        return (
            f"deleted queue {b['name']} on {b['broker']} ({b['vhost']}); {len(b['messages'])} message(s) "
            "kept in the journal"
            + (f", {len(held)} of them without their secrets (undo will not republish those)" if held else "")
        )

    def undo(self, entry: dict[str, Any], ctx: Context) -> str:
        b = entry["before"]
        c = client(ctx, b["broker"])
        held = held_back(b["messages"])
        whole = [m for m in b["messages"] if not m.get("redacted")]
        try:
            c.declare_queue(
                b["vhost"], b["name"], durable=b["durable"], auto_delete=b["auto_delete"], arguments=b["arguments"]
            )
            for bind in b["bindings"]:
                c.bind(b["vhost"], bind["source"], b["name"], bind["routing_key"], bind["arguments"])
            lost = sum(1 for m in whole if not c.publish(b["vhost"], b["name"], m))
        except RabbitError as e:
            raise RepairError(str(e)) from None
        if lost:
            raise RepairError(f"queue {b['name']} re-declared, but {lost} message(s) were not routed to it")
        _wait_for_statistics(c, b["vhost"], b["name"], len(whole))
        not_restored = (
            [
                f"{len(held)} message(s) journaled without their secrets, not republished (with a marker "
                "in place of a token or password a service would fail on it, or set the marker as an "
                "admin password): " + "; ".join(describe(b["messages"]))
            ]
            if held
            else []
        )
        # what the broker keeps itself: the queue is a new one, its messages new arrivals
        not_restored.append(
            "the broker's own state: the queue's idle_since and statistics, and each message's "
            "time in the queue (a per-message TTL counts again from now)"
        )
        return Undone(
            f"re-declared queue {b['name']} on {b['broker']} ({b['vhost']}) with {len(b['bindings'])} "
            f"binding(s) and republished {len(whole)} of {len(b['messages'])} message(s)",
            not_restored,
        )


def _wait_for_statistics(c: RabbitClient, vhost: str, name: str, messages: int) -> None:
    deadline = time.monotonic() + STATS_WAIT
    while time.monotonic() < deadline:
        q = c.queue(vhost, name) or {}
        if isinstance(q.get("messages"), int) and q["messages"] >= messages and "consumers" in q:
            return
        time.sleep(0.5)


class DeleteDeadHostQueue(_DeleteQueue):
    """A dead host's `compute.<host>` (or cinder-volume) queue: its backlog would replay
    when the host returns.  Deleted only while it has no consumer (`if-unused`)."""

    name = "delete-dead-host-queue"
    safety = Safety.UNSAFE
    writes = (
        "RabbitMQ management API: DELETE /api/queues/<vhost>/<name>?if-unused=true (before: GET the "
        "queue and its bindings, POST .../get ack_requeue_true to peek its messages)"
    )


class DeleteOrphanRpcQueue(_DeleteQueue):
    """A reply or fanout queue nobody consumes and that never expires: safe when empty
    (`if-unused&if-empty`), unsafe when it holds messages (`if-unused`, kept for undo)."""

    name = "delete-orphan-rpc-queue"
    safety = Safety.SAFE
    if_empty = True
    writes = (
        "RabbitMQ management API: DELETE /api/queues/<vhost>/<name>?if-unused=true&if-empty=true (a queue "
        "seen with messages: if-unused only, unsafe, its messages peeked first)"
    )
