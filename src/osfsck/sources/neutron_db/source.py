"""Neutron's database, read-only: networks, subnets, ports and their bindings and
addresses, floating IPs, routers, security groups; quota usage rows, reservations and
the number of rows each project owns of every tracked resource (COUNT per project)."""

from __future__ import annotations

from osfsck.model.facts.base import kind_of
from osfsck.model.facts.neutron import NEUTRON_SCOPE
from osfsck.model.facts.quota import NeutronQuotaDriver
from osfsck.sources.neutron_db import queries
from osfsck.sources.service_db import ServiceDatabaseSource


class NeutronDatabaseSource(ServiceDatabaseSource):
    name = "neutron-db"
    settings_attr = "neutron"
    KINDS = queries.KINDS
    provides = (*queries.KINDS, NeutronQuotaDriver)  # the driver: from the config, not a table
    scope = NEUTRON_SCOPE
    label = "Neutron database"
    database = "neutron"
    setting = "[neutron] database (or neutron_conf)"
    tables = (
        "networks, subnets, ports, portdnses, ml2_port_bindings, ipallocations, floatingips, routers, "
        "routerports, securitygroups, securitygrouprules, securitygroupportbindings, standardattributes, "
        "subnetpools, quotausages, reservations"
    )

    def cells_part(self, keys, kinds):
        return queries.cells_part(keys, kinds)

    def collect(self, kinds, known, sink, scopes=None):
        statuses = super().collect(kinds, known, sink, scopes)
        # the quota driver is configuration, not a row: said beside the rows it decides about
        if statuses and NeutronQuotaDriver in kinds and self.settings.quota_driver is not None:
            sink.add(kind_of(NeutronQuotaDriver), [NeutronQuotaDriver(NEUTRON_SCOPE, self.settings.quota_driver)])
        return statuses
