"""What the stale-RPC checks share: which services are alive, which queue is a host's, and
what the host's queue and hypervisor show about an instance."""

from __future__ import annotations

import re
from typing import Any

from osfsck.checks.base import CheckOutput
from osfsck.checks.domains import domain_evidence, domains_by_uuid
from osfsck.model.facts.hypervisor import Domain, host_scope
from osfsck.model.facts.nova import API_SCOPE, Cell, ComputeService, cell_scope
from osfsck.model.facts.rpc import RabbitQueue
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot
from osfsck.rules.services import heartbeat, is_down

# nova.conf service_down_time (and cinder.conf's): a service whose last report is older is down
SERVICE_DOWN_TIME = 60.0

# The per-host RPC servers' queues (oslo.messaging `<topic>.<server>`; research B.4.1):
# nova-compute's `compute.<host>` and, since nova 33.0.0, `compute-alt.<host>`; Cinder's
# volume service `cinder-volume.<host@backend>` and `cinder-volume.<host@backend>.<host>`.
NOVA_TOPICS = ("compute", "compute-alt")
CINDER_TOPIC = "cinder-volume"
_HOST_QUEUE = re.compile(r"^(compute|compute-alt|cinder-volume)\.(.+)$")


def host_queue(name: str) -> tuple[str, str] | None:
    """(topic, server) of a per-host RPC queue name, or None for any other queue (a shared
    topic queue such as `compute`, a fanout, a reply, a notification queue)."""
    m = _HOST_QUEUE.match(name)
    if m is None or "_fanout_" in name:
        return None
    return m.group(1), m.group(2)


def queue_ref(q: RabbitQueue) -> ObjectRef:
    return ObjectRef("rabbitmq-queue", q.name, q.scope)


def queue_evidence(q: RabbitQueue) -> dict[str, Any]:
    return {
        "broker": q.broker,
        "vhost": q.vhost,
        "name": q.name,
        "messages": q.messages,
        "consumers": q.consumers,
        "durable": q.durable,
        "auto_delete": q.auto_delete,
        "exclusive": q.exclusive,
        "expires_ms": q.expires,
        "expires_from": q.expires_from,
        "type": q.type,
        "idle_since": q.idle_since,
    }


def service_ref(s: ComputeService) -> ObjectRef:
    return ObjectRef("compute-service", s.host, cell_scope(s.cell))


def compute_services(snap: Snapshot) -> dict[str, ComputeService]:
    """Live nova-compute rows by host (a host runs one nova-compute, in one cell)."""
    idx = snap.memo.get("rpc_compute_services")
    if idx is None:
        idx = snap.memo["rpc_compute_services"] = {s.host: s for s in snap.of(ComputeService)}
    return idx


def service_state(snap: Snapshot, svc: Any, down_time: float) -> str:
    """ "up", "forced down", "down" (no report within `down_time`) or "deleted" (no row)."""
    if svc is None:
        return "deleted"
    if getattr(svc, "forced_down", 0):
        return "forced down"
    return "down" if is_down(svc, snap.taken_at, down_time) else "up"


def service_evidence(snap: Snapshot, host: str | None, svc: Any, down_time: float) -> dict[str, Any]:
    seen = heartbeat(svc) if svc is not None else None
    return {
        "host": host,
        "state": service_state(snap, svc, down_time) if host else None,
        "cell": getattr(svc, "cell", None),
        "last_heartbeat": seen.isoformat() if seen else None,
        "seconds_since_heartbeat": round((snap.taken_at - seen).total_seconds()) if seen else None,
        "forced_down": bool(getattr(svc, "forced_down", 0)) if svc is not None else None,
        "disabled": bool(svc.disabled) if svc is not None else None,
    }


def cells_without_services(snap: Snapshot, out: CheckOutput, about: ObjectRef | None = None) -> list[str]:
    """The cells (cell0 aside: it runs no service) whose services were not read completely,
    each recorded inconclusive (for `about`, the object judged); also the API scope when
    the cell list itself is partial."""
    missing = []
    if not snap.is_complete(Cell, API_SCOPE):
        out.inconclusive(API_SCOPE, snap.why_incomplete(Cell, API_SCOPE), about)
        missing.append(API_SCOPE)
    for c in snap.of(Cell):
        if c.uuid == "00000000-0000-0000-0000-000000000000":
            continue
        scope = cell_scope(c.name)
        if not snap.is_complete(ComputeService, scope):
            out.inconclusive(scope, snap.why_incomplete(ComputeService, scope), about)
            missing.append(scope)
    return missing


def queue_scopes_partial(snap: Snapshot, out: CheckOutput) -> None:
    """Every broker vhost that could not be read is a place the check could not look."""
    for cov in snap.incomplete_scopes(RabbitQueue):
        out.inconclusive(cov.scope, cov.reason or f"{cov.scope} was not read completely")


def host_queues_evidence(snap: Snapshot, host: str | None) -> dict[str, Any]:
    """What the brokers show for `host`'s compute queues: {"read": False} when RabbitMQ was
    not collected, else the queues (none when the host has none)."""
    scopes = snap.scopes(RabbitQueue)
    if host is None or not scopes:
        return {"read": False, "queues": []}
    idx = snap.memo.get("rpc_queues_by_name")
    if idx is None:
        idx = {}
        for q in snap.of(RabbitQueue):
            idx.setdefault(q.name, []).append(q)
        snap.memo["rpc_queues_by_name"] = idx
    names = [f"{t}.{host}" for t in NOVA_TOPICS]
    found = sorted((q for n in names for q in idx.get(n, ())), key=lambda q: (q.scope, q.name))
    return {
        "read": all(snap.is_complete(RabbitQueue, s) for s in scopes),
        "queues": [{"scope": q.scope, "name": q.name, "messages": q.messages, "consumers": q.consumers} for q in found],
    }


def hypervisor_evidence(snap: Snapshot, uuid: str, host: str | None) -> dict[str, Any]:
    """What the instance's host's hypervisor shows: {"read": False} when it was not read
    (hypervisors not collected, or the host not reachable), else its domain or None."""
    if host is None or not snap.is_complete(Domain, host_scope(host)):
        why = None if host is None or not snap.scopes(Domain) else snap.why_incomplete(Domain, host_scope(host))
        return {"host": host, "read": False, "why": why, "domain": None}
    here = [d for d in domains_by_uuid(snap).get(uuid, ()) if d.host == host]
    return {"host": host, "read": True, "why": None, "domain": domain_evidence(here[0]) if here else None}


def describe_hypervisor(h: dict[str, Any]) -> str:
    if not h["read"]:
        return "its hypervisor was not read"
    if h["domain"] is None:
        return f"{h['host']} has no domain for it"
    return f"its domain is {h['domain']['state']}"


def describe_queues(q: dict[str, Any], host: str | None) -> str:
    if not q["read"] or host is None:
        return "its queue was not read"
    if not q["queues"]:
        return f"no compute.{host} queue"
    first = q["queues"][0]
    if first["messages"] is None:
        return f"{first['name']} has no statistics yet"
    return f"{first['name']} holds {first['messages']} message(s), {first['consumers']} consumer(s)"
