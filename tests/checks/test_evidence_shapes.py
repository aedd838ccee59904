"""Evidence is a declared contract between a check and its repairs.

Every check declares the shape of its findings' evidence (Check.evidence_shape, a
TypedDict).  Every finding of every scenario case has that shape, and every repair the
check names, planning every "found" case (with and without the APIs some need), reads only
declared keys.  The repair tests (tests/repairs/helpers.py `apply`) hold before-image and
apply to the same rule on real databases.
"""

from __future__ import annotations

import pytest

from osfsck.checks.registry import all_checks
from osfsck.config.settings import Settings
from osfsck.engine.repair import choose_plan
from osfsck.repairs.registry import all_repairs
from tests.checks.scenario import FOUND, scenario_modules
from tests.support.evidence import shape_problems, tracked, undeclared_reads

REPAIRS = {name: cls() for name, cls in all_repairs().items()}


def _cases(found_only: bool = False):
    for mod in scenario_modules().values():
        for case in mod.CASES:
            if not found_only or case.kind == FOUND:
                yield pytest.param(mod.CHECK, case, id=f"{mod.CHECK.code}:{case.kind}:{case.name}")


@pytest.mark.parametrize("cls", all_checks(), ids=lambda c: c.code)
def test_every_check_declares_its_evidence(cls):
    shape = cls.__dict__.get("evidence_shape")
    assert shape is not None and hasattr(shape, "__required_keys__"), f"{cls.code} declares no evidence shape"
    assert shape.__required_keys__, f"{cls.code}: a finding with no evidence explains nothing"


@pytest.mark.parametrize(("cls", "case"), list(_cases()))
def test_every_finding_has_its_declared_shape(cls, case):
    out = cls(case.params).evaluate(case.build())
    assert [p for f in out.findings for p in shape_problems(f)] == []


@pytest.mark.parametrize(("cls", "case"), list(_cases(found_only=True)))
def test_repairs_plan_from_declared_evidence_only(cls, case):
    snap = case.build()
    findings = cls(case.params).evaluate(snap).findings
    assert findings
    for f in findings:
        for name in cls.repairs:
            watched, evidence = tracked(f)
            REPAIRS[name].plan(watched, snap)
            assert undeclared_reads(f, evidence) == set(), name
        watched, evidence = tracked(f)
        choose_plan(cls(case.params), watched, snap, REPAIRS, Settings())
        assert undeclared_reads(f, evidence) == set()


def test_the_guard_sees_an_undeclared_read():
    """The tracking is not blind: a read of a key no shape declares is caught."""
    mod = next(m for m in scenario_modules().values() if any(c.kind == FOUND for c in m.CASES))
    case = next(c for c in mod.CASES if c.kind == FOUND)
    f = mod.CHECK(case.params).evaluate(case.build()).findings[0]
    watched, evidence = tracked(f)
    watched.evidence.get("no-such-key")
    assert undeclared_reads(f, evidence) == {"no-such-key"}
    assert shape_problems(type(f)(**{**f.__dict__, "evidence": {**f.evidence, "extra": 1}})) == [
        f"{f.code}: undeclared extra"
    ]
