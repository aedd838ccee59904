from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.domains import all_hosts_read, domain_evidence, domain_ref
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.hypervisor.common import live_instances_with_domains
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


class DuplicateDomainEvidence(TypedDict):
    """What every HV104 finding's evidence holds."""

    domains: list[dict[str, Any]]
    expected_hosts: list[str]
    instance: dict[str, Any]


class DuplicateDomain(Check):
    """One live instance has domains on two or more hosts outside a migration in progress.

    Why it matters:
        Two guests with one identity may both write to the same shared disk or volume and
        corrupt it (split brain), and both answer for the same ports.  It follows a live
        migration or evacuation whose clean-up never ran.

    How it is detected:
        For every live instance whose cell was read completely and that has no task in
        progress, domains with its UUID are counted across all hosts.  Hosts that are
        either end of a migration in progress, or the source of an evacuation awaiting
        clean-up, are allowed; more than one domain left over is reported.  Every host
        whose domains could not be read (or a libvirt host of Nova not read at all) is
        inconclusive: a copy may be there.

    Known false positives:
        A resize waiting for confirmation (migration status `finished`) keeps a domain on
        both hosts by design and is not reported.

    Repair:
        `undefine-stray-domain` (unsafe): when every stray copy is shut off and a copy is on
        the host Nova records, the strays are undefined (XML journaled, undoable; disks
        kept).  When a stray runs, a runbook (manual): a person decides which copy is real.
    """

    code = "HV104"
    evidence_shape = DuplicateDomainEvidence
    name = "duplicate-domain"
    severity = Severity.CRITICAL
    needs = (Domain, Instance, ArchivedInstance, InstanceMapping, Cell, Migration, ComputeNode)
    relies_on = (Instance, Migration, Domain)
    repairs = ("undefine-stray-domain", "domain-placement-runbook")

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        every_host_read = all_hosts_read(snap, out, walked=True)
        for row, domains, expected in live_instances_with_domains(snap, out):
            if not every_host_read:  # a copy may be on a host we could not read
                for ref in (ObjectRef("instance", row.uuid, cell_scope(row.cell)), *map(domain_ref, domains)):
                    all_hosts_read(snap, out, about=ref)
            strays = [d for d in domains if d.host not in expected]
            if len(domains) < 2 or not strays:
                continue
            hosts = ", ".join(d.host for d in domains)
            out.found(
                ObjectRef("instance", row.uuid, cell_scope(row.cell)),
                f"Instance {row.uuid} has domains on {len(domains)} hosts ({hosts}); Nova records {row.host or 'no host'}.",
                related=[domain_ref(d) for d in domains],
                evidence={
                    "instance": instance_evidence(row),
                    "domains": [domain_evidence(d) for d in domains],
                    "expected_hosts": sorted(expected),
                },
                changed_at=row.updated_at,
            )
