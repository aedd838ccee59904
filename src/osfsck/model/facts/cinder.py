"""Facts read from Cinder's database.  Its soft delete is a boolean, not Nova's marker;
flags stay as stored (0/1), as in every bulk-read fact."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from osfsck.model.facts.base import fact_type

CINDER_SCOPE = "cinder"
# Attachment states that no longer hold the volume: Cinder's detach leaves "detached" on the
# soft-deleted row, attachment_destroy "deleted"; a live row with one is a detach mid-way.
ATTACHMENT_GONE = frozenset({"detached", "deleted"})
# one path of an iSCSI connection_info as os-brick connects it: (portal or None, target
# IQN, the LUN as the kernel numbers it or None); sources/connection_info.py reads them
IscsiPath = tuple[str | None, str, int | None]


@fact_type("cinder.volume", scope_field="scope")
class CinderVolume(NamedTuple):
    """A row of `volumes`, soft-deleted ones included (a BDM may still name them)."""

    scope: str
    id: str
    status: str | None  # available, in-use, attaching, detaching, reserved, ...
    attach_status: str | None  # attached, detached, attaching, detaching, ...
    migration_status: str | None  # set while migrating or retyping
    host: str | None  # "host@backend#pool"
    project_id: str | None
    size: int | None
    multiattach: int | None
    use_quota: int | None  # 0 for a migration's temporary volume
    deleted: int
    updated_at: dt.datetime | None


@fact_type("cinder.attachment", scope_field="scope", retired=("connection_info",))
class CinderAttachment(NamedTuple):
    """A row of `volume_attachment`, soft-deleted ones included.  `iscsi_paths` is what
    os-brick would connect from its connection_info (sources/connection_info.py); the JSON
    text itself is not kept, as a block device mapping's is not (model/facts/nova.py): no
    check reads more of it, and redacting its CHAP credentials attachment by attachment was
    most of the time to read Cinder at L (2.8 s of 0.8 s without)."""

    scope: str
    id: str
    volume_id: str
    instance_uuid: str | None
    attached_host: str | None
    attach_status: str | None  # attached, attaching, detached, reserved, error_attaching, ...
    iscsi_paths: tuple[IscsiPath, ...]
    deleted: int
    updated_at: dt.datetime | None


@fact_type("cinder.service", scope_field="scope")
class CinderService(NamedTuple):
    """A live row of Cinder's `services` (cinder-volume, cinder-scheduler, ...)."""

    scope: str
    host: str
    binary: str
    disabled: int
    updated_at: dt.datetime | None


@fact_type("cinder.volume_type", scope_field="scope")
class CinderVolumeType(NamedTuple):
    """A live row of `volume_types`: its name makes the per-type quota resources
    (`volumes_<name>`, `gigabytes_<name>`, `snapshots_<name>`)."""

    scope: str
    id: str
    name: str | None
