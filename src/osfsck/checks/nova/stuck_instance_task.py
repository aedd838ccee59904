from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, age_seconds, scope_complete
from osfsck.checks.evidence import instance_evidence, iso
from osfsck.checks.rpc import (
    SERVICE_DOWN_TIME,
    compute_services,
    describe_hypervisor,
    describe_queues,
    host_queues_evidence,
    hypervisor_evidence,
    service_evidence,
    service_state,
)
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import MIGRATION_TERMINAL, ComputeService, Instance, Migration, cell_scope
from osfsck.model.facts.rpc import InstanceAction, RabbitQueue
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

MINUTE, HOUR = 60.0, 3600.0

# How long a task may legitimately take (seconds), by task_state (nova/compute/task_states.py).
# Quick operations are minutes; anything that copies a disk (migrations, resizes,
# snapshots, shelving, rebuilds) hours.  Tasks not named take "default".
THRESHOLDS = {
    "default": 3 * HOUR,
    "deleting": 30 * MINUTE,
    "soft-deleting": 30 * MINUTE,
    "restoring": 30 * MINUTE,
    "rebooting": 30 * MINUTE,
    "reboot_pending": 30 * MINUTE,
    "reboot_started": 30 * MINUTE,
    "rebooting_hard": 30 * MINUTE,
    "reboot_pending_hard": 30 * MINUTE,
    "reboot_started_hard": 30 * MINUTE,
    "powering-off": 30 * MINUTE,
    "powering-on": 30 * MINUTE,
    "pausing": 30 * MINUTE,
    "unpausing": 30 * MINUTE,
    "suspending": 30 * MINUTE,
    "resuming": 30 * MINUTE,
    "rescuing": HOUR,
    "unrescuing": HOUR,
    "updating_password": 30 * MINUTE,
    "migrating": 6 * HOUR,
    "resize_prep": 6 * HOUR,
    "resize_migrating": 6 * HOUR,
    "resize_migrated": 6 * HOUR,
    "resize_finish": 6 * HOUR,
    "resize_reverting": 6 * HOUR,
    "resize_confirming": 6 * HOUR,
    "image_snapshot": 6 * HOUR,
    "image_snapshot_pending": 6 * HOUR,
    "image_pending_upload": 6 * HOUR,
    "image_uploading": 6 * HOUR,
    "image_backup": 6 * HOUR,
    "shelving": 6 * HOUR,
    "shelving_image_pending_upload": 6 * HOUR,
    "shelving_image_uploading": 6 * HOUR,
    "shelving_offloading": 6 * HOUR,
    "unshelving": 6 * HOUR,
    "rebuilding": 6 * HOUR,
    "rebuild_block_device_mapping": 6 * HOUR,
    "rebuild_spawning": 6 * HOUR,
}


class StuckInstanceTaskEvidence(TypedDict):
    """What every NV301 finding's evidence holds."""

    hypervisor: dict[str, Any]
    instance: dict[str, Any]
    last_action: dict[str, Any] | None
    queue: dict[str, Any]
    seconds_in_task: int
    service: dict[str, Any]
    task_state: str
    threshold: float


