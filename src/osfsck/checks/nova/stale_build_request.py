from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, age_seconds
from osfsck.checks.instance_index import instance_index
from osfsck.model.facts.nova import (
    API_SCOPE,
    ArchivedInstance,
    BuildRequest,
    Cell,
    Instance,
    InstanceMapping,
    Migration,
    cell_scope,
)
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class _StaleBuildRequestEvidenceAlways(TypedDict):
    build_request: dict[str, Any]
    mapping_cell: str | None
    why: str


class StaleBuildRequestEvidence(_StaleBuildRequestEvidenceAlways, total=False):
    """What every NV204 finding's evidence holds (and, below, what some do)."""

    age_seconds: int


class StaleBuildRequest(Check):
    """A build request left in the API database after its build ended or died.

    Why it matters:
        The API lists build requests as servers in BUILD: a stale one shows a server that
        never finishes building (or a duplicate of one that did), counts against quota,
        and cannot always be deleted by its owner.  Nova's conductor deletes the build
        request once the instance is created in a cell; a conductor that dies in between
        leaves it behind.

    How it is detected:
        A build request is stale when its instance mapping already points to a cell that
        holds the instance (the conductor created it but did not clean up), when it has
        no instance mapping at all, or when it is still unscheduled (mapping without a
        cell) after `unscheduled_after` seconds (default 1 hour).

    Known false positives:
        A build still being scheduled has a build request and a mapping with no cell for
        seconds to minutes; it is not reported before `unscheduled_after`.  nova-api
        creates the build request before the mapping, and the conductor deletes it just
        after creating the instance: build requests younger than `min_age` (default 10
        minutes) are never reported.

    Repair:
        `delete-build-request` (safe, conditional delete, journaled; `osfsck undo` puts the
        row back) when the instance exists in its cell or has no mapping.  A build request
        that never got scheduled gets a runbook: `openstack server delete UUID` removes it
        with its mapping the way the API does.
    """

    code = "NV204"
    evidence_shape = StaleBuildRequestEvidence
    name = "stale-build-request"
    severity = Severity.MEDIUM
    needs = (BuildRequest, InstanceMapping, Cell, Instance, ArchivedInstance, Migration)
    relies_on = (BuildRequest, InstanceMapping, Cell, Instance)
    repairs = ("delete-build-request", "server-delete-runbook")
    defaults = {"unscheduled_after": 3600, "min_age": 600}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        idx = instance_index(snap)
        if not (idx.api_complete and snap.is_complete(BuildRequest, API_SCOPE)):
            out.inconclusive(API_SCOPE, idx.api_reason(BuildRequest))
            return
        for b in snap.of(BuildRequest):
            out.examine()
            age = age_seconds(snap, b.created_at)
            if age is not None and age < self.params["min_age"]:
                continue  # nova-api and the conductor are still working on it
            m = idx.mappings.get(b.instance_uuid)
            cell = idx.cell_name(m.cell_uuid) if m else None
            ref = ObjectRef("build-request", b.instance_uuid, API_SCOPE)
            evidence = {
                "build_request": {
                    "instance_uuid": b.instance_uuid,
                    "project_id": b.project_id,
                    "created_at": b.created_at.isoformat() if b.created_at else None,
                },
                "mapping_cell": cell,
            }
            if m is None:
                out.found(
                    ref,
                    f"Build request {b.instance_uuid} has no instance mapping.",
                    evidence={**evidence, "why": "no-mapping"},
                    changed_at=b.created_at,
                )
            elif cell is not None:
                if not idx.cell_complete(cell):
                    out.inconclusive(cell_scope(cell), idx.cell_reason(cell), ref)
                    continue
                created = [r for r in idx.live.get(b.instance_uuid, ()) if r.cell == cell]
                dead = idx.deleted.get(b.instance_uuid)
                if created or (dead and dead.cell == cell):
                    out.found(
                        ref,
                        f"Build request {b.instance_uuid} remains although the instance exists in {cell_scope(cell)}.",
                        related=[ObjectRef("instance", b.instance_uuid, cell_scope(cell))],
                        evidence={**evidence, "why": "instance-created"},
                        changed_at=b.created_at,
                    )
            else:
                if age is not None and age > self.params["unscheduled_after"]:
                    out.found(
                        ref,
                        f"Build request {b.instance_uuid} has been unscheduled for {age / 3600:.1f} h.",
                        evidence={**evidence, "why": "never-scheduled", "age_seconds": int(age)},
                        changed_at=b.created_at,
                    )
