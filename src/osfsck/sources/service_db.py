"""A service's own database read in one go (Cinder, Neutron, ...): one scope, one SELECT
per fact kind, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from osfsck.model.facts.base import FactType
from osfsck.model.facts.quota import PER_PROJECT_KINDS, CinderCounted, NeutronCounted
from osfsck.model.result import SourceStatus
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured, Source
from osfsck.sources.db_read import narrowed, read_database
from osfsck.sources.schema_version import VERSION_TABLES

# the kinds read as GROUP BY unions (clients/quota_counts.py), which narrow each part
COUNTED_KINDS = (CinderCounted, NeutronCounted)


class ServiceDatabaseSource(Source):
    """Subclasses set `name`, `provides` (= tuple(KINDS)), `KINDS` ({fact type: SELECT
    factory}), `scope`, `label` ("Cinder database"), `database` (its kind, as
    model/schema_versions names it), `setting` (the config key that names it) and
    `tables` (what it reads, for `osfsck permissions`, besides the version tables)."""

    bulk = True
    KINDS: ClassVar[dict]
    scope: ClassVar[str]
    label: ClassVar[str]
    database: ClassVar[str]
    setting: ClassVar[str]
    tables: ClassVar[str]

    def __init__(self, settings):
        if settings.database is None:
            raise NotConfigured(f"{self.setting} is not configured")
        self.settings = settings

    def reads(self) -> list[str]:
        return [f"SELECT on the {self.label} ({self.settings.database.redacted()}): {self.tables}, {VERSION_TABLES}"]

    def collect(self, kinds, known: Snapshot, sink: Snapshot, scopes=None) -> list[SourceStatus]:
        if scopes is not None and self.scope not in scopes:
            return []
        statements = {k: self._statement(k, q) for k, q in self.KINDS.items() if k in kinds}
        url = self.settings.database.url
        return [read_database(url, statements, sink, self.scope, self.name, self.label, self.database)]

    def _statement(self, kind: FactType, query: Callable[..., Any]) -> Any:
        """The SELECT of `kind`, of the run's projects where it is read per project (the
        counted kinds' GROUP BY unions take them as their argument)."""
        projects = self.within.projects if self.within is not None else ()
        if projects and kind in PER_PROJECT_KINDS and kind in COUNTED_KINDS:
            return query(projects)
        return narrowed(kind, query(), self.within)
