"""Property: a scoped run (`--cell`, `--host`, `--project`) reports only what lies inside its
scope, never a finding the whole cloud would not give, and never loses one inside silently.

Every scenario case of every check is taken as a whole cloud; each cell, each host and each
project it holds is then taken as a scope, and the case's snapshot narrowed as a run of that
scope reads it (`Snapshot.narrowed`: the cells and hosts outside not read at all, other
projects' quota rows left out).  For each:

- every finding is one the whole cloud gives (scoping is not completeness: what was not
  read never makes a finding);
- every finding lies inside the scope (placed on the whole cloud's facts, which know where
  everything is);
- every finding of the whole cloud that lies inside is reported, or the scoped run says it
  could not decide something (a check that needs data outside the scope says so);
- an empty scope changes nothing.
"""

from __future__ import annotations

import pytest

from osfsck.checks.scoping import INSIDE, Places
from osfsck.engine.judge import judge
from osfsck.model.facts.nova import Cell, Instance
from osfsck.model.scope import RunScope
from osfsck.model.snapshot import Snapshot
from tests.checks.scenario import PARTIAL, scenario_modules


def _cases():
    for modname, mod in scenario_modules().items():
        short = modname.split(".", 2)[2]
        for case in mod.CASES:
            if case.kind != PARTIAL:
                yield pytest.param(mod.CHECK, case, id=f"{short}:{case.kind}:{case.name}")


def _check_classes():
    return [mod.CHECK for mod in scenario_modules().values()]


def scopes_of(snap: Snapshot) -> list[RunScope]:
    """One scope per cell, per host and per project of the snapshot."""
    cells = sorted({c.name for c in snap.of(Cell)})
    hosts = sorted(set(snap.host_cells()) | {s[5:] for _, s in snap.coverage if s.startswith("host:")})
    projects = sorted({i.project_id for i in snap.of(Instance) if i.project_id})
    return (
        [RunScope(cells=(c,)) for c in cells]
        + [RunScope(hosts=(h,)) for h in hosts]
        + [RunScope(projects=(p,)) for p in projects]
    )


@pytest.mark.parametrize(("check_cls", "case"), list(_cases()))
def test_a_scoped_run_reports_inside_only_and_loses_nothing_silently(check_cls, case):
    whole = case.build()
    base = {f.fingerprint: f for f in judge(check_cls(case.params), whole).findings}
    problems = []
    for scope in scopes_of(whole):
        where = scope.describe()
        out = judge(check_cls(case.params), whole.narrowed(scope))
        got = {f.fingerprint: f for f in out.findings}
        places = Places(Snapshot(taken_at=whole.taken_at, facts=whole.facts, coverage=whole.coverage, scope=scope))
        problems += [f"{where}: new finding {got[fp].subject}" for fp in sorted(got.keys() - base.keys())]
        problems += [f"{where}: reported outside {f.subject}" for f in got.values() if places.finding(f) != INSIDE]
        problems += [
            f"{where}: lost silently {f.subject}"
            for fp, f in sorted(base.items())
            if fp not in got and places.finding(f) == INSIDE and not out.undecided
        ]
    assert problems == []


# every seventh case that is not a scoped run already (those are their own baseline)
@pytest.mark.parametrize(("check_cls", "case"), [p for p in _cases() if not p.values[1].build().scope][::7])
def test_an_empty_scope_changes_nothing(check_cls, case):
    whole = case.build()
    plain = judge(check_cls(case.params), whole)
    scoped = judge(check_cls(case.params), whole.narrowed(RunScope()))
    assert [f.fingerprint for f in scoped.findings] == [f.fingerprint for f in plain.findings]
    assert scoped.inconclusive_list == plain.inconclusive_list


