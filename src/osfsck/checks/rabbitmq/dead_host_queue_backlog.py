from __future__ import annotations

from typing import Any, Literal, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.rpc import (
    CINDER_TOPIC,
    SERVICE_DOWN_TIME,
    cells_without_services,
    compute_services,
    host_queue,
    queue_evidence,
    queue_ref,
    queue_scopes_partial,
    service_evidence,
    service_ref,
    service_state,
)
from osfsck.model.facts.cinder import CINDER_SCOPE, CinderService
from osfsck.model.facts.nova import Cell, ComputeService
from osfsck.model.facts.rpc import RabbitQueue
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot
from osfsck.rules.services import heartbeat


class DeadHostQueueBacklogEvidence(TypedDict):
    """What every MQ101 finding's evidence holds."""

    queue: dict[str, Any]
    service: dict[str, Any]


class DeadHostQueueBacklog(Check):
    """A dead host's RPC queue holds messages nobody consumes, to be replayed when the host returns.

    Why it matters:
        nova-api and the conductor keep casting to `compute.<host>` (reboot, delete,
        attach...) after the host's nova-compute died; with no consumer the messages pile
        up.  When the host comes back, or a new host takes its name, nova-compute replays
        the backlog: a delete or a rebuild hours or days late, on instances the tenant has
        since used.  Meanwhile every call among them times out for the caller.

    How it is detected:
        Every `compute.<host>`, `compute-alt.<host>` and `cinder-volume.<host>` queue of
        every broker vhost read with messages and no consumer, whose host's nova-compute
        (or cinder-volume) service is down (no heartbeat within `service_down_time`,
        default 60 s, or forced down) or deleted.  A deleted service is absence, so every
        cell's services must have been read completely (Cinder's for cinder-volume).

    Known false positives:
        A host whose service is up is never reported, even with no consumer: its
        nova-compute is reconnecting.  Queues the broker has no statistics for yet
        (declared seconds ago) are not judged.

    Repair:
        `delete-dead-host-queue` (unsafe) deletes the queue through the management API
        with `if-unused` (refused if a consumer came back); its before-image holds the
        queue's arguments, bindings and messages (peeked and put back), so `osfsck undo`
        re-declares the queue, binds it again and republishes them.  The service itself
        (evacuate, then delete it) is the operator's business.
    """

    code = "MQ101"
    evidence_shape = DeadHostQueueBacklogEvidence
    name = "dead-host-queue-backlog"
    severity = Severity.HIGH
    needs = (RabbitQueue, ComputeService, Cell)
    relies_on = (RabbitQueue, ComputeService, Cell)
    uses = (CinderService,)
    repairs = ("delete-dead-host-queue",)
    defaults = {"service_down_time": SERVICE_DOWN_TIME}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        down_time = float(self.params["service_down_time"])
        queue_scopes_partial(snap, out)
        candidates = []
        for q in sorted(snap.of(RabbitQueue), key=lambda q: (q.scope, q.name)):
            parsed = host_queue(q.name)
            if parsed is None:
                continue
            out.examine()
            if q.messages is None or q.consumers is None:
                out.inconclusive(
                    q.scope,
                    f"the broker had no statistics yet for queue {q.name} (declared seconds "
                    "ago, or statistics are disabled)",
                )
                continue
            if q.messages > 0 and q.consumers == 0:
                candidates.append((q, *parsed))
        if not candidates:
            return
        cinder = None
        for q, topic, server in candidates:
            if topic == CINDER_TOPIC:
                if cinder is None:
                    cinder = self._cinder_services(snap, out)
                if cinder is False:
                    continue
                svc: CinderService | ComputeService | None = cinder.get(server) or next(
                    (s for h, s in cinder.items() if server.startswith(h + ".")), None
                )
                kind = "cinder-volume"
                related: ObjectRef | None = ObjectRef("volume-service", server, CINDER_SCOPE)
            else:
                # the host may run nova-compute in a cell whose services were not read
                if cells_without_services(snap, out, queue_ref(q)):
                    continue
                nova_svc = svc = compute_services(snap).get(server)
                kind, related = "nova-compute", service_ref(nova_svc) if nova_svc else None
            state = service_state(snap, svc, down_time)
            if state == "up":
                continue
            out.found(
                queue_ref(q),
                f"Queue {q.name} on {q.broker} ({q.vhost}) holds {q.messages} message(s) with no consumer; "
                f"{server}'s {kind} is {state}.",
                related=[related] if related else [],
                evidence={"queue": queue_evidence(q), "service": service_evidence(snap, server, svc, down_time)},
                # a host that died minutes ago may be restarting: the repair's grace waits
                changed_at=heartbeat(svc) if svc is not None else None,
            )

    @staticmethod
    def _cinder_services(snap: Snapshot, out: CheckOutput) -> dict[str, CinderService] | Literal[False]:
        """cinder-volume rows by host, or False (recorded inconclusive) when Cinder was not read."""
        if not snap.is_complete(CinderService, CINDER_SCOPE):
            why = (
                snap.why_incomplete(CinderService, CINDER_SCOPE)
                if snap.scopes(CinderService)
                else "Cinder's services were not read ([cinder] is not configured): cinder-volume queues "
                "cannot be judged"
            )
            out.inconclusive(CINDER_SCOPE, why)
            return False
        return {s.host: s for s in snap.of(CinderService) if s.binary == CINDER_TOPIC}
