"""Nova's legacy quota usage rows, read where they still exist.

Before Pike Nova reserved and committed quota through `quota_usages` and `reservations`
in its (cell) database; the API database got the same tables for cells v2.  Since Pike
("counting quotas") Nova counts instances, cores and RAM live and never reads these rows;
a cloud upgraded from an older release may still hold them.  The cell table soft-deletes
(`deleted` = id); the API one has no `deleted` column.
"""

from __future__ import annotations

from sqlalchemy import DateTime, Integer, String, column, literal, select, table

from osfsck.model.facts.nova import API_SCOPE, cell_scope
from osfsck.model.facts.quota import NovaQuotaUsage


def _columns():
    return (
        column("id", Integer),
        column("project_id", String),
        column("user_id", String),
        column("resource", String),
        column("in_use", Integer),
        column("reserved", Integer),
        column("updated_at", DateTime),
    )


api_quota_usages_table = table("quota_usages", *_columns())
cell_quota_usages_table = table("quota_usages", *_columns(), column("deleted", Integer))


def _usages(scope: str, u):
    return select(
        literal(scope), u.c.id, u.c.project_id, u.c.user_id, u.c.resource, u.c.in_use, u.c.reserved, u.c.updated_at
    )


def quota_usages(cell: str | None = None):
    """The API database's rows, or with `cell` the live rows of that cell's database."""
    if cell is None:
        return _usages(API_SCOPE, api_quota_usages_table)
    u = cell_quota_usages_table
    return _usages(cell_scope(cell), u).where(u.c.deleted == 0)


QUOTA_API_KINDS = {NovaQuotaUsage: quota_usages}
QUOTA_CELL_KINDS = {NovaQuotaUsage: quota_usages}
