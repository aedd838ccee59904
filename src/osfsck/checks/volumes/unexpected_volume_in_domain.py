from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.domains import domain_ref, domains_by_uuid, is_nova_domain
from osfsck.checks.evidence import instance_evidence, volume_evidence
from osfsck.checks.instance_index import UNDECIDED, instance_ref
from osfsck.checks.volumes.common import MIN_AGE, domain_volume_ref, volume_index, volume_ref
from osfsck.model.facts.cinder import CinderAttachment, CinderService, CinderVolume
from osfsck.model.facts.hypervisor import Domain, DomainVolume
from osfsck.model.facts.nova import (
    ArchivedInstance,
    BlockDeviceMapping,
    Cell,
    Instance,
    InstanceMapping,
    Migration,
)
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot


class UnexpectedVolumeInDomainEvidence(TypedDict):
    """What every VL202 finding's evidence holds."""

    disk: dict[str, Any]
    instance: dict[str, Any]
    mapped_volumes: list[str]
    volume: dict[str, Any] | None


class UnexpectedVolumeInDomain(Check):
    """A Nova domain has a volume disk that none of its instance's mappings names.

    Why it matters:
        The guest reads and writes a volume that Nova does not know it has: a detach that
        was recorded but never reached libvirt.  Cinder may give that volume to another
        instance (two writers on one disk corrupt it), delete it under the running guest,
        or count it free.  The next hard reboot silently drops the disk from the guest.

    How it is detected:
        Every disk with a `<serial>` (Nova sets it to the Cinder volume id) in a domain
        that carries Nova's metadata or name, whose instance is live, is looked up among
        that instance's live block device mappings in its cell.  A serial no mapping
        names is unexpected.  The cell's mappings must have been read completely.

    Known false positives:
        Instances with a task_state or a migration in progress are skipped, as are
        instances whose mappings changed in the last `min_age` (default 10 min): a swap
        (volume migration) changes the disk first and the mapping after.  Volumes being
        migrated (migration_status set) are skipped.  Domains of deleted instances are
        zombie-domain's business.

    Repair:
        A runbook: confirm with Cinder whose volume it is, then detach the disk with
        `virsh detach-disk`, or attach it properly through Nova.
    """

    code = "VL202"
    evidence_shape = UnexpectedVolumeInDomainEvidence
    name = "unexpected-volume-in-domain"
    severity = Severity.HIGH
    needs = (
        DomainVolume,
        Domain,
        BlockDeviceMapping,
        CinderVolume,
        CinderAttachment,
        CinderService,
        Instance,
        ArchivedInstance,
        InstanceMapping,
        Cell,
        Migration,
    )
    relies_on = (BlockDeviceMapping,)
    repairs = ("unexpected-volume-runbook",)
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        vx = volume_index(snap)
        idx = vx.instances
        min_age = float(self.params["min_age"])
        domains = domains_by_uuid(snap)
        if vx.disks:
            vx.undecided(out, vx.nova_gaps(), walked=True)  # a disk's guest, or its mapping, may be there
        for (host, uuid), disks in vx.disks.items():
            dom = next((d for d in domains.get(uuid, ()) if d.host == host), None)
            if dom is None or not is_nova_domain(dom):
                continue
            ref = domain_ref(dom)
            row = idx.primary(uuid)
            if row is None:  # its guest, unless known gone, may be live in a cell not read
                if idx.status(uuid).state == UNDECIDED:
                    vx.undecided(out, vx.nova_gaps(), ref)
                continue
            out.examine(len(disks))
            if row.task_state or idx.in_progress_migrations(uuid):
                continue
            gap = vx.instance_gap(uuid, (Instance, Migration, BlockDeviceMapping))
            if gap:
                out.inconclusive(*gap, ref)
                continue
            bdms = [b for b in vx.bdms_of_instance.get(uuid, ()) if b.cell == row.cell]
            if any(recent(snap, b.updated_at or b.created_at, min_age) for b in bdms):
                continue
            mapped = {b.volume_id for b in bdms}
            for serial, disk in sorted(disks.items()):
                vol = vx.volumes.get(serial)
                if serial in mapped or (vol is not None and vol.migration_status):
                    continue
                what = f"Cinder shows it {vol.status}" if vol else "Cinder does not know it"
                out.found(
                    domain_volume_ref(host, uuid, serial),
                    f"Domain {dom.name} of instance {uuid} on {host} has disk {disk.target_dev} with serial {serial}, "
                    f"which no block device mapping of the instance names ({what}; {uuid}/{serial}).",
                    related=[instance_ref(uuid, row.cell), volume_ref(serial)],
                    evidence={
                        "disk": disk._asdict(),
                        "instance": instance_evidence(row),
                        "volume": volume_evidence(vol) if vol else None,
                        "mapped_volumes": sorted(v for v in mapped if v),
                    },
                )
