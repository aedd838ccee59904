"""NSX objects as the API returns them -> NsxObject facts (pure: no I/O)."""

from __future__ import annotations

import datetime as dt

from osfsck.model.facts.nsx import (
    API_VERSION_SCOPE, MANAGER_INTERNAL_NAMES, NEUTRON_TAG_SCOPES, NSX_SCOPE, PLUGIN_SCOPE, PLUGIN_TAG, POLICY,
    POLICY_INTERNAL_IDS, PROJECT_ID_SCOPE, NsxObject,
)

_EPOCH = dt.datetime(1970, 1, 1)


def from_epoch_ms(value) -> dt.datetime | None:
    """NSX's `_create_time` / `_last_modified_time` (milliseconds since the epoch) as naive UTC."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return _EPOCH + dt.timedelta(milliseconds=value)


def to_fact(api: str, obj: dict, parent_id: str | None, deployment: tuple | None) -> NsxObject:
    """One object; `deployment` is (tag scope, accepted values) or None (no restriction)."""
    kind = neutron_id = version = project = None
    internal = False
    mine = deployment is None
    for t in obj.get("tags") or ():
        scope, tag = t.get("scope"), t.get("tag")
        if scope in NEUTRON_TAG_SCOPES and kind is None and tag:
            kind, neutron_id = NEUTRON_TAG_SCOPES[scope], tag
        elif scope == API_VERSION_SCOPE:
            version = tag
        elif scope == PROJECT_ID_SCOPE:
            project = tag or None
        elif scope == PLUGIN_SCOPE and tag == PLUGIN_TAG:
            internal = True
        if deployment is not None and scope == deployment[0] and tag in deployment[1]:
            mine = True
    oid = str(obj.get("id"))
    name = obj.get("display_name")
    if api == POLICY:
        internal = internal or oid in POLICY_INTERNAL_IDS
    else:
        internal = internal or name in MANAGER_INTERNAL_NAMES
    revision = obj.get("_revision")
    return NsxObject(
        NSX_SCOPE, api, str(obj.get("resource_type") or ""), oid, name, obj.get("path"), parent_id,
        kind, neutron_id, version, project, internal, not mine, bool(obj.get("attachment")),
        revision if isinstance(revision, int) else 0,
        from_epoch_ms(obj.get("_create_time")), from_epoch_ms(obj.get("_last_modified_time")))
