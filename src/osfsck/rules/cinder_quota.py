"""What Cinder's quota sync counts for a project's usage row."""

from __future__ import annotations

from collections.abc import Iterable

from osfsck.model.facts.quota import CinderCounted

# Cinder's per-volume-type resources: "<prefix><type name>" (cinder/quota.py VolumeTypeResource)
CINDER_TYPE_PREFIXES = ("volumes_", "gigabytes_", "snapshots_")


def cinder_expected(
    counted: Iterable[CinderCounted], resource: str, type_ids: dict[str, str], no_snapshot_gb_quota: bool = False
) -> int | None:
    """What Cinder's quota sync (`_get_sync_updates`, cinder/db/api.py) sets `resource`'s
    in_use to, from one project's CinderCounted rows; None for a resource it does not
    sync (a deleted volume type's, `per_volume_gigabytes`, the retired consistencygroups).
    `type_ids`: the live volume types, {name: id}.  `gigabytes` adds the snapshots' sizes
    unless Cinder runs with no_snapshot_gb_quota."""
    type_id = None
    base = resource
    for prefix in CINDER_TYPE_PREFIXES:
        if resource.startswith(prefix):
            name = resource[len(prefix) :]
            if name not in type_ids:
                return None
            base, type_id = prefix[:-1], type_ids[name]
            break

    def total(table: str, field: str) -> int:
        return sum(
            getattr(c, field) for c in counted if c.table == table and (type_id is None or c.volume_type_id == type_id)
        )

    if base == "volumes":
        return total("volumes", "count")
    if base == "snapshots":
        return total("snapshots", "count")
    if base == "gigabytes":
        return total("volumes", "gigabytes") + (0 if no_snapshot_gb_quota else total("snapshots", "gigabytes"))
    if base == "backups":
        return total("backups", "count")
    if base == "backup_gigabytes":
        return total("backups", "gigabytes")
    if base == "groups":
        return total("groups", "count")
    return None
