from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, scope_complete
from osfsck.checks.quotas.common import cinder_usage_evidence, cinder_usages_by_key, usage_ref
from osfsck.model.facts.cinder import CINDER_SCOPE
from osfsck.model.facts.quota import CinderQuotaUsage
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot


class DuplicateQuotaUsageEvidence(TypedDict):
    """What every QU103 finding's evidence holds."""

    usages: list[dict[str, Any]]
    no_snapshot_gb_quota: bool  # how the repair recounts gigabytes (as QU101's setting)


class DuplicateQuotaUsage(Check):
    """A Cinder project has two live quota usage rows for one resource.

    Why it matters:
        Two concurrent first reservations of a project could each insert a usage row
        (Cinder bug 1484343).  Cinder then reads one or the other: the count is split
        between them, reservations name either, and the project's usage shown by the API
        is wrong.  The race_preventer unique constraint (Train) stops new duplicates but
        leaves the old ones (their race_preventer is NULL).

    How it is detected:
        Live (not soft-deleted) `quota_usages` rows grouped by project and resource: more
        than one in a group.  Neutron's `quotausages` cannot have duplicates (its primary
        key is project and resource), and Nova's leftover rows are not used.

    Known false positives:
        None known: a soft-deleted row beside a live one is not read; the per-type
        resources (`volumes_<type>`) are rows of their own, as are other projects' rows.

    Repair:
        `recompute-quota-usage` (safe) merges them as `cinder-manage quota sync` does:
        in one transaction holding the project's rows, the reservations of the extra rows
        are moved to the row with the lowest id, the extra rows soft-deleted (deleted,
        deleted_at, race_preventer NULL) and the kept row recounted (its gigabytes without
        the snapshots' when Cinder runs with `no_snapshot_gb_quota`: set that here too).  `osfsck undo` puts
        every row back as it was, conditionally.
    """

    code = "QU103"
    evidence_shape = DuplicateQuotaUsageEvidence
    name = "duplicate-quota-usage"
    severity = Severity.MEDIUM
    needs = (CinderQuotaUsage,)
    relies_on = (CinderQuotaUsage,)
    repairs = ("recompute-quota-usage",)
    # Cinder's [DEFAULT] no_snapshot_gb_quota: the kept row's gigabytes are recounted
    # without the snapshots' (set it as for QU101)
    defaults = {"no_snapshot_gb_quota": False}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        if not scope_complete(snap, out, CINDER_SCOPE, (CinderQuotaUsage,)):
            return
        for (project, resource), rows in cinder_usages_by_key(snap).items():
            out.examine()
            if len(rows) < 2:
                continue
            changed = max((u.updated_at for u in rows if u.updated_at), default=None)
            ref = usage_ref("cinder", project, resource, CINDER_SCOPE)
            out.found(
                ref,
                f"Cinder quota usage {ref.id} has {len(rows)} live rows (ids {', '.join(str(u.id) for u in rows)}).",
                evidence={
                    "usages": [cinder_usage_evidence(u) for u in rows],
                    "no_snapshot_gb_quota": bool(self.params["no_snapshot_gb_quota"]),
                },
                changed_at=changed,
            )
