"""The one generic runner of every check scenario (DESIGN §7): each case of each scenario
module under tests/checks is evaluated once, and must give exactly the findings (or, for a
partial source, exactly the inconclusive scopes) that it expects."""

from __future__ import annotations

import pytest

from osfsck.engine.judge import judge
from tests.checks.scenario import PARTIAL, scenario_modules


def _params():
    for modname, mod in scenario_modules().items():
        short = modname.split(".", 2)[2]  # e.g. compute.zombie_domain
        for case in mod.CASES:
            marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
            yield pytest.param(mod.CHECK, case, id=f"{short}:{case.kind}:{case.name}", marks=marks)


@pytest.mark.parametrize(("check_cls", "case"), list(_params()))
def test_scenario(check_cls, case):
    out = judge(check_cls(case.params), case.build())
    got = {(f.code, f.subject.id) for f in out.findings}
    inconclusive = {i.scope for i in out.inconclusive_list}
    if case.kind == PARTIAL:
        assert got == set(), "a partial source must give no finding"
        assert inconclusive == case.expected()
    else:
        assert got == case.expected()
        assert inconclusive == set(), "nothing was partial, yet the check could not decide"
    for f in out.findings:
        assert f.code == check_cls.code and f.name == check_cls.name
        assert f.subject.id in f.message, "a finding's message names its object"
    for i in out.inconclusive_list:
        assert i.reason, "an inconclusive scope says why"
    if case.verify is not None:
        case.verify(out)
