from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.instance_index import instance_index
from osfsck.checks.nova.orphan_instance_mapping import mapping_ref
from osfsck.model.facts.nova import API_SCOPE, ArchivedInstance, Cell, Instance, InstanceMapping, Migration, cell_scope
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class MappingWrongCellEvidence(TypedDict):
    """What every NV203 finding's evidence holds."""

    actual_cell: str
    instance: dict[str, Any]
    mapped_cell: str


class MappingWrongCell(Check):
    """An instance mapping points to one cell while the live instance is in another.

    Why it matters:
        Every API call for the instance goes to the wrong cell database and fails or acts
        on a stale copy; the real instance cannot be managed.  It follows a cross-cell
        resize that died between moving the instance and updating its mapping.

    How it is detected:
        For every mapping with a cell, the live non-hidden row of its instance is looked
        for in every cell; when it is in another cell and the mapped cell (read
        completely) has no live row of it at all, the mapping is wrong.  A mapping whose
        instance is live in no cell we read may point away from a cell we could not
        read: those cells are inconclusive.

    Known false positives:
        During a cross-cell resize the instance exists in both cells, one copy hidden;
        as long as the mapped cell has any live row of it, nothing is reported.

    Repair:
        `fix-mapping-cell` (unsafe): point the mapping at the cell that holds the instance,
        conditional on the cell it pointed to (journaled, undoable).
    """

    code = "NV203"
    evidence_shape = MappingWrongCellEvidence
    name = "mapping-wrong-cell"
    severity = Severity.HIGH
    needs = (InstanceMapping, Cell, Instance, ArchivedInstance, Migration)
    relies_on = (InstanceMapping, Cell, Instance)
    repairs = ("fix-mapping-cell", "mapping-cell-runbook")

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        idx = instance_index(snap)
        if not idx.api_complete:
            out.inconclusive(API_SCOPE, idx.api_reason())
            return
        cell_of, live = idx.cell_name_of, idx.primaries  # locals: every mapping is visited
        unread = set(idx.partial_cells)
        for m in snap.of(InstanceMapping):
            row = live.get(m.instance_uuid)
            mapped = cell_of.get(m.cell_uuid) if m.cell_uuid is not None else None
            if mapped is None:
                continue
            if row is None:
                if unread - {mapped} and not snap.outside(cell_scope(mapped)):
                    # not live where we read: it may be live in a cell we could not read (a
                    # mapping to a cell outside a scoped run's scope is not asked about)
                    for cell in sorted(unread - {mapped}):
                        out.inconclusive(cell_scope(cell), idx.cell_reason(cell), mapping_ref(m.instance_uuid))
                    unread = {mapped} & unread  # each cell recorded once
                continue
            out.examine()
            if row.cell == mapped or row.hidden:
                continue
            if not idx.cell_complete(mapped):
                out.inconclusive(cell_scope(mapped), idx.cell_reason(mapped), mapping_ref(m.instance_uuid))
                continue
            if any(r.cell == mapped for r in idx.live[m.instance_uuid]):
                continue  # a cross-cell move in progress
            out.found(
                mapping_ref(m.instance_uuid),
                f"Instance mapping {m.instance_uuid} points to {cell_scope(mapped)}, but the instance lives in {cell_scope(row.cell)}.",
                related=[ObjectRef("instance", row.uuid, cell_scope(row.cell))],
                evidence={"mapped_cell": mapped, "actual_cell": row.cell, "instance": instance_evidence(row)},
                changed_at=m.updated_at,
            )
