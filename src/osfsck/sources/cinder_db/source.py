"""Cinder's database, read-only: volumes, attachments and services."""

from __future__ import annotations

from osfsck.config.settings import CinderSettings
from osfsck.model.facts.cinder import CINDER_SCOPE
from osfsck.model.result import SourceStatus
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import NotConfigured, Source
from osfsck.sources.cinder_db import queries
from osfsck.sources.db_read import read_database


class CinderDatabaseSource(Source):
    name = "cinder-db"
    provides = tuple(queries.KINDS)
    stage = 0
    bulk = True

    def __init__(self, settings: CinderSettings):
        if settings.database is None:
            raise NotConfigured("[cinder] database (or cinder_conf) is not configured")
        self.settings = settings

    def reads(self) -> list[str]:
        return [f"SELECT on the Cinder database ({self.settings.database.redacted()}): "
                "volumes, volume_attachment, services"]

    def collect(self, kinds, known: Snapshot, sink: Snapshot, scopes=None) -> list[SourceStatus]:
        if scopes is not None and CINDER_SCOPE not in scopes:
            return []
        statements = {k: q() for k, q in queries.KINDS.items() if k in kinds}
        return [read_database(self.settings.database.url, statements, sink, CINDER_SCOPE, self.name,
                              "Cinder database")]
