"""Planning the Neutron repairs, pure: every finding the network checks' scenarios produce
gets a plan (automatic or runbook) from the check's own repairs, in the order the engine
tries them, and every runbook names the objects of its finding."""

from __future__ import annotations

import pytest

from osfsck.config.settings import Settings
from osfsck.engine.repair import choose_plan
from osfsck.model.plan import RepairPlan, Safety
from osfsck.repairs.registry import all_repairs
from tests.checks.scenario import FOUND, scenario_modules

REPAIRS = {name: cls() for name, cls in all_repairs().items()}
NETWORK_SCENARIOS = [m for name, m in scenario_modules().items() if name.startswith("tests.checks.network.")]


def _found():
    for mod in NETWORK_SCENARIOS:
        for case in mod.CASES:
            if case.kind == FOUND and not case.bug:
                yield pytest.param(mod.CHECK, case, id=f"{mod.CHECK.code}:{case.name}")


def test_every_repair_a_network_check_names_exists():
    assert len(NETWORK_SCENARIOS) == 5
    for mod in NETWORK_SCENARIOS:
        assert set(mod.CHECK.repairs) <= set(REPAIRS), mod.CHECK.code


@pytest.mark.parametrize(("cls", "case"), list(_found()))
def test_every_found_finding_gets_a_plan(cls, case):
    check = cls(case.params)
    snap = case.build()
    findings = check.evaluate(snap).findings
    assert findings
    for f in findings:
        plan = choose_plan(check, f, snap, REPAIRS, Settings())
        assert isinstance(plan, RepairPlan), plan
        assert plan.repair in cls.repairs and plan.target == f.subject
        if plan.safety is Safety.MANUAL:
            assert f.subject.id.split("/")[-1] in plan.runbook
        else:
            assert plan.action and plan.safety is Safety.UNSAFE
        for name in cls.repairs:  # every alternative plans it, or says why in one line
            other = REPAIRS[name].plan(f, snap)
            assert isinstance(other, RepairPlan) or (other and "\n" not in other)


def test_without_the_neutron_api_an_orphan_port_gets_its_runbook():
    """delete-port needs the API; unconfigured, the engine falls through to the runbook."""
    mod = next(m for m in NETWORK_SCENARIOS if m.CHECK.code == "NT101")
    case = next(c for c in mod.CASES if c.kind == FOUND)
    check = mod.CHECK(case.params)
    snap = case.build()
    [f, *_] = check.evaluate(snap).findings
    plan = choose_plan(check, f, snap, REPAIRS, Settings())
    assert plan.repair == "orphan-port-runbook" and plan.safety is Safety.MANUAL
