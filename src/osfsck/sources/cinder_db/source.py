"""Cinder's database, read-only: volumes, attachments and services; quota usage rows,
reservations, and what the usage counts (COUNT/SUM per project and volume type)."""

from __future__ import annotations

from osfsck.model.cell_slice import HOST_KEY_KINDS, KEY_KINDS
from osfsck.model.facts.cinder import CINDER_SCOPE
from osfsck.sources.cinder_db import queries
from osfsck.sources.service_db import ServiceDatabaseSource


class CinderDatabaseSource(ServiceDatabaseSource):
    name = "cinder-db"
    settings_attr = "cinder"
    KINDS = queries.KINDS
    provides = tuple(queries.KINDS)
    scope = CINDER_SCOPE
    label = "Cinder database"
    database = "cinder"
    setting = "[cinder] database (or cinder_conf)"
    tables = (
        "volumes, volume_attachment, services, volume_types, quota_usages, reservations, snapshots, backups, groups"
    )
    # a --cell run reads its volumes after the hosts too: their disks and sessions name some
    part_requires = (*KEY_KINDS, *HOST_KEY_KINDS)

    def cells_part(self, keys, kinds):
        return queries.cells_part(keys, kinds)
