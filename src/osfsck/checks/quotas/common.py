"""What the quota checks share: how they name a usage row and a reservation, and the
grace for an operation in flight."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from osfsck.model.facts.quota import CinderQuotaUsage, reservation_subject, usage_subject
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

# A volume create reserves, writes the volume row, then commits the reservation into
# in_use a few seconds later: between the two the row and the count disagree.  Half an
# hour, like the repairs' grace: a drift younger than that would not be repaired anyway.
MIN_AGE = 1800


def usage_ref(service: str, project_id: str | None, resource: str, scope: str) -> ObjectRef:
    return ObjectRef("quota-usage", usage_subject(service, project_id, resource), scope)


def reservation_ref(service: str, reservation_id: object, scope: str) -> ObjectRef:
    return ObjectRef("quota-reservation", reservation_subject(service, reservation_id), scope)


def cinder_usages_by_key(snap: Snapshot) -> dict[tuple[str | None, str], list[CinderQuotaUsage]]:
    """Cinder's live usage rows by (project, resource), each list by row id."""
    by_key: dict[tuple[str | None, str], list[CinderQuotaUsage]] = defaultdict(list)
    for u in snap.of(CinderQuotaUsage):
        by_key[(u.project_id, u.resource)].append(u)
    for rows in by_key.values():
        rows.sort(key=lambda u: u.id)
    return by_key


def cinder_usage_evidence(u: Any) -> dict[str, Any]:
    return {
        "id": u.id,
        "project_id": u.project_id,
        "resource": u.resource,
        "in_use": u.in_use,
        "reserved": u.reserved,
        "updated_at": u.updated_at.isoformat() if u.updated_at else None,
    }
