from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, age_seconds
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.rpc import (
    SERVICE_DOWN_TIME,
    compute_services,
    host_queues_evidence,
    service_evidence,
    service_state,
)
from osfsck.model.facts.nova import ComputeService, Instance, cell_scope
from osfsck.model.facts.rpc import RabbitQueue
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class StuckBuildEvidence(TypedDict):
    """What every NV302 finding's evidence holds."""

    created_at: str
    instance: dict[str, Any]
    queue: dict[str, Any]
    seconds_building: int
    service: dict[str, Any] | None


class StuckBuild(Check):
    """An instance has been building for too long with no host, or on a host whose nova-compute is down.

    Why it matters:
        The build will never finish: the conductor's cast to a compute that is gone (or a
        scheduling that never recorded a host) is lost.  The tenant sees BUILD forever, the
        quota and the Placement allocation stay spent, and delete works only through the
        local-delete path.  Nova's own `instance_build_timeout` is off by default, and it
        runs on the very compute that is down.

    How it is detected:
        Every live instance in vm_state `building` whose row was created and last updated
        more than `build_age` ago (default 1 h) and that has no host, or a host whose
        nova-compute row reported no heartbeat within `service_down_time` (default 60 s,
        measured from the snapshot's instant), is forced down, or is gone.  Judging a
        host's service needs that cell's services read completely.

    Known false positives:
        A build on a live host is never reported, however slow (image downloads can take
        long): that is nova-compute's to time out.  A host whose nova-compute is only
        restarting misses a heartbeat or two: `build_age` waits much longer than that.

    Repair:
        `fail-stuck-build` (unsafe) sets the instance to ERROR and clears its task, as
        Nova's `instance_build_timeout` does, conditional on the vm_state, task_state and
        updated_at seen; the tenant can then delete it.  `osfsck undo` restores the row.
    """

    code = "NV302"
    evidence_shape = StuckBuildEvidence
    name = "stuck-build"
    severity = Severity.MEDIUM
    needs = (Instance, ComputeService)
    relies_on = (ComputeService,)
    uses = (RabbitQueue,)
    repairs = ("fail-stuck-build",)
    defaults = {"build_age": 3600.0, "service_down_time": SERVICE_DOWN_TIME}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        build_age = float(self.params["build_age"])
        down_time = float(self.params["service_down_time"])
        services = compute_services(snap)
        for row in sorted(
            (r for r in snap.of(Instance) if r.vm_state == "building" and not r.deleted and not r.hidden),
            key=lambda r: r.uuid,
        ):
            out.examine()
            last = max((t for t in (row.created_at, row.updated_at) if t), default=None)
            age = age_seconds(snap, last)
            if age is None or age < build_age:
                continue
            svc = None
            if row.host:
                if not snap.is_complete(ComputeService, cell_scope(row.cell)):
                    out.inconclusive(cell_scope(row.cell), snap.why_incomplete(ComputeService, cell_scope(row.cell)))
                    continue
                svc = services.get(row.host)
                state = service_state(snap, svc, down_time)
                if state == "up":
                    continue
                where = f"on {row.host}, whose nova-compute is {state}"
            else:
                where = "with no host"
            out.found(
                ObjectRef("instance", row.uuid, cell_scope(row.cell)),
                f"Instance {row.uuid} has been building for {age / 3600:.1f} h {where}.",
                evidence={
                    "instance": instance_evidence(row),
                    "created_at": row.created_at.isoformat() if row.created_at else None,
                    "seconds_building": round(age),
                    "service": service_evidence(snap, row.host, svc, down_time) if row.host else None,
                    "queue": host_queues_evidence(snap, row.host),
                },
                changed_at=last,
            )
