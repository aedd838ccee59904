"""What the volume checks share: references, ages, and the instance an object belongs to."""

from __future__ import annotations

from osfsck.checks.base import CheckOutput
from osfsck.checks.instance_index import InstanceIndex
from osfsck.checks.volumes.volume_index import VolumeIndex, volume_index
from osfsck.model.facts.cinder import CINDER_SCOPE
from osfsck.model.facts.hypervisor import host_scope
from osfsck.model.facts.nova import Instance
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot

# the grace for a volume operation in flight: attach and detach finish in seconds
MIN_AGE = 600


def volume_ref(volume_id: str) -> ObjectRef:
    return ObjectRef("volume", volume_id, CINDER_SCOPE)


def attachment_ref(attachment_id: str) -> ObjectRef:
    return ObjectRef("volume-attachment", attachment_id, CINDER_SCOPE)


def domain_volume_ref(host: str, domain_uuid: str, volume_id: str) -> ObjectRef:
    """A volume as a disk of one domain: "<domain uuid>/<volume id>" on its host."""
    return ObjectRef("domain-volume", f"{domain_uuid}/{volume_id}", host_scope(host))


# vm_states whose guest is not (yet, or any more) on a host with its disks connected
_NOT_SETTLED = frozenset({"shelved_offloaded", "building", "deleted", "soft-delete"})


def settled_on_host(idx: InstanceIndex, uuid: str) -> Instance | None:
    """The live row of an instance whose guest should be on its host with every volume
    connected: no task in flight, no migration in progress.  None otherwise."""
    row = idx.primary(uuid)
    if row is None or not row.host or row.task_state or row.vm_state in _NOT_SETTLED:
        return None
    if idx.in_progress_migrations(uuid):
        return None
    return row


def with_cinder(snap: Snapshot, out: CheckOutput) -> VolumeIndex | None:
    """The volume index, or None after recording Cinder inconclusive: every check that
    needs Cinder's word on an attachment cannot decide without all of it."""
    vx = volume_index(snap)
    if not vx.cinder_complete:
        out.inconclusive(CINDER_SCOPE, vx.cinder_reason())
        return None
    return vx
