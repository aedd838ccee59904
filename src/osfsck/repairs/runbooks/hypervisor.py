"""Runbooks for the hypervisor findings (HV): domains on the wrong host or on two."""

from __future__ import annotations

from osfsck.model.finding import Finding
from osfsck.repairs.base import Runbook


class DomainPlacementRunbook(Runbook):
    name = "domain-placement-runbook"

    def text(self, f: Finding) -> str:
        inst = f.evidence.get("instance", {})
        uuid = inst.get("uuid", f.subject.id)
        return (
            f"1. `openstack server show {uuid}`: Nova places it on {inst.get('host')}.\n"
            f"2. On every host holding a domain of it, `virsh domstate {uuid}` and `virsh domblklist {uuid}`: "
            "find the copy that runs and the disks each copy uses.\n"
            f"3. If the copy on {inst.get('host')} is the real one: on the other host(s) `virsh destroy {uuid}` "
            f"then `virsh undefine {uuid}` (keep the disks until verified).\n"
            "4. If only the other host's copy is real: live-migrate it back "
            f"(`openstack server migrate --live-migration --host {inst.get('host')} {uuid}`) or correct the "
            "instance's host with Nova's support, never by editing the database during a move."
        )
