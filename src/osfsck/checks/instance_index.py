"""One view of every instance uuid across the API database and all cells.

Several checks need to know whether a uuid is a live instance, a deleted one, an archived
one or unknown, and that answer depends on completeness: a uuid that is not live in the
cells we could read may be live in the cell we could not.  This module answers it once,
with the rule stated in one place (DESIGN §3, "absence needs completeness").
"""

from __future__ import annotations

import datetime as _dt
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from osfsck.checks.base import CheckOutput
from osfsck.model.facts.base import FactType
from osfsck.model.facts.nova import (
    API_SCOPE,
    MIGRATION_TERMINAL,
    ArchivedInstance,
    BuildRequest,
    Cell,
    Instance,
    InstanceMapping,
    Migration,
    cell_scope,
)
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

_EPOCH = _dt.datetime(1970, 1, 1)  # orders deleted rows with no timestamp first

LIVE, DELETED, ARCHIVED, UNKNOWN, UNDECIDED = "live", "deleted", "archived", "unknown", "undecided"

# Evacuations whose source host still holds the guest: nova-compute destroys it when it
# starts again (ComputeManager._destroy_evacuated_instances looks for these statuses).
EVACUATION_PENDING_CLEANUP = frozenset({"accepted", "pre-migrating", "done"})


class Status(NamedTuple):
    state: str  # LIVE, DELETED, ARCHIVED, UNKNOWN or UNDECIDED
    instance: Instance | None  # the row that decided it (live or deleted)
    archived: ArchivedInstance | None
    reason: str = ""  # for UNDECIDED: why
    scopes: tuple[str, ...] = ()  # for UNDECIDED: the partial scopes

    @property
    def row(self) -> Instance:
        """The row of a LIVE or DELETED instance (which always has one)."""
        if self.instance is None:
            raise ValueError(f"an instance {self.state} has no row")
        return self.instance

    @property
    def archived_row(self) -> ArchivedInstance:
        """The shadow row of an ARCHIVED instance (which always has one)."""
        if self.archived is None:
            raise ValueError(f"an instance {self.state} has no shadow row")
        return self.archived


