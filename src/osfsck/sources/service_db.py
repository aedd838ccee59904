"""A service's own database read in one go (Cinder, Neutron, ...): one scope, one SELECT
per fact kind, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from osfsck.model.cell_slice import KEY_KINDS, NEVER_INSIDE, NONE, SLICED_KINDS, CellKeys, cell_keys
from osfsck.model.facts.base import FactType
from osfsck.model.facts.nova import Cell
from osfsck.model.facts.quota import PER_PROJECT_KINDS, CinderCounted, NeutronCounted
from osfsck.model.result import SourceStatus
from osfsck.model.scope import RunScope
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured, Source, cover_all
from osfsck.sources.db_read import narrowed, read_database
from osfsck.sources.schema_version import VERSION_TABLES

# the kinds read as GROUP BY unions (clients/quota_counts.py), which narrow each part
COUNTED_KINDS = (CinderCounted, NeutronCounted)


class ServiceDatabaseSource(Source):
    """Subclasses set `name`, `provides` (= tuple(KINDS)), `KINDS` ({fact type: SELECT
    factory}), `scope`, `label` ("Cinder database"), `database` (its kind, as
    model/schema_versions names it), `setting` (the config key that names it) and
    `tables` (what it reads, for `osfsck permissions`, besides the version tables); and
    `cells_part` where a --cell run reads a part of it, after `part_requires`."""

    bulk = True
    KINDS: ClassVar[dict]
    scope: ClassVar[str]
    label: ClassVar[str]
    database: ClassVar[str]
    setting: ClassVar[str]
    tables: ClassVar[str]
    part_requires: ClassVar[tuple] = KEY_KINDS

    def __init__(self, settings):
        if settings.database is None:
            raise NotConfigured(f"{self.setting} is not configured")
        self.settings = settings

    def reads(self) -> list[str]:
        return [f"SELECT on the {self.label} ({self.settings.database.redacted()}): {self.tables}, {VERSION_TABLES}"]

    @property
    def within(self) -> RunScope | None:
        return self._within

    @within.setter
    def within(self, scope: RunScope | None) -> None:
        """A --cell run reads what concerns its cells of a database every cell shares: it
        reads the cells' own facts first (`requires`: Nova's source runs before)."""
        self._within = scope
        shared = set(self.KINDS) & (set(SLICED_KINDS) | set(NEVER_INSIDE))
        self.requires = self.part_requires if scope is not None and scope.cells and shared else ()

    _within: RunScope | None = None

    def collect(self, kinds, known: Snapshot, sink: Snapshot, scopes=None) -> list[SourceStatus]:
        if scopes is not None and self.scope not in scopes:
            return []
        statements = {k: self._statement(k, q) for k, q in self.KINDS.items() if k in kinds}
        keys = self._cell_keys(known)
        if keys is None:
            return [
                read_database(
                    self.settings.database.url, statements, sink, self.scope, self.name, self.label, self.database
                )
            ]
        # a --cell run: nothing of the kinds whose rows lie in no cell, a part of those
        # that concern the cells, the rest whole (model/cell_slice.py)
        never = [k for k in statements if NEVER_INSIDE.get(k) == self.scope]
        cover_all(sink, never, self.scope, self.name, True, part=NONE)
        wanted = {k for k in statements if k not in never}
        part = self.cells_part(keys, wanted)
        whole = {k: q for k, q in statements.items() if k in wanted and k not in part}
        return [
            read_database(
                self.settings.database.url,
                {**whole, **part},
                sink,
                self.scope,
                self.name,
                self.label,
                self.database,
                parts=dict.fromkeys(part, keys.part),
                reason=self._said(keys, part, never, whole),
            )
        ]

    def cells_part(self, keys: CellKeys, kinds: set[FactType]) -> dict[FactType, Any]:
        """{fact type: SELECTs} of what a run of `keys.cells` reads of `kinds` as a part
        (model/cell_slice.py); the kinds left out are read whole."""
        return {}

    def _cell_keys(self, known: Snapshot) -> CellKeys | None:
        """What the run's cells name (model/cell_slice.py), or None: read whole."""
        if self.within is None or not self.within.cells or not self.requires:
            return None
        cells = self.within.cells_named((c.name, c.uuid) for c in known.of(Cell))
        return cell_keys(known.facts, known.coverage, cells)

    def _said(self, keys: CellKeys, part: dict, never: list, whole: dict) -> str:
        """The status line's word on what a --cell run read here."""
        said = []
        if part:
            said.append(f"{', '.join(sorted(k.kind for k in part))}: only what concerns {keys.part[6:]}")
        if never:
            said.append(f"{', '.join(sorted(k.kind for k in never))}: not read (no row lies in a cell)")
        rest = sorted(k.kind for k in whole)
        return "; ".join(said + ([f"the rest read whole ({', '.join(rest)})"] if rest and said else []))

    def _statement(self, kind: FactType, query: Callable[..., Any]) -> Any:
        """The SELECT of `kind`, of the run's projects where it is read per project (the
        counted kinds' GROUP BY unions take them as their argument)."""
        projects = self.within.projects if self.within is not None else ()
        if projects and kind in PER_PROJECT_KINDS and kind in COUNTED_KINDS:
            return query(projects)
        return narrowed(kind, query(), self.within)
