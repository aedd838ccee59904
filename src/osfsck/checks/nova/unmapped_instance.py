from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.instance_index import instance_index
from osfsck.model.facts.nova import API_SCOPE, ArchivedInstance, Cell, Instance, InstanceMapping, Migration, cell_scope
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class UnmappedInstanceEvidence(TypedDict):
    """What every NV202 finding's evidence holds."""

    cell_uuid: str
    instance: dict[str, Any]


class UnmappedInstance(Check):
    """A live instance in a cell database that has no instance mapping in the API database.

    Why it matters:
        Without a mapping the API cannot find the instance: it is missing from server
        lists, cannot be deleted by its owner, yet runs and holds resources.  It follows
        a failed `nova-manage cell_v2 map_instances`, a cell database restored into a
        new deployment, or a mapping deleted by hand.

    How it is detected:
        Every live, non-hidden instance of a cell read completely is looked up in the
        API database's instance_mappings (which must have been read completely).

    Known false positives:
        Hidden copies left by a cross-cell resize share the uuid of a mapped instance and
        are not considered.  Soft-deleted rows without a mapping are normal after a
        partial archive and are not reported.

    Repair:
        `map-instance` (safe): insert the mapping as `nova-manage cell_v2 map_instances`
        would, with the project and user read from the cell (journaled; undo removes it).
    """

    code = "NV202"
    evidence_shape = UnmappedInstanceEvidence
    name = "unmapped-instance"
    severity = Severity.HIGH
    needs = (Instance, InstanceMapping, Cell, ArchivedInstance, Migration)
    relies_on = (InstanceMapping, Cell)
    repairs = ("map-instance", "map-instances-runbook")

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        idx = instance_index(snap)
        for uuid, row in idx.primaries.items():
            if row.hidden:
                continue
            out.examine()
            if not idx.api_complete:
                out.inconclusive(API_SCOPE, idx.api_reason())
                continue
            if uuid in idx.mappings:
                continue
            cell = idx.cell_names.get(row.cell)
            out.found(
                ObjectRef("instance", uuid, cell_scope(row.cell)),
                f"Instance {uuid} in {cell_scope(row.cell)} has no instance mapping in the API database.",
                evidence={"instance": instance_evidence(row), "cell_uuid": cell.uuid if cell else None},
                changed_at=row.created_at,
            )