@dataclass
class InstanceIndex:
    snap: Snapshot
    live: dict[str, list[Instance]] = field(default_factory=lambda: defaultdict(list))
    deleted: dict[str, Instance] = field(default_factory=dict)
    archived: dict[str, ArchivedInstance] = field(default_factory=dict)
    mappings: dict[str, InstanceMapping] = field(default_factory=dict)
    build_requests: dict[str, BuildRequest] = field(default_factory=dict)
    cells: dict[str, Cell] = field(default_factory=dict)  # cell uuid -> Cell
    cell_names: dict[str, Cell] = field(default_factory=dict)  # cell name -> Cell
    migrations: dict[str, list[Migration]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        # Plain loops with local names: on a large cloud this reads a million rows once
        # for every check of the run, so it is written for speed.
        s = self.snap
        self.cell_name_of = {}  # cell uuid -> name: looked up once per mapping
        for c in s.of(Cell):
            self.cells[c.uuid] = c
            self.cell_names[c.name] = c
            self.cell_name_of[c.uuid] = c.name
        live, deleted = self.live, self.deleted
        for i in s.of(Instance):
            if not i.deleted:
                live[i.uuid].append(i)
                continue
            prev = deleted.get(i.uuid)
            if prev is None or (i.deleted_at or i.updated_at or _EPOCH) > (
                prev.deleted_at or prev.updated_at or _EPOCH
            ):
                deleted[i.uuid] = i
        self.archived.update((a.uuid, a) for a in s.of(ArchivedInstance))
        self.mappings.update((m.instance_uuid, m) for m in s.of(InstanceMapping))
        self.build_requests.update((b.instance_uuid, b) for b in s.of(BuildRequest))
        for m in s.of(Migration):
            if m.instance_uuid:
                self.migrations[m.instance_uuid].append(m)
        # the row the API shows: the non-hidden copy of a cross-cell move (asked ~10^6
        # times on a large cloud, so answered once here)
        self.primaries: dict[str, Instance] = {
            uuid: rows[0] if len(rows) == 1 else next((r for r in rows if not r.hidden), rows[0])
            for uuid, rows in self.live.items()
        }
        self.api_complete = all(s.is_complete(k, API_SCOPE) for k in (Cell, InstanceMapping))
        self._cell_complete: dict[str, bool] = {}
        self._cells_reason: str | None = None
        self.partial_cells = sorted(name for name in self.cell_names if not self.cell_complete(name))

    # -- completeness -----------------------------------------------------------------
    def cell_complete(self, cell_name: str) -> bool:
        done = self._cell_complete.get(cell_name)
        if done is None:
            scope = cell_scope(cell_name)
            done = self._cell_complete[cell_name] = all(
                self.snap.is_complete(k, scope) for k in (Instance, ArchivedInstance, Migration)
            )
        return done

    def cell_reason(self, cell_name: str) -> str:
        scope = cell_scope(cell_name)
        for k in (Instance, ArchivedInstance, Migration):
            if not self.snap.is_complete(k, scope):
                return self.snap.why_incomplete(k, scope)
        return ""

    def cells_reason(self) -> str:
        """Why the partial cells are, one clause each; the cells a scoped run did not read
        (outside its scope) in one clause."""
        reason = self._cells_reason
        if reason is None:
            outside = [cell_scope(c) for c in self.partial_cells if self.snap.outside(cell_scope(c))]
            parts = [
                f"{cell_scope(c)}: {self.cell_reason(c)}" for c in self.partial_cells if cell_scope(c) not in outside
            ]
            if outside:
                more = f" (+{len(outside) - 3} more)" if len(outside) > 3 else ""
                parts.append(f"{', '.join(outside[:3])}{more}: not read, outside the run's scope")
            reason = self._cells_reason = "; ".join(parts)
        return reason

    def api_reason(self, *extra: FactType) -> str:
        """Why the API database's facts (cells, mappings, and `extra` kinds) are partial."""
        for k in (Cell, InstanceMapping, *extra):
            if not self.snap.is_complete(k, API_SCOPE):
                return self.snap.why_incomplete(k, API_SCOPE)
        return ""

    def cell_name(self, cell_uuid: str | None) -> str | None:
        return None if cell_uuid is None else self.cell_name_of.get(cell_uuid)

    # -- answers ----------------------------------------------------------------------
    def primary(self, uuid: str) -> Instance | None:
        """The live row the API shows for `uuid` (the non-hidden copy of a cross-cell move)."""
        return self.primaries.get(uuid)

    def live_row(self, uuid: str) -> Instance:
        """primary() of a uuid of `live`: every one has a row."""
        return self.primaries[uuid]

    def status(self, uuid: str) -> Status:
        row = self.primary(uuid)
        if row is not None:
            return Status(LIVE, row, None)
        dead = self.deleted.get(uuid)
        arch = self.archived.get(uuid)
        if not self.api_complete:
            return Status(UNDECIDED, dead, arch, "the API database (cell list and mappings) is partial", (API_SCOPE,))
        if self.partial_cells:
            # Not live in any cell we read.  Only the instance mapping can tell us that
            # the partial cells are irrelevant: it names the cell that holds the instance,
            # when that cell, read whole, holds a row of it (deleted, or archived).  A
            # mapping to a cell without the instance is wrong (mapping-wrong-cell, or an
            # orphan mapping): the instance may be live in a partial cell.
            mapping = self.mappings.get(uuid)
            home = self.cell_name(mapping.cell_uuid) if mapping else None
            holds = (dead is not None and dead.cell == home) or (arch is not None and arch.cell == home)
            if home is None or not self.cell_complete(home) or not holds:
                scopes = tuple(cell_scope(c) for c in self.partial_cells)
                return Status(UNDECIDED, dead, arch, self.cells_reason(), scopes)
        if dead is not None:
            return Status(DELETED, dead, arch)
        if arch is not None:
            return Status(ARCHIVED, None, arch)
        return Status(UNKNOWN, None, None)

    def mapped_outside(self, uuid: str) -> bool:
        """Whether `uuid` is live in no cell read and mapped to a cell outside the run's
        scope: what depends on it is not asked about (a cheap test for the loops that
        visit every allocation or mapping)."""
        if uuid in self.primaries:
            return False
        m = self.mappings.get(uuid)
        home = self.cell_name(m.cell_uuid) if m is not None else None
        return home is not None and self.snap.outside(cell_scope(home))

    def in_progress_migrations(self, uuid: str) -> list[Migration]:
        return [m for m in self.migrations.get(uuid, ()) if (m.status or "") not in MIGRATION_TERMINAL]

    def expected_hosts(self, uuid: str) -> set[str]:
        """Hosts where a domain of a live instance may legitimately be: its host, both ends
        of a migration in progress (resize, cold or live migration), and the source of an
        evacuation that Nova has not yet cleaned up."""
        hosts = set()
        row = self.primary(uuid)
        if row and row.host:
            hosts.add(row.host)
        for m in self.migrations.get(uuid, ()):
            status = m.status or ""
            if status not in MIGRATION_TERMINAL:
                hosts.update(h for h in (m.source_compute, m.dest_compute) if h)
            elif m.migration_type == "evacuation" and status in EVACUATION_PENDING_CLEANUP and m.source_compute:
                hosts.add(m.source_compute)
        return hosts


def instance_index(snap: Snapshot) -> InstanceIndex:
    """The index for `snap`, built once and shared by every check of the run."""
    idx = snap.memo.get("instance_index")
    if idx is None:
        # the memo lives in the snapshot; a weak reference back keeps that from being a
        # cycle, so the snapshot is freed as soon as the run lets go of it
        idx = snap.memo["instance_index"] = InstanceIndex(weakref.proxy(snap))
    return idx


# -- what checks say about an instance's status --------------------------------------


def instance_ref(uuid: str, cell: str | None) -> ObjectRef:
    return ObjectRef("instance", uuid, cell_scope(cell) if cell else "api")


def undecided(out: CheckOutput, st: Status, about: ObjectRef | None = None) -> bool:
    """Record why an instance's status could not be decided (for `about`, the object
    judged by it); True when it could not."""
    if st.state != UNDECIDED:
        return False
    for scope in st.scopes:
        out.inconclusive(scope, st.reason, about)
    return True


def moves_known(out: CheckOutput, idx: InstanceIndex, uuid: str, about: ObjectRef | None = None) -> bool:
    """True when the migrations of every cell holding a live row of `uuid` were read
    completely, so "no migration in progress" (and the hosts a move allows) can be believed;
    otherwise that cell is recorded inconclusive (for `about`): a resize or evacuation we
    could not see would explain what looks wrong."""
    snap = idx.snap
    for row in idx.live.get(uuid, ()):
        scope = cell_scope(row.cell)
        if not snap.is_complete(Migration, scope):
            out.inconclusive(scope, snap.why_incomplete(Migration, scope), about)
            return False
    return True


def may_be_building(out: CheckOutput, idx: InstanceIndex, uuid: str, about: ObjectRef | None = None) -> bool:
    """True when `uuid` is a build request (scheduled, in no cell yet), or when the API
    database's build requests could not be read completely: then "api" is recorded
    inconclusive (for `about`), since the uuid may be a server being built."""
    if uuid in idx.build_requests:
        return True
    if not idx.snap.is_complete(BuildRequest, API_SCOPE):
        out.inconclusive(API_SCOPE, idx.snap.why_incomplete(BuildRequest, API_SCOPE), about)
        return True
    return False


def gone_because(st: Status) -> str | None:
    """Why an instance that is not live is gone, as a phrase; None when it is live."""
    if st.state == DELETED:
        row = st.row
        when = f" at {row.deleted_at:%Y-%m-%d %H:%M}" if row.deleted_at else ""
        return f"was deleted in {cell_scope(row.cell)}{when}"
    if st.state == ARCHIVED:
        return f"was deleted and archived to shadow_instances in {cell_scope(st.archived_row.cell)}"
    if st.state == UNKNOWN:
        return "is unknown to the API database and every cell"
    return None
