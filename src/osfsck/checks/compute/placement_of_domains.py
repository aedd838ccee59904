"""The shared logic of domain-on-wrong-host and duplicate-domain: where a live instance's
domains are, against where Nova says they may be."""

from __future__ import annotations

from osfsck.checks.base import CheckOutput
from osfsck.checks.compute.domains import domains_by_uuid, hosts_complete, is_nova_domain
from osfsck.checks.instance_index import instance_index
from osfsck.model.facts.nova import cell_scope
from osfsck.model.snapshot import Snapshot


def live_instances_with_domains(snap: Snapshot, out: CheckOutput):
    """Yield (instance, its Nova domains, hosts where they may be) for every live instance
    with at least one domain, whose cell was read completely and with no task in flight."""
    idx = instance_index(snap)
    for uuid, domains in domains_by_uuid(snap).items():
        domains = [d for d in domains if is_nova_domain(d)]
        row = idx.primary(uuid)
        if not domains or row is None:
            continue
        out.examine()
        if not idx.cell_complete(row.cell):
            # migrations of that cell may be missing: we cannot rule one out
            out.inconclusive(cell_scope(row.cell), idx.cell_reason(row.cell))
            continue
        if row.hidden and idx.partial_cells:
            # only the hidden copy of a cross-cell move is visible: the real one may be
            # in a cell we could not read, with its own migration record
            for cell in idx.partial_cells:
                out.inconclusive(cell_scope(cell), idx.cell_reason(cell))
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