class StuckInstanceTask(Check):
    """An instance has been in a task (rebooting, deleting, migrating...) far longer than that task takes.

    Why it matters:
        nova-api sets the task_state and casts to the host's nova-compute; if the message
        is lost (a broker failover, the compute down or restarted mid-task) nothing ever
        clears it.  The tenant is locked out: every other action on the server is refused
        with a 409 "in task_state ..." until an operator runs `nova reset-state`.

    How it is detected:
        Every live instance outside a build with a task_state whose last change (its row's
        updated_at, the start of its last instance action and that action's last event) is
        older than the task's threshold (`thresholds`, seconds by task_state: minutes for
        reboots, deletes and power changes, hours for migrations, resizes, snapshots and
        shelving).  The finding says what decides "lost" from "still in progress": whether
        the host's nova-compute reports (heartbeat within `service_down_time`), whether its
        compute.<host> queue holds messages and has a consumer, and what the hypervisor
        shows (each only when that source is configured; none of them is required).

    Known false positives:
        An instance with a migration in progress updated within `migration_age` (default
        12 h) is skipped: a live migration's instance row is not touched while memory is
        copied, its migration row is.  A long snapshot upload of a huge image can outlast
        its threshold: raise `thresholds.image_uploading`.  Builds are stuck-build's
        subject.

    Repair:
        `reset-stuck-instance` (unsafe) does what `nova reset-state` would, from what the
        hypervisor shows: a running domain makes it active, a shut-off one stopped, no
        domain error; task_state is cleared.  It is a conditional write on the exact
        vm_state, task_state and updated_at seen; `osfsck undo` restores them.  Without
        the hypervisor's view there is no repair.
    """

    code = "NV301"
    evidence_shape = StuckInstanceTaskEvidence
    name = "stuck-instance-task"
    severity = Severity.MEDIUM
    needs = (Instance, InstanceAction, Migration, ComputeService)
    relies_on = (InstanceAction, Migration)
    uses = (Domain, RabbitQueue)
    repairs = ("reset-stuck-instance",)
    defaults = {"thresholds": THRESHOLDS, "service_down_time": SERVICE_DOWN_TIME, "migration_age": 12 * HOUR}

    def __init__(self, params: dict[str, Any] | None = None):
        super().__init__(params)
        # an operator's table names only the tasks it changes: the others keep theirs
        self.params["thresholds"] = {**THRESHOLDS, **(params or {}).get("thresholds", {})}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        thresholds = self.params["thresholds"]
        down_time = float(self.params["service_down_time"])
        migration_age = float(self.params["migration_age"])
        busy = [
            r for r in snap.of(Instance) if r.task_state and not r.deleted and not r.hidden and r.vm_state != "building"
        ]
        if not busy:
            return
        actions = {a.instance_uuid: a for a in snap.of(InstanceAction)}
        migrations: dict[str, list[Migration]] = {}
        for m in snap.of(Migration):
            # one of no instance is no instance's: the lookups below are by uuid
            if m.instance_uuid is not None and (m.status or "") not in MIGRATION_TERMINAL:
                migrations.setdefault(m.instance_uuid, []).append(m)
        services = compute_services(snap)
        for row in sorted(busy, key=lambda r: r.uuid):
            out.examine()
            limit = float(thresholds.get(row.task_state, thresholds["default"]))
            age = age_seconds(snap, row.updated_at)
            if age is None or age < limit:
                continue
            if not scope_complete(snap, out, cell_scope(row.cell), (InstanceAction, Migration)):
                continue  # a recent action or a migration in progress may be what we could not read
            act = actions.get(row.uuid)
            last = max(
                (t for t in (row.updated_at, act and act.start_time, act and act.last_event_at) if t), default=None
            )
            age = age_seconds(snap, last)
            if age is None or age < limit:
                continue
            if any(
                (age_seconds(snap, m.updated_at or m.created_at) or 0) < migration_age
                for m in migrations.get(row.uuid, ())
            ):
                continue
            svc = services.get(row.host) if row.host else None
            service = service_evidence(snap, row.host, svc, down_time)
            queues = host_queues_evidence(snap, row.host)
            hv = hypervisor_evidence(snap, row.uuid, row.host)
            state = service_state(snap, svc, down_time) if row.host else "no host"
            out.found(
                ObjectRef("instance", row.uuid, cell_scope(row.cell)),
                f"Instance {row.uuid} has been {row.task_state} for {_span(age)} on {row.host or 'no host'} "
                f"(nova-compute {state}; {describe_queues(queues, row.host)}; {describe_hypervisor(hv)}).",
                evidence={
                    "instance": instance_evidence(row),
                    "task_state": row.task_state,
                    "seconds_in_task": round(age),
                    "threshold": limit,
                    "last_action": _action_evidence(act),
                    "service": service,
                    "queue": queues,
                    "hypervisor": hv,
                },
                changed_at=last,
            )


def _action_evidence(a: InstanceAction | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "action": a.action,
        "request_id": a.request_id,
        "start_time": iso(a.start_time),
        "finish_time": iso(a.finish_time),
        "last_event": a.last_event,
        "last_event_at": iso(a.last_event_at),
        "last_event_host": a.last_event_host,
    }


def _span(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 60:.0f} min"
