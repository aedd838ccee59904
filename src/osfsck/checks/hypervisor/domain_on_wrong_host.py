from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.domains import all_hosts_read, domain_evidence, domain_ref
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.hypervisor.common import live_instances_with_domains, unseen_elsewhere
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import (
    ArchivedInstance,
    Cell,
    ComputeNode,
    Instance,
    InstanceMapping,
    Migration,
    cell_scope,
)
from osfsck.model.finding import Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


class DomainOnWrongHostEvidence(TypedDict):
    """What every HV103 finding's evidence holds."""

    domain: dict[str, Any]
    expected_hosts: list[str]
    instance: dict[str, Any]


class DomainOnWrongHost(Check):
    """A live instance's only domain is on a host other than the one Nova records.

    Why it matters:
        Nova sends every operation (reboot, resize, delete, volume attach) to the host in
        its database, which has no such guest: the operations fail, while the real guest
        keeps running where nobody accounts for it.  It follows a migration that died
        half-way or a host field edited by hand.

    How it is detected:
        For every live instance whose cell was read completely and that has no task in
        progress, the hosts where its domain may legitimately be are its host, both ends
        of a migration in progress (resize, cold or live migration) and the source of an
        evacuation Nova has not cleaned up yet.  A single domain found on any other host
        is reported; two or more domains are left to duplicate-domain.  Every host whose
        domains could not be read (or a libvirt host of Nova's not read at all) is
        inconclusive, and while one is, no stray copy is reported: it may have a twin.

    Known false positives:
        None known while Nova's migration records are intact.  An instance whose
        migration record was deleted by hand looks moved.

    Repair:
        `move-instance-record` (unsafe): when the stray guest is running and its host has
        one compute node, record that host and node on the instance (a conditional
        update, journaled, undoable).  Otherwise a runbook (manual): decide which host
        really runs the guest, then correct Nova or remove the stray domain.
    """

    code = "HV103"
    evidence_shape = DomainOnWrongHostEvidence
    name = "domain-on-wrong-host"
    severity = Severity.HIGH
    needs = (Domain, Instance, ArchivedInstance, InstanceMapping, Cell, Migration, ComputeNode)
    relies_on = (Instance, Migration, Domain)
    repairs = ("move-instance-record", "domain-placement-runbook")

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        every_host_read = all_hosts_read(snap, out, walked=True)  # records each one that was not
        if not every_host_read:
            unseen_elsewhere(snap, out)  # whose only domain may be on a host not read
        for row, domains, expected in live_instances_with_domains(snap, out):
            if len(domains) != 1 or domains[0].host in expected:
                continue
            d = domains[0]
            if not every_host_read:
                # a second copy on a host we could not read makes it a duplicate
                all_hosts_read(snap, out, about=domain_ref(d))
                continue
            out.found(
                domain_ref(d),
                f"Domain {d.name} of instance {row.uuid} runs on {d.host}, but Nova records it on {row.host or 'no host'}.",
                related=[ObjectRef("instance", row.uuid, cell_scope(row.cell))],
                evidence={
                    "domain": domain_evidence(d),
                    "instance": instance_evidence(row),
                    "expected_hosts": sorted(expected),
                },
                changed_at=row.updated_at,
            )
