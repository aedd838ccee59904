"""engine/collect.py runs the sources concurrently: independent sources at once, a source
that reads others' facts (the hypervisors read Nova's host list) after them and with
only their facts, the same snapshot whichever finishes first, a failing source raised
once the others stopped, and the cyclic GC paused while any bulk source runs."""

from __future__ import annotations

import gc
import threading

import pytest

from osfsck.engine.collect import collect, cyclic_gc_paused
from osfsck.model.facts.nova import Cell, ComputeNode, ComputeService, Instance, cell_scope
from osfsck.sources.base import Source, SourceError, cover_all

WAIT = 10.0  # seconds a source waits for the other before the test calls them sequential


def instance(cell: str, n: int) -> Instance:
    return Instance(cell, f"u-{cell}-{n}", n, "hv1", "hv1", "active", None, 1, 0, 0, "p", 1, 64, 1, None, None, None)


class Reader(Source):
    """Adds `facts` of `kind` in one cell, after calling `during()` (a rendezvous)."""

    settings_attr = "nova"

    def __init__(self, name, kind, facts, during=lambda: None, requires=()):
        super().__init__(None)
        self.name = name
        self.provides = (kind,)
        self.requires = requires
        self.facts = facts
        self.during = during
        self.saw: dict[str, int] = {}

    def collect(self, kinds, known, sink, scopes=None):
        self.saw = {kind: len(facts) for kind, facts in known.facts.items()}
        self.during()
        kind = self.provides[0]
        sink.add(kind.kind, self.facts)
        return [cover_all(sink, [kind], cell_scope("c1"), self.name, True)]


def test_independent_sources_read_at_the_same_time():
    both = threading.Barrier(2, timeout=WAIT)  # broken (an error) unless both are inside at once
    a = Reader("a", Instance, [instance("c1", 1)], both.wait)
    b = Reader("b", ComputeService, [ComputeService("c1", "hv1", 0, 0, None, None)], both.wait)
    snap, statuses = collect([a, b], {Instance, ComputeService})
    assert [(s.source, s.status) for s in statuses] == [("a", "ok"), ("b", "ok")]
    assert len(snap.of(Instance)) == 1 and len(snap.of(ComputeService)) == 1


def test_a_source_that_reads_the_host_list_waits_for_it_and_sees_only_it():
    nova_done = threading.Event()
    nova = Reader("nova", ComputeNode, [ComputeNode("c1", "n1", "hv1", "hv1", "QEMU")], nova_done.set)
    dns = Reader("dns", Instance, [instance("c1", 1)])
    hosts = Reader("hosts", Cell, [Cell("api", "c1", "c1", False)], requires=(ComputeNode, ComputeService))
    order = []
    hosts.during = lambda: order.append(nova_done.is_set())
    collect([hosts, nova, dns], {ComputeNode, Instance, Cell})
    assert order == [True]  # started after Nova's part was done
    assert hosts.saw == {ComputeNode.kind: 1}  # Nova's facts, none of the DNS source's


def test_the_snapshot_is_the_same_whichever_source_finishes_first():
    def run(slow_first: bool):
        first_may_end = threading.Event()
        wait = (lambda: first_may_end.wait(WAIT)) if slow_first else (lambda: None)
        a = Reader("a", Instance, [instance("c1", n) for n in range(3)], wait)
        b = Reader("b", ComputeService, [ComputeService("c1", "hv1", 0, 0, None, None)], first_may_end.set)
        snap, statuses = collect([a, b], {Instance, ComputeService})
        return snap.to_json() | {"taken_at": None}, [(s.source, s.scope, s.objects) for s in statuses]

    assert run(slow_first=True) == run(slow_first=False)


def test_a_failing_source_is_raised_after_the_others_finish_and_its_dependents_never_run():
    other_ran = threading.Event()

    def fail():
        raise SourceError("nova: cannot connect")

    nova = Reader("nova", ComputeNode, [], fail)
    other = Reader("other", Instance, [instance("c1", 1)], lambda: other_ran.wait(0.2) or other_ran.set())
    hosts = Reader("hosts", Cell, [], requires=(ComputeNode,))
    hosts.during = lambda: pytest.fail("a source waiting for a failed one ran")
    with pytest.raises(SourceError, match="cannot connect"):
        collect([nova, other, hosts], {ComputeNode, Instance, Cell})
    assert other_ran.is_set()


def test_the_collector_stays_paused_until_the_last_bulk_source_ends():
    assert gc.isenabled()
    with cyclic_gc_paused():
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first is still building
    assert gc.isenabled()
    gc.unfreeze()


class Handing(Source):
    """Nova-like: hands over its host list (`early_kinds`), then waits for `then()` before
    adding the rest (its instances) and finishing."""

    name = "nova"
    settings_attr = "nova"
    provides = (Cell, ComputeNode, Instance)
    early_kinds = (ComputeNode,)

    def __init__(self, then=lambda: None, hand=True):
        super().__init__(None)
        self.then, self.hand = then, hand

    def collect(self, kinds, known, sink, scopes=None):
        sink.add(ComputeNode.kind, [ComputeNode("c1", "n1", "hv1", "hv1", "QEMU")])
        cover_all(sink, [ComputeNode], cell_scope("c1"), self.name, True)
        if self.hand:
            early = type(sink)(taken_at=sink.taken_at)
            early.extend(sink, {ComputeNode.kind})
            self.hand_over(early)
        self.then()
        sink.add(Instance.kind, [instance("c1", 1)])
        return [cover_all(sink, [Instance], cell_scope("c1"), self.name, True)]


def test_a_source_requiring_only_what_was_handed_over_starts_before_its_provider_ends():
    hosts_started = threading.Event()
    nova = Handing(then=lambda: hosts_started.wait(WAIT))
    hosts = Reader("hosts", Cell, [], hosts_started.set, requires=(ComputeNode,))
    hosts.provides = (ComputeService,)
    snap, statuses = collect([nova, hosts], {ComputeNode, Instance, ComputeService})
    assert hosts_started.is_set() and hosts.saw == {ComputeNode.kind: 1}  # the host list, not the instances
    # the snapshot is the provider's whole part (the handed-over kinds once) and the other's
    assert [len(snap.of(k)) for k in (ComputeNode, Instance)] == [1, 1]
    assert [(s.source, s.status) for s in statuses] == [("hosts", "ok"), ("nova", "ok")]


def test_a_source_requiring_more_than_was_handed_over_waits_for_the_end():
    nova_done = threading.Event()
    nova = Handing(then=nova_done.set)
    order = []
    both = Reader(
        "both", ComputeService, [], lambda: order.append(nova_done.is_set()), requires=(ComputeNode, Instance)
    )
    collect([nova, both], {ComputeNode, Instance, ComputeService})
    assert order == [True] and both.saw == {ComputeNode.kind: 1, Instance.kind: 1}


def test_a_provider_that_never_hands_over_is_waited_for_to_its_end():
    nova_done = threading.Event()
    nova = Handing(then=nova_done.set, hand=False)
    order = []
    hosts = Reader("hosts", ComputeService, [], lambda: order.append(nova_done.is_set()), requires=(ComputeNode,))
    collect([nova, hosts], {ComputeNode, Instance, ComputeService})
    assert order == [True] and hosts.saw == {ComputeNode.kind: 1, Instance.kind: 1}
