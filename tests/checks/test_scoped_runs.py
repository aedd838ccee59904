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
