"""Every repair a check names plans every finding that check makes in its scenarios.

Checks and repairs meet in a finding's evidence: a repair that reads a key its check does
not write fails only when that finding is planned, perhaps first in production.  So every
"found" case of every scenario is planned with every repair its check names, with and
without the APIs some of them need: each gives a plan of its declared safety, or one line
saying why not, and never a laxer safety than its class declares; a runbook the engine
chooses names the finding's subject or a related object.
"""

from __future__ import annotations

import pytest

from osfsck.config.settings import Settings
from osfsck.engine.repair import choose_plan
from osfsck.model.plan import RepairPlan, Safety
from osfsck.repairs.registry import all_repairs
from tests.checks.scenario import FOUND, scenario_modules

REPAIRS = {name: cls() for name, cls in all_repairs().items()}


def _found():
    for mod in scenario_modules().values():
        for case in mod.CASES:
            if case.kind == FOUND and not case.bug:
                yield pytest.param(mod.CHECK, case, id=f"{mod.CHECK.code}:{case.name}")


def test_every_repair_a_check_names_exists():
    for mod in scenario_modules().values():
        assert mod.CHECK.repairs, f"{mod.CHECK.code} names no repair (not even a runbook)"
        assert set(mod.CHECK.repairs) <= set(REPAIRS), mod.CHECK.code


@pytest.mark.parametrize(("cls", "case"), list(_found()))
def test_every_repair_plans_every_finding_of_its_check(cls, case):
    check = cls(case.params)
    snap = case.build()
    findings = check.evaluate(snap).findings
    assert findings
    for f in findings:
        for name in cls.repairs:
            plan = REPAIRS[name].plan(f, snap)
            if isinstance(plan, RepairPlan):
                # a plan may be stricter than its repair's class (a mapping whose instance
                # may yet come back), never laxer
                assert plan.repair == name and plan.safety in (REPAIRS[name].safety, Safety.UNSAFE)
                assert (plan.safety is Safety.MANUAL) == (REPAIRS[name].safety is Safety.MANUAL)
                assert plan.action and plan.target.id
                if plan.safety is Safety.MANUAL:
                    assert plan.runbook.strip()
            else:
                assert isinstance(plan, str) and plan and "\n" not in plan, (name, plan)
        # no service configured: a plan, or one line saying why none (a quota row Nova no
        # longer reads; a queue delete without [rabbitmq]; a folder still in use)
        chosen = choose_plan(check, f, snap, REPAIRS, Settings())
        if isinstance(chosen, str):
            assert chosen and "\n" not in chosen
        elif chosen.safety is Safety.MANUAL:
            # by the subject's id or a related object's (a block device mapping by its
            # instance and volume: its own uuid is shown nowhere an operator looks)
            ids = {
                part
                for ref in (f.subject, *f.related)
                for part in (ref.id, *ref.id.replace("/", " ").split())
                if len(part) > 3
            }
            assert any(i in chosen.runbook for i in ids), chosen.runbook
