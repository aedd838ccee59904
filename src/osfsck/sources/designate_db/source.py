"""Designate's database, read-only: the A, AAAA and PTR records of its live zones, with
what designate-sink made each for (managed_resource_type/id)."""

from __future__ import annotations

from osfsck.model.facts.dns import DESIGNATE_SCOPE
from osfsck.sources.designate_db import queries
from osfsck.sources.service_db import ServiceDatabaseSource


class DesignateDatabaseSource(ServiceDatabaseSource):
    name = "designate-db"
    settings_attr = "designate"
    KINDS = queries.KINDS
    provides = tuple(queries.KINDS)
    scope = DESIGNATE_SCOPE
    label = "Designate database"
    database = "designate"
    setting = "[designate] database (or designate_conf)"
    tables = "zones, recordsets, records"
