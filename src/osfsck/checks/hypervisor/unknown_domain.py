from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.domains import all_hosts_read, domain_evidence, domain_ref, is_nova_domain
from osfsck.checks.instance_index import UNDECIDED, UNKNOWN, instance_index, may_be_building
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import (
    ArchivedInstance,
    BuildRequest,
    Cell,
    ComputeNode,
    Instance,
    InstanceMapping,
    Migration,
)
from osfsck.model.finding import Confidence, Severity
from osfsck.model.snapshot import Snapshot


class UnknownDomainEvidence(TypedDict):
    """What every HV102 finding's evidence holds."""

    cells_searched: list[str]
    domain: dict[str, Any]


class UnknownDomain(Check):
    """A Nova-made domain whose UUID no cell, shadow table or instance mapping knows.

    Why it matters:
        Such a guest is invisible to every OpenStack API: nobody is billed for it, the
        scheduler does not count it, and Nova's own zombie reaper cannot see it because
        it only looks at soft-deleted rows of its own cell.  It appears after a database
        restore, a purge of the shadow tables, a cell database moved away, or a domain
        defined by hand from a copied Nova XML.

    How it is detected:
        Domains carrying Nova's metadata or instance name pattern are looked up by UUID
        in every cell's instances and shadow_instances, in the API database's
        instance_mappings and build_requests.  It is reported only when every cell and
        the API database were read completely; otherwise it is inconclusive, as is every
        host whose domains could not be listed.

    Known false positives:
        A domain of another OpenStack deployment managed by the same libvirt (two clouds
        sharing hypervisors) looks unknown to this one.  Domains defined by hand without
        Nova's metadata and with another name are never reported.  A domain matched only
        by its name pattern is reported with medium confidence.

    Repair:
        `undefine-domain` (unsafe) for domains that carry Nova's metadata: the XML is
        journaled first and `osfsck undo` can define it again.  Domains matched only by
        name are never touched (ownership guard).
    """

    code = "HV102"
    evidence_shape = UnknownDomainEvidence
    name = "unknown-domain"
    severity = Severity.HIGH
    needs = (Domain, Instance, ArchivedInstance, InstanceMapping, BuildRequest, Cell, Migration, ComputeNode)
    relies_on = (Instance, ArchivedInstance, InstanceMapping, BuildRequest, Cell)
    repairs = ("undefine-domain", "shutdown-domain")

    def run(self, snap: Snapshot, out: CheckOutput) -> None:
        idx = instance_index(snap)
        all_hosts_read(snap, out, walked=True)  # a host's domains we could not list are not judged
        for d in snap.of(Domain):
            if not is_nova_domain(d):
                continue
            out.examine()
            st = idx.status(d.uuid)
            if st.state == UNDECIDED:
                for scope in st.scopes:
                    out.inconclusive(scope, st.reason, domain_ref(d))
                continue
            if st.state != UNKNOWN or d.uuid in idx.mappings or may_be_building(out, idx, d.uuid, domain_ref(d)):
                continue
            out.found(
                domain_ref(d),
                f"Domain {d.name} ({d.uuid}) on {d.host} is unknown to every Nova cell and the API database.",
                evidence={"domain": domain_evidence(d), "cells_searched": sorted(idx.cell_names)},
                confidence=Confidence.HIGH if d.nova_ns else Confidence.MEDIUM,
                severity=Severity.HIGH if d.active else Severity.MEDIUM,
                reclaim={"vcpus": d.vcpus, "memory_mb": d.memory_mb} if d.active else {},
            )
