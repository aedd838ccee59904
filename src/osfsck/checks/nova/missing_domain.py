from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.domains import STATES_WITH_DOMAIN, all_hosts_read, domains_by_uuid, host_read, is_nova_domain
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.instance_index import instance_index, moves_known
from osfsck.model.facts.hypervisor import Domain, host_scope
from osfsck.model.facts.nova import Cell, ComputeNode, Instance, InstanceMapping, Migration, cell_scope
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class MissingDomainEvidence(TypedDict):
    """What every NV101 finding's evidence holds."""

    instance: dict[str, Any]


class MissingDomain(Check):
    """A live instance that should have a domain on its host has none there.

    Why it matters:
        The tenant sees an ACTIVE (or STOPPED) server that does not exist: it cannot be
        reached, started or rebooted softly, and its quota and Placement allocation are
        spent on nothing.  It follows a host re-installed or restored from backup, a
        failed migration, or a domain undefined by hand.

    How it is detected:
        For every live, non-hidden instance with a host, a vm_state in which the libvirt
        driver keeps a domain (active, paused, suspended, stopped, rescued, resized) and
        no task in progress, the domains of its host are searched for its UUID.  Hosts
        whose domains could not be listed, and libvirt hosts of Nova that were not read
        (skipped), make the check inconclusive for that host; hosts of other drivers
        (Ironic, VMware) are not judged.  A domain found on another host is
        domain-on-wrong-host's finding, so while any host is unread a missing domain is
        inconclusive (it may be there), as it is while the cell's migrations are partial.

    Known false positives:
        Instances being built, shelved, shelved-offloaded, soft-deleted, in error or with
        any task_state are skipped, as are instances with a migration in progress (the
        domain may still be on the source) and instances whose domain is on another host
        (reported by domain-on-wrong-host).

    Repair:
        `set-instance-error` (unsafe, tenant-visible): put the instance in ERROR as
        `openstack server set --state error` would, so its owner sees the truth and can
        rebuild or delete it.  The runbook explains the alternative: a hard reboot
        (`openstack server reboot --hard UUID`) defines the domain again when the disks
        are still on the host.
    """

    code = "NV101"
    evidence_shape = MissingDomainEvidence
    name = "missing-domain"
    severity = Severity.HIGH
    needs = (Domain, Instance, Cell, InstanceMapping, Migration, ComputeNode)
    relies_on = (Domain, Migration)
    repairs = ("set-instance-error", "missing-domain-runbook")

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        idx = instance_index(snap)
        by_uuid = domains_by_uuid(snap)
        for uuid in idx.live:
            row = idx.live_row(uuid)
            if row.hidden or not row.host or row.vm_state not in STATES_WITH_DOMAIN or row.task_state:
                continue
            ref = ObjectRef("instance", uuid, cell_scope(row.cell))
            read = host_read(snap, out, row.host, row.cell, ref)
            if read is None:
                continue  # another driver's host (Ironic, VMware): no libvirt domain to expect
            out.examine()
            if not read:
                continue
            if not moves_known(out, idx, uuid, ref) or idx.in_progress_migrations(uuid):
                continue
            domains = by_uuid.get(uuid, ())
            if any(d.host == row.host for d in domains):
                continue
            expected = idx.expected_hosts(uuid)
            if any(is_nova_domain(d) and d.host not in expected for d in domains):
                continue  # a Nova domain on another host is domain-on-wrong-host's finding
            if not all_hosts_read(snap, out, about=ref):
                continue  # ... and it may be on a host we could not read
            out.found(
                ref,
                f"Instance {uuid} is {row.vm_state} on {row.host}, but {row.host} has no domain for it.",
                related=[ObjectRef("host", row.host, host_scope(row.host))],
                evidence={"instance": instance_evidence(row)},
                changed_at=row.updated_at,
            )
