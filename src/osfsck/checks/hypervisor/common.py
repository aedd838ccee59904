"""The shared logic of domain-on-wrong-host and duplicate-domain: where a live instance's
domains are, against where Nova says they may be."""

from __future__ import annotations

from collections.abc import Iterator

from osfsck.checks.base import CheckOutput
from osfsck.checks.domains import (
    STATES_WITH_DOMAIN,
    all_hosts_read,
    domain_ref,
    domains_by_uuid,
    hosts_complete,
    is_nova_domain,
)
from osfsck.checks.instance_index import instance_index, undecided
from osfsck.model.facts.hypervisor import Domain, host_scope
from osfsck.model.facts.nova import API_SCOPE, Instance, cell_scope
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import Snapshot


def live_instances_with_domains(snap: Snapshot, out: CheckOutput) -> Iterator[tuple[Instance, list[Domain], set[str]]]:
    """Yield (instance, its Nova domains, hosts where they may be) for every live instance
    with at least one domain, whose cell was read completely and with no task in flight.
    A domain whose uuid may be live in a cell we could not read records that cell."""
    idx = instance_index(snap)
    for uuid, domains in domains_by_uuid(snap).items():
        domains = [d for d in domains if is_nova_domain(d)]
        if not domains:
            continue
        row = idx.primary(uuid)
        if row is None:
            st = idx.status(uuid)  # not live where we read: maybe where we did not
            for d in domains:
                undecided(out, st, domain_ref(d))
            continue
        out.examine()
        refs = [ObjectRef("instance", uuid, cell_scope(row.cell)), *map(domain_ref, domains)]
        if not idx.cell_complete(row.cell):
            # migrations of that cell may be missing: we cannot rule one out
            unsure(out, cell_scope(row.cell), idx.cell_reason(row.cell), refs)
            continue
        if row.hidden and (idx.partial_cells or not idx.api_complete):
            # only the hidden copy of a cross-cell move is visible: the real one may be
            # in a cell we could not read (or do not know of), with its own migration record
            for cell in idx.partial_cells:
                unsure(out, cell_scope(cell), idx.cell_reason(cell), refs)
            if not idx.api_complete:
                unsure(out, API_SCOPE, idx.api_reason(), refs)
            continue
        if row.task_state:
            continue  # a move, rebuild or unshelve in flight: domains may be anywhere
        expected = idx.expected_hosts(uuid)
        ok, scope, reason = hosts_complete(snap, expected)
        if not ok:
            # a host where the domain may be was not read: a "move" may be a duplicate
            unsure(out, scope, reason, refs)
            continue
        yield row, domains, expected


def unsure(out: CheckOutput, scope: str, reason: str, refs: list[ObjectRef]) -> None:
    """`scope` left an instance and its domains undecided: recorded for each of them (a
    scoped run asks about the hosts of the domains as well as the instance's)."""
    for ref in refs:
        out.inconclusive(scope, reason, ref)


def unseen_elsewhere(snap: Snapshot, out: CheckOutput) -> None:
    """While some host was not read: every live instance that should have a domain on its
    host, which was read, and has none seen anywhere may have its only domain (or a copy)
    on a host not read; recorded undecided for it."""
    idx, by_uuid = instance_index(snap), domains_by_uuid(snap)
    for uuid in idx.live:
        row = idx.live_row(uuid)
        if row.hidden or not row.host or row.vm_state not in STATES_WITH_DOMAIN or uuid in by_uuid:
            continue
        if snap.is_complete(Domain, host_scope(row.host)):
            all_hosts_read(snap, out, about=ObjectRef("instance", uuid, cell_scope(row.cell)))
