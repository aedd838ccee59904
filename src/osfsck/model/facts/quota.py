"""Facts of quota accounting: usage rows, reservations and what they count (issue 5).

Cinder keeps reservation-style quotas: `quota_usages` (in_use, reserved) per project and
resource, moved by `reservations` that are committed or rolled back.  Neutron's legacy
quota driver keeps `quotausages` with a `dirty` flag.  Nova has counted usage live since
Pike; its `quota_usages` rows are leftovers of older releases.

What a usage row should say is not read object by object: the sources read COUNT and SUM
per project (and volume type) with GROUP BY, the way each service counts, into the
`*Counted` facts below.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from osfsck.model.facts.base import fact_type


@fact_type("quota.cinder_usage", scope_field="scope")
class CinderQuotaUsage(NamedTuple):
    """A live (not soft-deleted) row of Cinder's `quota_usages`."""

    scope: str  # "cinder"
    id: int
    project_id: str | None
    resource: str  # volumes, gigabytes, snapshots, backups, volumes_<type name>, ...
    in_use: int
    reserved: int
    updated_at: dt.datetime | None
    created_at: dt.datetime | None


@fact_type("quota.cinder_reservation", scope_field="scope")
class CinderReservation(NamedTuple):
    """A live row of Cinder's `reservations`: a delta not yet committed or rolled back."""

    scope: str
    id: int
    uuid: str
    usage_id: int | None
    project_id: str | None
    resource: str | None
    delta: int
    expire: dt.datetime | None
    created_at: dt.datetime | None


@fact_type("quota.cinder_counted", scope_field="scope")
class CinderCounted(NamedTuple):
    """What Cinder's quota sync would count in one table for one project and volume type
    (cinder.db.api `_volume_data_get_for_project` and its siblings): live rows with
    use_quota set, their number and their size.  `last_updated`/`last_deleted` cover every
    row of the group, counted or not, to tell an operation in flight."""

    scope: str
    table: str  # "volumes", "snapshots", "backups", "groups"
    project_id: str | None
    volume_type_id: str | None  # the volume's type (a snapshot's: its volume's); None for backups, groups
    count: int  # type: ignore[assignment]  # the column's name; it hides tuple.count, which nothing calls
    gigabytes: int
    last_updated: dt.datetime | None
    last_deleted: dt.datetime | None


@fact_type("quota.neutron_usage", scope_field="scope")
class NeutronQuotaUsage(NamedTuple):
    """A row of Neutron's `quotausages` (primary key project_id, resource)."""

    scope: str  # "neutron"
    project_id: str
    resource: str  # network, subnet, port, router, floatingip, security_group, ...
    in_use: int
    reserved: int
    dirty: int  # 1: Neutron recounts it on the project's next request


@fact_type("quota.neutron_driver", scope_field="scope")
class NeutronQuotaDriver(NamedTuple):
    """The quota driver Neutron runs (`[quotas] quota_driver`, a class path), as osfsck's
    config says it: `[neutron] quota_driver` or the neutron_conf files.  No such fact:
    not configured, and the default of the Neutron schema's release applies."""

    scope: str  # "neutron"
    driver: str


@fact_type("quota.neutron_reservation", scope_field="scope")
class NeutronReservation(NamedTuple):
    """A row of Neutron's `reservations` (its deltas are in `resourcedeltas`)."""

    scope: str
    id: str
    project_id: str | None
    expiration: dt.datetime | None


@fact_type("quota.neutron_counted", scope_field="scope")
class NeutronCounted(NamedTuple):
    """How many rows of a tracked resource's table a project owns: what
    TrackedResource.count_used counts (neutron/quota/resource.py)."""

    scope: str
    resource: str
    project_id: str | None
    count: int  # type: ignore[assignment]  # the column's name; it hides tuple.count, which nothing calls


@fact_type("quota.nova_usage", scope_field="scope")
class NovaQuotaUsage(NamedTuple):
    """A live row of Nova's `quota_usages`, in the API database or a cell database: a
    leftover of the reservation quotas Nova dropped in Pike."""

    scope: str  # "api" or "cell:<name>"
    id: int
    project_id: str | None
    user_id: str | None
    resource: str  # instances, cores, ram, ...
    in_use: int
    reserved: int
    updated_at: dt.datetime | None


# how the checks name a usage row and a reservation: "<service>/<project>/<resource>"
def usage_subject(service: str, project_id: str | None, resource: str) -> str:
    return f"{service}/{project_id or ''}/{resource}"


def reservation_subject(service: str, reservation_id: object) -> str:
    return f"{service}/{reservation_id}"


# Neutron's tracked resources and the tables their models map to (ML2's and the L3 plugin's
# @resource_registry.tracked_resources, neutron/plugins/ml2/plugin.py, l3_router_plugin.py)
NEUTRON_TRACKED = {
    "network": "networks",
    "subnet": "subnets",
    "port": "ports",
    "subnetpool": "subnetpools",
    "security_group": "securitygroups",
    "security_group_rule": "securitygrouprules",
    "router": "routers",
    "floatingip": "floatingips",
}


# Kinds every check reading them judges within one project (a project's usage rows against
# its counts, its reservations): a run scoped to projects (`--project`) reads only their
# rows, in SQL, and each of those projects stays complete.
PER_PROJECT_KINDS = (
    CinderQuotaUsage,
    CinderReservation,
    CinderCounted,
    NeutronQuotaUsage,
    NeutronReservation,
    NeutronCounted,
    NovaQuotaUsage,
)
