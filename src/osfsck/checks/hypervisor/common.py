"""The shared logic of domain-on-wrong-host and duplicate-domain: where a live instance's
domains are, against where Nova says they may be."""

from __future__ import annotations

from collections.abc import Iterator

from osfsck.checks.base import CheckOutput
from osfsck.checks.domains import domains_by_uuid, hosts_complete, is_nova_domain
from osfsck.checks.instance_index import instance_index, undecided
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import API_SCOPE, Instance, cell_scope
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
            undecided(out, idx.status(uuid))  # not live where we read: maybe where we did not
            continue
        out.examine()
        if not idx.cell_complete(row.cell):
            # migrations of that cell may be missing: we cannot rule one out
            out.inconclusive(cell_scope(row.cell), idx.cell_reason(row.cell))
            continue
        if row.hidden and (idx.partial_cells or not idx.api_complete):
            # only the hidden copy of a cross-cell move is visible: the real one may be
            # in a cell we could not read (or do not know of), with its own migration record
            for cell in idx.partial_cells:
                out.inconclusive(cell_scope(cell), idx.cell_reason(cell))
            if not idx.api_complete:
                out.inconclusive(API_SCOPE, idx.api_reason())
            continue
        if row.task_state:
            continue  # a move, rebuild or unshelve in flight: domains may be anywhere
        expected = idx.expected_hosts(uuid)
        ok, scope, reason = hosts_complete(snap, expected)
        if not ok:
            # a host where the domain may be was not read: a "move" may be a duplicate
            out.inconclusive(scope, reason)
            continue
        yield row, domains, expected
