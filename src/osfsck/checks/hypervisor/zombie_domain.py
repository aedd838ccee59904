from __future__ import annotations

from typing import Any, TypedDict

from osfsck.checks.base import Check, CheckOutput
from osfsck.checks.domains import all_hosts_read, domain_evidence, domain_ref, is_nova_domain
from osfsck.checks.evidence import instance_evidence
from osfsck.checks.instance_index import ARCHIVED, DELETED, UNDECIDED, instance_index
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import (
    ArchivedInstance,
    BuildRequest,
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


class _ZombieDomainEvidenceAlways(TypedDict):
    domain: dict[str, Any]


class ZombieDomainEvidence(_ZombieDomainEvidenceAlways, total=False):
    """What every HV101 finding's evidence holds (and, below, what some do)."""

    archived_instance: dict[str, Any]
    instance: dict[str, Any]


class ZombieDomain(Check):
    """A libvirt domain whose instance was deleted (or archived) in Nova.

    Why it matters:
        A deleted tenant's VM that still runs burns vCPUs and RAM that the scheduler
        believes are free, keeps its disks and network ports in use, and may still answer
        on an IP that is later given to another tenant.  Even only defined, it blocks a
        re-use of its name and confuses operators.

    How it is detected:
        Every domain that carries Nova's metadata (namespace 1.0 or 1.1) or Nova's
        instance name pattern is looked up by its UUID in every cell: a domain whose
        instance row is soft-deleted, or has been moved to shadow_instances by
        `nova-manage db archive_deleted_rows`, is a zombie.  Unlike Nova's own reaper
        (running_deleted_instance_action), this still sees zombies after the rows were
        archived.  When a cell cannot be read and the instance mapping does not point
        elsewhere, the domain is inconclusive, never a finding; so is every host whose
        domains could not be listed (or a libvirt host of Nova's not read at all).

    Known false positives:
        An instance soft-deleted through the API (vm_state `soft-delete`, restorable)
        still has a live row and is not reported.  A domain of an instance deleted while
        its compute service was down ("local delete") is a real zombie that nova-compute
        reaps when it restarts, if the row is not archived by then.

    Repair:
        `undefine-domain` (unsafe) destroys and undefines the domain after saving its XML
        in the journal; `osfsck undo` can define it again.  `shutdown-domain` (unsafe) is
        the gentler step for operators who want a soak period: it only powers the domain
        off (select it with `repair = "shutdown-domain"` under [checks.zombie-domain]).
    """

    code = "HV101"
    evidence_shape = ZombieDomainEvidence
    name = "zombie-domain"
    severity = Severity.HIGH
    needs = (Domain, Instance, ArchivedInstance, InstanceMapping, BuildRequest, Cell, Migration, ComputeNode)
    relies_on = (Instance, ArchivedInstance, InstanceMapping, Cell)
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
            if st.state not in (DELETED, ARCHIVED):
                continue
            if st.state == DELETED:
                row = st.row
                related = [ObjectRef("instance", d.uuid, cell_scope(row.cell))]
                where = (
                    f"deleted in {cell_scope(row.cell)} at {row.deleted_at:%Y-%m-%d %H:%M}"
                    if row.deleted_at
                    else f"deleted in {cell_scope(row.cell)}"
                )
                evidence = {"domain": domain_evidence(d), "instance": instance_evidence(row)}
                changed = row.deleted_at or row.updated_at
            else:
                a = st.archived_row
                related = [ObjectRef("instance", d.uuid, cell_scope(a.cell))]
                where = f"archived to shadow_instances in {cell_scope(a.cell)}"
                evidence = {
                    "domain": domain_evidence(d),
                    "archived_instance": {
                        "cell": a.cell,
                        "uuid": a.uuid,
                        "host": a.host,
                        "deleted_at": a.deleted_at.isoformat() if a.deleted_at else None,
                    },
                }
                changed = a.deleted_at
            state = "running" if d.active else "defined but shut off"
            out.found(
                domain_ref(d),
                f"Domain {d.name} ({d.uuid}) on {d.host} is {state}, but its instance was {where}.",
                related=related,
                evidence=evidence,
                changed_at=changed,
                severity=Severity.HIGH if d.active else Severity.MEDIUM,
                reclaim={"vcpus": d.vcpus, "memory_mb": d.memory_mb} if d.active else {},
            )
