"""A queue of the management API as a fact: pure mapping, no I/O."""

from __future__ import annotations

from osfsck.model.facts.rpc import RabbitQueue, queue_scope


def _count(value) -> int | None:
    # absent until the broker has sampled the queue's statistics (about every 5 s)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _expiry(q: dict) -> tuple[int | None, str | None]:
    """The queue's expiry in ms and where it comes from: its own x-expires argument wins
    over a policy's `expires` (RabbitMQ applies the lower of the two; either one expires
    the queue, which is all the checks ask)."""
    args = q.get("arguments") if isinstance(q.get("arguments"), dict) else {}
    if _count(args.get("x-expires")) is not None:
        return args["x-expires"], "argument"
    policy = q.get("effective_policy_definition")
    if isinstance(policy, dict) and _count(policy.get("expires")) is not None:
        return policy["expires"], "policy"
    return None, None


def to_fact(broker: str, vhost: str, q: dict) -> RabbitQueue:
    """KeyError or TypeError for an item that is not a queue (no name)."""
    name = q["name"]
    if not isinstance(name, str):
        raise TypeError(f"queue name {name!r} is not text")
    expires, expires_from = _expiry(q)
    idle = q.get("idle_since")
    return RabbitQueue(
        queue_scope(broker, vhost), broker, vhost, name, _count(q.get("messages")), _count(q.get("consumers")),
        bool(q.get("durable")), bool(q.get("auto_delete")), bool(q.get("exclusive")), expires, expires_from,
        q.get("type") if isinstance(q.get("type"), str) else None, idle if isinstance(idle, str) else None,
    )
