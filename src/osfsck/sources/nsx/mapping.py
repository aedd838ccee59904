"""NSX objects as the API returns them -> NsxObject facts (pure: no I/O).

An item that is not of the shape NSX's API schema gives its objects (an object with a
string `id`, `tags` a list of {scope, tag} strings, times in epoch milliseconds) raises
NsxShapeError, the one error of this mapping: the NSX source then leaves its scope
partial rather than judge a list it could not read whole.
"""

from __future__ import annotations

import datetime as dt
import math

from osfsck.model.facts.nsx import (
    API_VERSION_SCOPE,
    MANAGER_INTERNAL_NAMES,
    NEUTRON_TAG_SCOPES,
    NSX_SCOPE,
    PLUGIN_SCOPE,
    PLUGIN_TAG,
    POLICY,
    POLICY_INTERNAL_IDS,
    PROJECT_ID_SCOPE,
    NsxObject,
)

_EPOCH = dt.datetime(1970, 1, 1)
# datetime's range in ms since the epoch: later or earlier is no time NSX wrote
_MAX_MS = (dt.datetime.max - _EPOCH).total_seconds() * 1000
_MIN_MS = (dt.datetime.min - _EPOCH).total_seconds() * 1000


class NsxShapeError(ValueError):
    """An item of an NSX list that is not an NSX object of the documented shape; one line."""


def from_epoch_ms(value) -> dt.datetime | None:
    """NSX's `_create_time` / `_last_modified_time` (milliseconds since the epoch) as naive
    UTC; None when absent; NsxShapeError when it is no such time."""
    if value is None:
        return None
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not _MIN_MS <= value <= _MAX_MS
    ):
        raise NsxShapeError(f"{str(value)[:40]!r} is not a time in epoch milliseconds")
    return _EPOCH + dt.timedelta(milliseconds=value)


def _where(oid: str) -> str:
    # only made for an error: tens of thousands of objects are read per run
    return f"object {oid[:80]!r}"


def _text(obj: dict, key: str, oid: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise NsxShapeError(f"{_where(oid)}: {key} is a {type(value).__name__}, not text")
    return value


def object_id(obj) -> str:
    """The object's `id`; NsxShapeError for an item with none."""
    if not isinstance(obj, dict):
        raise NsxShapeError(f"a list item is a {type(obj).__name__}, not an object")
    oid = obj.get("id")
    if not isinstance(oid, str) or not oid:
        raise NsxShapeError(f"an object without an id (id {str(oid)[:40]!r})")
    return oid


def manager_parent(obj) -> str | None:
    """A Manager API logical port's switch (`logical_switch_id`), None for other objects."""
    oid = object_id(obj)
    return _text(obj, "logical_switch_id", oid)


def to_fact(api: str, obj, parent_id: str | None, deployment: tuple | None) -> NsxObject:
    """One object; `deployment` is (tag scope, accepted values) or None (no restriction)."""
    oid = object_id(obj)
    kind = neutron_id = version = project = None
    internal = False
    mine = deployment is None
    tags = obj.get("tags")
    if tags is None:
        tags = ()
    elif not isinstance(tags, list):
        raise NsxShapeError(f"{_where(oid)}: tags are not a list of {{scope, tag}}")
    for t in tags:  # checked here, not in a helper: some 150,000 tags for 25,000 objects
        if not isinstance(t, dict):
            raise NsxShapeError(f"{_where(oid)}: tags are not a list of {{scope, tag}}")
        scope, tag = t.get("scope"), t.get("tag")
        if not (scope is None or isinstance(scope, str)) or not (tag is None or isinstance(tag, str)):
            for key in ("scope", "tag"):
                _text(t, key, oid)  # raises, naming which
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
    name = _text(obj, "display_name", oid)
    if api == POLICY:
        internal = internal or oid in POLICY_INTERNAL_IDS
    else:
        internal = internal or name in MANAGER_INTERNAL_NAMES
    revision = obj.get("_revision", 0)
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
        raise NsxShapeError(f"{_where(oid)}: _revision {str(revision)[:40]!r} is not a revision number")
    try:
        created, updated = from_epoch_ms(obj.get("_create_time")), from_epoch_ms(obj.get("_last_modified_time"))
    except NsxShapeError as e:
        raise NsxShapeError(f"{_where(oid)}: {e}") from None
    return NsxObject(
        NSX_SCOPE,
        api,
        _text(obj, "resource_type", oid) or "",
        oid,
        name,
        _text(obj, "path", oid),
        parent_id,
        kind,
        neutron_id,
        version,
        project,
        internal,
        not mine,
        bool(obj.get("attachment")),
        revision,
        created,
        updated,
    )
