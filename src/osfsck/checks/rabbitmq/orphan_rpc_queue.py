from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.rpc import queue_evidence, queue_ref, queue_scopes_partial
from osfsck.model.facts.rpc import RabbitQueue
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot


def is_transient_rpc_queue(name: str) -> bool:
    """oslo.messaging's per-process queues: `reply_<id>` (a caller's replies) and
    `<topic>_fanout_<id>` (a server's fanout), both meant to die with their process."""
    return name.startswith("reply_") or "_fanout_" in name


class OrphanRpcQueueEvidence(TypedDict):
    """What every MQ102 finding's evidence holds."""

    kind: str
    queue: dict[str, Any]


class OrphanRpcQueue(Check):
    """A reply or fanout queue with no consumer and no expiry will linger forever.

    Why it matters:
        oslo.messaging gives every process its own `reply_<id>` and `<topic>_fanout_<id>`
        queues and relies on their `x-expires` (rabbit_transient_queues_ttl, 30 min) to
        remove them once the process is gone.  Declared without it (a TTL of 0, an old
        release, a policy that overrides it), each restart leaves queues behind: every
        fanout cast is still copied into each dead fanout queue, memory grows, and the
        broker suffers the queue churn operators warn about.

    How it is detected:
        Every queue named `reply_*` or `*_fanout_*` of every broker vhost read that has no
        consumer, is not exclusive (an exclusive queue dies with its connection) and has
        no expiry, neither an `x-expires` argument nor a policy's `expires`.

    Known false positives:
        A reply queue in use (a consumer) is never reported, nor one that will expire.  A
        process that is reconnecting has no consumer for a moment: the repair only deletes
        with `if-unused`, so a queue that got its consumer back is left alone.  Queues the
        broker has no statistics for yet are not judged.

    Repair:
        `delete-orphan-rpc-queue` deletes the queue through the management API: safe when
        it was seen empty (`if-unused&if-empty`, nothing is lost); unsafe when it holds
        messages (`if-unused`, the messages are peeked into the before-image and `osfsck
        undo` re-declares the queue and republishes them).
    """

    code = "MQ102"
    evidence_shape = OrphanRpcQueueEvidence
    name = "orphan-rpc-queue"
    severity = Severity.LOW
    needs = (RabbitQueue,)
    relies_on = ()
    repairs = ("delete-orphan-rpc-queue",)

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        queue_scopes_partial(snap, out)
        unknown: dict[str, int] = {}
        for q in sorted(snap.of(RabbitQueue), key=lambda q: (q.scope, q.name)):
            if not is_transient_rpc_queue(q.name):
                continue
            out.examine()
            if q.exclusive or q.expires is not None:
                continue
            if q.consumers is None or q.messages is None:
                unknown[q.scope] = unknown.get(q.scope, 0) + 1
                continue
            if q.consumers > 0:
                continue
            kind = "reply" if q.name.startswith("reply_") else "fanout"
            out.found(
                queue_ref(q),
                f"{kind.capitalize()} queue {q.name} on {q.broker} ({q.vhost}) has no consumer and no expiry "
                f"({q.messages} message(s)).",
                evidence={"queue": queue_evidence(q), "kind": kind},
            )
        for scope, n in sorted(unknown.items()):
            out.inconclusive(
                scope,
                f"the broker had no statistics yet for {n} reply or fanout queue(s) without "
                "expiry (declared seconds ago, or statistics are disabled)",
            )
