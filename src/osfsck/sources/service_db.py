"""A service's own database read in one go (Cinder, Neutron, ...): one scope, one SELECT
per fact kind, all or nothing."""

from __future__ import annotations

from typing import ClassVar

from osfsck.model.result import SourceStatus
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured, Source
from osfsck.sources.db_read import read_database


class ServiceDatabaseSource(Source):
    """Subclasses set `name`, `provides` (= tuple(KINDS)), `KINDS` ({fact type: SELECT
    factory}), `scope`, `label` ("Cinder database"), `setting` (the config key that names
    it) and `tables` (what it reads, for `osfsck permissions`)."""

    stage = 0
    bulk = True
    KINDS: ClassVar[dict]
    scope: ClassVar[str]
    label: ClassVar[str]
    setting: ClassVar[str]
    tables: ClassVar[str]

    def __init__(self, settings):
        if settings.database is None:
            raise NotConfigured(f"{self.setting} is not configured")
        self.settings = settings

    def reads(self) -> list[str]:
        return [f"SELECT on the {self.label} ({self.settings.database.redacted()}): {self.tables}"]

    def collect(self, kinds, known: Snapshot, sink: Snapshot, scopes=None) -> list[SourceStatus]:
        if scopes is not None and self.scope not in scopes:
            return []
        statements = {k: q() for k, q in self.KINDS.items() if k in kinds}
        return [read_database(self.settings.database.url, statements, sink, self.scope, self.name, self.label)]
