"""A queue of the management API as a fact: pure mapping, no I/O.

An item that is not a queue as the API lists it (the source asks for QUEUE_COLUMNS, and a
broker always answers them) raises RabbitShapeError, the one error of this mapping: the
source then leaves the vhost partial rather than guess a queue's properties.
"""

from __future__ import annotations

from osfsck.model.facts.rpc import RabbitQueue, queue_scope

_FLAGS = ("durable", "auto_delete", "exclusive")


class RabbitShapeError(ValueError):
    """An item of a queue list that is not a queue of the management API's shape; one line."""


def _count(value) -> int | None:
    # absent until the broker has sampled the queue's statistics (about every 5 s)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _expiry(q: dict, args: dict) -> tuple[int | None, str | None]:
    """The queue's expiry in ms and where it comes from: its own x-expires argument wins
    over a policy's `expires` (RabbitMQ applies the lower of the two; either one expires
    the queue, which is all the checks ask)."""
    if _count(args.get("x-expires")) is not None:
        return args["x-expires"], "argument"
    policy = q.get("effective_policy_definition")
    if isinstance(policy, dict) and _count(policy.get("expires")) is not None:
        return policy["expires"], "policy"
    return None, None


def to_fact(broker: str, vhost: str, q) -> RabbitQueue:
    """The fact of one item of `GET /api/queues/<vhost>`; RabbitShapeError when it is not a
    queue (no name, flags that are not booleans, arguments that are not an object)."""
    if not isinstance(q, dict):
        raise RabbitShapeError(f"a list item is a {type(q).__name__}, not a queue")
    name = q.get("name")
    if not isinstance(name, str):
        raise RabbitShapeError(f"a queue without a name (name {str(name)[:40]!r})")
    for flag in _FLAGS:
        # "false" as text would be true to bool(): what the broker did not say, osfsck does not guess
        if not isinstance(q.get(flag), bool):
            raise RabbitShapeError(f"queue {name[:80]!r}: {flag} is {str(q.get(flag))[:20]!r}, not true or false")
    args = q.get("arguments", {})
    if not isinstance(args, dict):
        raise RabbitShapeError(f"queue {name[:80]!r}: arguments are a {type(args).__name__}, not an object")
    expires, expires_from = _expiry(q, args)
    idle = q.get("idle_since")
    return RabbitQueue(
        queue_scope(broker, vhost),
        broker,
        vhost,
        name,
        _count(q.get("messages")),
        _count(q.get("consumers")),
        q["durable"],
        q["auto_delete"],
        q["exclusive"],
        expires,
        expires_from,
        q.get("type") if isinstance(q.get("type"), str) else None,
        idle if isinstance(idle, str) else None,
    )
