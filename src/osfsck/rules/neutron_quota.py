"""Whether Neutron reads its `quotausages` rows: only its legacy quota driver does.

`DbQuotaDriver` (neutron/db/quota/driver.py) trusts `quotausages.in_use` until a row is
marked dirty.  `DbQuotaNoLockDriver` (driver_nolock.py: `make_reservation` and
`get_resource_count` count the resource's rows, `TrackedResource` stops tracking events)
and `DbQuotaDriverNull` neither read nor write the table.  The no-lock driver is the
default from neutron 19.0.0 (Xena; commit e135a8221d, "New Quota driver
DbQuotaNoLockDriver"): a cloud upgraded from an older release keeps its old rows, which
drift and mean nothing."""

from __future__ import annotations

from typing import NamedTuple

from osfsck.model.schema_versions import Placed, release_index

LEGACY_DRIVER = "neutron.db.quota.driver.DbQuotaDriver"
FIRST_NO_LOCK_DEFAULT = "xena"


class UsageRowsRead(NamedTuple):
    """`reads`: True (Neutron trusts the rows), False (it ignores them), None (unknown);
    `why`: the reason, for findings and notes."""

    reads: bool | None
    why: str


def neutron_reads_usages(driver: str | None, schema: Placed | None) -> UsageRowsRead:
    """`driver`: the configured quota_driver (None: not configured); `schema`: the Neutron
    database's schema as placed among the releases (None: not read)."""
    if driver is not None:
        # Neutron imports the class path (importutils.import_class): its last name decides
        legacy = driver.rsplit(".", 1)[-1] == "DbQuotaDriver"
        return UsageRowsRead(legacy, f"Neutron's quota_driver is {driver}")
    position = schema.position if schema is not None else None
    if position is None:
        return UsageRowsRead(None, "Neutron's quota driver is not configured here and its schema's release is unknown")
    first = release_index(FIRST_NO_LOCK_DEFAULT)
    if position.low >= first:
        return UsageRowsRead(
            False, f"Neutron's default quota driver from Xena on is DbQuotaNoLockDriver (schema {position.text})"
        )
    if position.high < first:
        return UsageRowsRead(
            True, f"Neutron's default quota driver before Xena is DbQuotaDriver (schema {position.text})"
        )
    return UsageRowsRead(
        None, f"Neutron's default quota driver changed in Xena, within its schema's range {position.text}"
    )
