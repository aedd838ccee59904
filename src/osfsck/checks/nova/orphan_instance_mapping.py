from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.instance_index import instance_index
from osfsck.model.facts.nova import (
    API_SCOPE,
    ArchivedInstance,
    Cell,
    Instance,
    InstanceMapping,
    Migration,
    cell_scope,
)
from osfsck.model.finding import Confidence, Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


def mapping_ref(uuid: str) -> ObjectRef:
    return ObjectRef("instance-mapping", uuid, API_SCOPE)


class _OrphanInstanceMappingEvidenceAlways(TypedDict):
    instance_state: str
    mapping: dict[str, Any]


class OrphanInstanceMappingEvidence(_OrphanInstanceMappingEvidenceAlways, total=False):
    """What every NV201 finding's evidence holds (and, below, what some do)."""

    cell: str
    cell_uuid: str


class OrphanInstanceMapping(Check):
    """An instance mapping in the API database whose cell has no such instance.

    Why it matters:
        The API resolves every request for the instance through its mapping: a mapping
        left behind makes `openstack server show` fail with a 404 from the cell or an
        internal error, and keeps project and user quota counting rows that no longer
        exist.  `nova-manage db archive_deleted_rows` removes mappings as it archives, but
        an interrupted archive (or one run per cell) leaves them; `nova-manage cell_v2
        verify_instance` reports it one uuid at a time as return code 4.

    How it is detected:
        Every mapping with a cell is looked up in that cell's instances and
        shadow_instances.  A mapping whose instance was archived, or is absent from the
        cell and live in no other cell, is reported; a mapping whose instance is live in
        another cell is left to mapping-wrong-cell.  The mapped cell (and, for absence,
        every cell) must have been read completely.

    Known false positives:
        Mappings with no cell yet belong to builds in progress and are not considered.
        A mapping to a cell whose database was restored from an older backup looks
        orphaned: check the cell before repairing.

    Repair:
        `delete-instance-mapping`: a conditional delete of the row as `archive_deleted_rows`
        would do it; safe when the instance is archived, unsafe when it is absent.  The row
        is journaled and `osfsck undo` inserts it again.
    """

    code = "NV201"
    evidence_shape = OrphanInstanceMappingEvidence
    name = "orphan-instance-mapping"
    severity = Severity.MEDIUM
    needs = (InstanceMapping, Cell, Instance, ArchivedInstance, Migration)
    relies_on = (InstanceMapping, Cell, Instance, ArchivedInstance)
    repairs = ("delete-instance-mapping",)

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        idx = instance_index(snap)
        if not idx.api_complete:
            out.inconclusive(API_SCOPE, idx.api_reason())
            return
        # Every mapping is visited (up to a million): the common cases are plain dict
        # lookups on local names, with no method call per mapping.
        cell_of, live, deleted = idx.cell_name_of, idx.primaries, idx.deleted
        examined = 0
        for m in snap.of(InstanceMapping):
            if not m.cell_uuid:
                continue
            examined += 1
            cell = cell_of.get(m.cell_uuid)
            if cell is None:
                out.found(
                    mapping_ref(m.instance_uuid),
                    f"Instance mapping {m.instance_uuid} points to cell {m.cell_uuid}, which has no cell mapping.",
                    evidence={
                        "mapping": _mapping_evidence(m),
                        "cell_uuid": m.cell_uuid,
                        "instance_state": "no such cell",
                    },
                    changed_at=m.updated_at or m.created_at,
                )
                continue
            uuid = m.instance_uuid
            if uuid in live:
                continue  # live here, or in another cell (mapping-wrong-cell reports that)
            dead = deleted.get(uuid)
            if dead is not None and dead.cell == cell:
                continue  # deleted in its own cell: a row seen is proof, however partial the read
            if not idx.cell_complete(cell):
                if snap.outside(cell_scope(cell)) and uuid not in idx.archived and dead is None:
                    continue  # a mapping of a cell a scoped run did not read: not asked about
                out.inconclusive(cell_scope(cell), idx.cell_reason(cell), mapping_ref(uuid))
                continue
            arch = idx.archived.get(uuid)
            if arch is not None and arch.cell == cell:
                state, confidence = "archived", Confidence.HIGH
            elif idx.partial_cells:
                first = idx.partial_cells[0]
                out.inconclusive(cell_scope(first), idx.cell_reason(first), mapping_ref(uuid))
                continue
            else:
                state, confidence = "absent", Confidence.MEDIUM
            out.found(
                mapping_ref(uuid),
                f"Instance mapping {uuid} points to {cell_scope(cell)}, where the instance is {state}.",
                related=[ObjectRef("instance", uuid, cell_scope(cell))],
                evidence={"mapping": _mapping_evidence(m), "cell": cell, "instance_state": state},
                confidence=confidence,
                changed_at=m.updated_at or m.created_at,
            )
        out.examine(examined)


def _mapping_evidence(m: InstanceMapping) -> dict[str, Any]:
    return {
        "instance_uuid": m.instance_uuid,
        "cell_uuid": m.cell_uuid,
        "project_id": m.project_id,
        "queued_for_delete": bool(m.queued_for_delete),
        "created_at": m.created_at.isoformat() if m.created_at else None,
    }
