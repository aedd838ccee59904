"""Facts of RPC: RabbitMQ queues and Nova's instance actions (issue 5).

Service heartbeats are the `ComputeService` (Nova) and `CinderService` facts;
rules/services.py says how Nova's servicegroup database driver judges one.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from osfsck.model.facts.base import fact_type

RABBITMQ_PREFIX = "rabbitmq:"


def queue_scope(broker: str, vhost: str) -> str:
    """The coverage scope of one vhost of one broker: "rabbitmq:<broker>/<vhost>"."""
    return f"{RABBITMQ_PREFIX}{broker}/{vhost}"


@fact_type("rabbitmq.queue", scope_field="scope")
class RabbitQueue(NamedTuple):
    """A queue as the management API lists it (`GET /api/queues/<vhost>`).

    `messages` and `consumers` are None when the broker had no statistics for the queue
    yet: they are sampled (about every 5 s), so a queue declared a moment ago has none.
    `expires` is the queue's expiry in ms, from its `x-expires` argument or from a policy
    (`expires_from` says which).  `idle_since` is kept as text for evidence only: its
    format changed between releases and the maintainers call it an implementation detail.
    """

    scope: str
    broker: str
    vhost: str
    name: str
    messages: int | None
    consumers: int | None
    durable: bool
    auto_delete: bool
    exclusive: bool
    expires: int | None
    expires_from: str | None  # "argument", "policy" or None
    type: str | None  # classic, quorum, stream
    idle_since: str | None


@fact_type("nova.instance_action", scope_field="cell")
class InstanceAction(NamedTuple):
    """The last row of a cell's instance_actions for an instance that has a task_state, with
    its last event: what Nova last recorded doing to it.  Only instances with a task_state
    are read (instance_actions holds every action ever taken: it is the largest table)."""

    cell: str
    instance_uuid: str
    action: str | None  # reboot, delete, resize, live-migration, ...
    request_id: str | None
    start_time: dt.datetime | None
    finish_time: dt.datetime | None
    last_event: str | None  # e.g. compute_reboot_instance
    last_event_at: dt.datetime | None  # the later of its finish and start
    last_event_host: str | None
