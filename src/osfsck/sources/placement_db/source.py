"""Placement's database, read-only: resource providers, inventories, allocations and
consumers, in one scope ("placement"), all or nothing."""

from __future__ import annotations

from osfsck.model.facts.placement import PLACEMENT_SCOPE
from osfsck.sources.placement_db import queries
from osfsck.sources.service_db import ServiceDatabaseSource


class PlacementDatabaseSource(ServiceDatabaseSource):
    name = "placement-db"
    settings_attr = "placement"
    KINDS = queries.KINDS
    provides = tuple(queries.KINDS)
    scope = PLACEMENT_SCOPE
    label = "Placement database"
    database = "placement"
    setting = "[placement] database (or placement_conf)"
    tables = (
        "resource_providers, inventories, allocations, consumers, consumer_types, projects, users, resource_classes"
    )

    def cells_part(self, keys, kinds):
        return queries.cells_part(keys, kinds)
