from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput, recent
from osfsck.checks.domains import domains_by_uuid
from osfsck.checks.evidence import attachment_evidence, bdm_evidence, instance_evidence
from osfsck.checks.instance_index import instance_ref
from osfsck.checks.volumes.common import MIN_AGE, attachment_ref, domain_volume_ref, settled_on_host, with_cinder
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


class VolumeMissingFromDomainEvidence(TypedDict):
    """What every VL201 finding's evidence holds."""

    attachment: dict[str, Any]
    block_device_mapping: dict[str, Any]
    domain_serials: list[str]
    instance: dict[str, Any]


class VolumeMissingFromDomain(Check):
    """Nova and Cinder agree a volume is attached, but the instance's domain has no such disk.

    Why it matters:
        The tenant sees the volume attached in the API and its quota used, but the guest
        has no such disk: writes the application believes durable go nowhere, and a
        detach may fail or tear down a connection that another disk uses.  This is what a
        hot-plug that failed in libvirt after Nova and Cinder recorded it leaves, or a
        domain redefined by hand.

    How it is detected:
        For every live instance with a domain on its host, every live volume mapping
        that Cinder confirms (a live attachment of that volume to that instance in state
        `attached`) must appear in the domain as a disk whose `<serial>` is the volume id.
        The serial is the key, not the `/dev/sdX` source, which moves between reboots.  An
        instance without any domain is missing-domain's (NV101) business, not this one's.

    Known false positives:
        Instances with a task_state (an attach, detach or swap in flight), with a migration
        in progress, shelved-offloaded or building are skipped, as are mappings changed in
        the last `min_age` (default 10 min) and volumes being migrated.

    Repair:
        A runbook: `openstack server reboot --hard` regenerates the domain from Nova's
        mappings, or detach and attach the volume again.
    """

    code = "VL201"
    evidence_shape = VolumeMissingFromDomainEvidence
    name = "volume-missing-from-domain"
    severity = Severity.HIGH
    needs = (
        BlockDeviceMapping,
        CinderVolume,
        CinderAttachment,
        CinderService,
        Instance,
        ArchivedInstance,
        InstanceMapping,
        Cell,
        Migration,
        Domain,
        DomainVolume,
    )
    relies_on = (DomainVolume,)
    repairs = ("volume-domain-runbook",)
    defaults = {"min_age": MIN_AGE}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        vx = with_cinder(snap, out)
        if vx is None:
            return
        min_age = float(self.params["min_age"])
        domains = domains_by_uuid(snap)
        vx.undecided(out, vx.nova_gaps(), walked=True)  # a mapping, or its guest, may be there
        for uuid, bdms in vx.bdms_of_instance.items():
            row = settled_on_host(vx.instances, uuid)
            if row is None or row.host is None or not any(d.host == row.host for d in domains.get(uuid, ())):
                continue
            ref = instance_ref(uuid, row.cell)
            gap = vx.instance_gap(uuid)  # a migration we could not read would unsettle it
            if gap:
                out.inconclusive(*gap, ref)
                continue
            gap = vx.host_gap(row.host, DomainVolume)
            if gap:
                out.inconclusive(*gap, ref)
                continue
            disks = vx.disks.get((row.host, uuid), {})
            for b in bdms:
                if not b.volume_id or b.cell != row.cell:
                    continue
                out.examine()
                vol = vx.volumes.get(b.volume_id)
                if (
                    b.volume_id in disks
                    or recent(snap, b.updated_at or b.created_at, min_age)
                    or (vol is not None and vol.migration_status)
                ):
                    continue
                att = vx.cinder_attached(b.volume_id, uuid)
                if att is None:
                    continue
                out.found(
                    domain_volume_ref(row.host, uuid, b.volume_id),
                    f"Volume {b.volume_id} is attached to instance {uuid} in Nova ({b.device_name}) and in Cinder, "
                    f"but its domain on {row.host} has no disk with that serial "
                    f"({uuid}/{b.volume_id}).",
                    related=[instance_ref(uuid, row.cell), attachment_ref(att.id)],
                    evidence={
                        "instance": instance_evidence(row),
                        "block_device_mapping": bdm_evidence(b),
                        "attachment": attachment_evidence(att),
                        "domain_serials": sorted(disks),
                    },
                    changed_at=b.updated_at or b.created_at,
                )