# -- a --cell run's part of the shared databases (model/cell_slice.py) -------------------
def crossed_cells() -> Snapshot:
    """Two cells whose shared objects cross: a cell2 instance's port bound to a cell1 host,
    its allocation on a cell1 provider, a cell1 instance mapped to cell2, a volume attached
    to an instance of each cell, a deleted cell2 instance's leftovers on cell1's side, and
    a port, an allocation and an attachment of no instance any cell knows."""
    from tests.support.world import DAY, World

    w = World()
    w.host("hv1", cell="cell1")
    w.host("hv2", cell="cell2")
    a = w.instance(cell="cell1", host="hv1")
    b = w.instance(cell="cell2", host="hv2")
    moved = w.instance(cell="cell1", host="hv1", mapped="cell2")  # a wrong-cell mapping
    gone = w.instance(cell="cell2", host="hv2", deleted=True, deleted_age=2 * DAY)
    nobody = w.new_uuid()
    for u in (a, b, moved):
        w.instance_port(u)
        w.allocate(u, "hv1" if u != b else "hv2")
    w.port(b, host="hv1", age=3 * DAY)  # cell2's instance, bound on cell1's host
    w.port(gone, host="hv1", age=3 * DAY)  # an orphan on cell1's host, of cell2's instance
    w.port(nobody, host="hv2", age=3 * DAY)
    w.allocate(b, "hv1")  # cell2's instance holding cell1's resources too
    w.allocate(gone, "hv1", age=3 * DAY)
    w.allocate(nobody, "hv2", age=3 * DAY)
    shared = w.volume(status="in-use", multiattach=True)
    for u, host in ((a, "hv1"), (b, "hv2")):
        w.bdm(u, shared, attachment_id=w.attachment(shared, u, host=host))
    w.attachment(w.volume(status="in-use"), gone, host="hv1")  # a stale attachment
    return w.snapshot()


@pytest.mark.parametrize("check_cls", [c for c in _check_classes()], ids=lambda c: c.code)
def test_a_cells_part_of_the_shared_databases_decides_inside_as_the_whole_does(check_cls):
    whole = crossed_cells()
    base = {f.fingerprint: f for f in judge(check_cls(), whole).findings}
    for cell in ("cell1", "cell2"):
        scope = RunScope(cells=(cell,))
        part = whole.narrowed(scope)
        assert any(c.part == f"cells:{cell}" for c in part.coverage.values())  # read as a part
        out = judge(check_cls(), part)
        places = Places(Snapshot(taken_at=whole.taken_at, facts=whole.facts, coverage=whole.coverage, scope=scope))
        got = {f.fingerprint: f for f in out.findings}
        assert got.keys() <= base.keys(), f"{cell}: new {[got[k].subject for k in got.keys() - base.keys()]}"
        assert all(places.finding(f) == INSIDE for f in got.values())
        lost = [f.subject for fp, f in base.items() if fp not in got and places.finding(f) == INSIDE]
        assert not lost or check_cls.code in {i.code for i in out.inconclusive_list}, f"{cell}: lost {lost}"


def test_the_crossed_cells_are_read_as_parts():
    """The world above is cut where the module says (model/cell_slice.py)."""
    from osfsck.model.facts.cinder import CinderAttachment
    from osfsck.model.facts.neutron import NeutronPort
    from osfsck.model.facts.nova import InstanceMapping
    from osfsck.model.facts.placement import Allocation

    whole = crossed_cells()
    one = whole.narrowed(RunScope(cells=("cell1",)))
    for kind in (InstanceMapping, NeutronPort, Allocation):
        assert 0 < len(one.of(kind)) < len(whole.of(kind)), kind.kind
    # the hosts' disks and iSCSI sessions are read beside (they name volumes of anyone's):
    # Cinder whole
    assert one.of(CinderAttachment) == whole.of(CinderAttachment)
    assert one.coverage[(CinderAttachment.kind, "cinder")].part == ""
    cell1 = {i.uuid for i in one.of(Instance)}
    # the wrong-cell mapping of cell1's instance is read (the second pass), cell2's own are not
    assert {m.instance_uuid for m in one.of(InstanceMapping)} == cell1
    # cell2's instance's port bound on cell1's host is read with its bindings
    assert {p.device_id for p in one.of(NeutronPort)} > cell1


def test_merged_parts_are_one_part_with_each_fact_once():
    from osfsck.model.facts.nova import InstanceMapping
    from osfsck.model.snapshot_merge import merge

    whole = crossed_cells()
    parts = [whole.narrowed(RunScope(cells=(c,))) for c in ("cell1", "cell2")]
    both = merge(parts, 60.0)
    joined = whole.narrowed(RunScope(cells=("cell1", "cell2")))
    for kind, facts in joined.facts.items():
        assert sorted(map(repr, both.facts.get(kind, []))) == sorted(map(repr, facts)), kind
    cov = both.coverage[(InstanceMapping.kind, "api")]
    assert cov.part == "cells:cell1,cell2" and cov.complete
    # a whole read, complete, beside a part: the whole one
    assert merge([parts[0], whole], 60.0).coverage[(InstanceMapping.kind, "api")].part == ""
