"""Several snapshots checked as one (`check --from a --from b`, model/snapshot_merge.py):
each (kind, scope) whole from the newest snapshot that read it completely, a scope read
twice never counted twice, the earliest clock, and refusals for snapshots too far apart
in time or of scopes that do not add up."""

from __future__ import annotations

import datetime as dt

import pytest

from osfsck.model.facts.hypervisor import Domain, host_scope
from osfsck.model.facts.nova import Cell, Instance, cell_scope
from osfsck.model.scope import RunScope
from osfsck.model.snapshot import ANYWHERE, Coverage, Snapshot
from osfsck.model.snapshot_merge import SnapshotMergeError, merge

T0 = dt.datetime(2026, 12, 6, 10, 0)
GRACE = 1800.0


def instance(cell: str, n: int) -> Instance:
    return Instance(cell, f"u-{cell}-{n}", n, "hv1", "hv1", "active", None, 1, 0, 0, "p", 1, 64, 1, None, None, None)


def domain(host: str, n: int) -> Domain:
    return Domain(host, f"d-{host}-{n}", f"instance-{n:08x}", 1, True, None, None, None, 1, 64, ())


def snapshot(minutes: float, scope: RunScope | None = None, **reads) -> Snapshot:
    """reads: name -> (facts, scope, complete)."""
    snap = Snapshot(taken_at=T0 + dt.timedelta(minutes=minutes), scope=scope)
    for facts, where, complete in reads.values():
        kind = type(facts[0]).kind if facts else Domain.kind
        snap.add(kind, facts)
        snap.cover(Coverage(kind, where, "test", complete, "" if complete else "timed out"))
    return snap


def test_each_cell_from_the_snapshot_that_read_it_and_the_api_scope_once():
    a = snapshot(0, RunScope(cells=("c1",)), c1=([instance("c1", 1), instance("c1", 2)], cell_scope("c1"), True))
    b = snapshot(5, RunScope(cells=("c2",)), c2=([instance("c2", 1)], cell_scope("c2"), True))
    merged = merge([b, a], GRACE)
    assert sorted(i.uuid for i in merged.of(Instance)) == ["u-c1-1", "u-c1-2", "u-c2-1"]
    assert merged.is_complete(Instance, cell_scope("c1")) and merged.is_complete(Instance, cell_scope("c2"))
    assert merged.taken_at == T0  # ages from the earliest read: nothing looks older than it was
    assert merged.scope == RunScope(cells=("c1", "c2"))


def test_a_scope_read_by_both_comes_whole_from_the_newest_complete_read():
    old = snapshot(0, c1=([instance("c1", 1), instance("c1", 2)], cell_scope("c1"), True))
    new = snapshot(10, c1=([instance("c1", 2)], cell_scope("c1"), True))
    partial_newest = snapshot(20, c1=([instance("c1", 3)], cell_scope("c1"), False))
    merged = merge([old, new, partial_newest], GRACE)
    assert [i.uuid for i in merged.of(Instance)] == ["u-c1-2"]  # not u-c1-2 twice, nor the partial read's
    assert merged.is_complete(Instance, cell_scope("c1"))


def test_partial_everywhere_stays_partial_with_the_newest_reason():
    a = snapshot(0, c1=([instance("c1", 1)], cell_scope("c1"), False))
    b = snapshot(1, c1=([], cell_scope("c1"), False))
    merged = merge([a, b], GRACE)
    assert not merged.is_complete(Instance, cell_scope("c1"))


def test_found_nothing_to_read_is_dropped_where_another_collector_read_hosts():
    no_hosts = snapshot(0, none=([], ANYWHERE, False))
    hosts = snapshot(1, h1=([domain("h1", 1)], host_scope("h1"), True))
    merged = merge([no_hosts, hosts], GRACE)
    assert (Domain.kind, ANYWHERE) not in merged.coverage
    assert merged.is_complete(Domain, host_scope("h1")) and len(merged.of(Domain)) == 1
    alone = merge([no_hosts, snapshot(2, c1=([instance("c1", 1)], cell_scope("c1"), True))], GRACE)
    assert (Domain.kind, ANYWHERE) in alone.coverage  # nobody read a host: still undecided


def test_a_scope_nobody_read_stays_not_read():
    merged = merge([snapshot(0, c1=([instance("c1", 1)], cell_scope("c1"), True)), snapshot(1)], GRACE)
    assert not merged.is_complete(Instance, cell_scope("c2"))


def test_snapshots_further_apart_than_the_grace_are_refused():
    a = snapshot(0, c1=([instance("c1", 1)], cell_scope("c1"), True))
    b = snapshot(31, c2=([instance("c2", 1)], cell_scope("c2"), True))
    with pytest.raises(SnapshotMergeError, match=r"^a.json and b.json were taken 31 min apart, more than the grace"):
        merge([a, b], GRACE, ["a.json", "b.json"])
    assert merge([a, b], 31 * 60.0).taken_at == T0


@pytest.mark.parametrize(
    "scopes, merged",
    [
        ((RunScope(cells=("c1",)), None), None),
        ((RunScope(hosts=("a*",)), RunScope(hosts=("b*",))), RunScope(hosts=("a*", "b*"))),
        ((RunScope(projects=("p1",)), RunScope(projects=("p1",))), RunScope(projects=("p1",))),
    ],
)
def test_scopes_that_add_up(scopes, merged):
    assert merge([snapshot(0, scopes[0]), snapshot(1, scopes[1])], GRACE).scope == merged


@pytest.mark.parametrize(
    "scopes",
    [
        (RunScope(cells=("c1",)), RunScope(hosts=("h*",))),
        (RunScope(cells=("c1",), hosts=("h*",)), RunScope(cells=("c2",), hosts=("h*",))),
    ],
)
def test_scopes_that_do_not_add_up_are_refused(scopes):
    with pytest.raises(SnapshotMergeError, match="do not add up to one"):
        merge([snapshot(0, scopes[0]), snapshot(1, scopes[1])], GRACE)


def test_snapshots_of_two_regions_are_refused():
    region_a = snapshot(0, api=([Cell("api", "uuid-a", "cell1", False)], "api", True))
    region_b = snapshot(1, api=([Cell("api", "uuid-b", "cell1", False)], "api", True))
    with pytest.raises(SnapshotMergeError, match=r"^a.gz and b.gz are of different clouds \(cell cell1 is uuid-a"):
        merge([region_a, region_b], GRACE, ["a.gz", "b.gz"])
    same = snapshot(2, api=([Cell("api", "uuid-a", "cell1", False)], "api", True))
    assert len(merge([region_a, same], GRACE).of(Cell)) == 1


def test_one_snapshot_is_itself():
    a = snapshot(0, c1=([instance("c1", 1)], cell_scope("c1"), True))
    assert merge([a], 0.0) is a
