"""Planning the Placement repairs, pure: every finding of the PL scenarios gets a plan from
its check's own repairs (the API one when [placement] names an API, else the runbook); a
provider with consumers or a node without a provider falls to the runbook; another
service's consumer is not touched.  The API path itself runs against the real
placement-api in tests/integration/test_placement_server.py."""

from __future__ import annotations

import pytest

from osfsck.config.placement import PlacementSettings
from osfsck.config.settings import Settings
from osfsck.engine.repair import choose_plan
from osfsck.model.plan import RepairPlan, Safety
from osfsck.repairs.base import NotOwned
from osfsck.repairs.placement.allocations import DeleteOrphanAllocations
from osfsck.repairs.registry import all_repairs
from tests.checks.scenario import FOUND, scenario_modules

REPAIRS = {name: cls() for name, cls in all_repairs().items()}
SCENARIOS = [m for name, m in scenario_modules().items() if name.startswith("tests.checks.placement.")]
WITH_API = Settings(placement=PlacementSettings(endpoint="http://127.0.0.1:8778", auth="none"))


def _found():
    for mod in SCENARIOS:
        for case in mod.CASES:
            if case.kind == FOUND:
                yield pytest.param(mod.CHECK, case, id=f"{mod.CHECK.code}:{case.name}")


def test_every_repair_a_placement_check_names_exists():
    assert len(SCENARIOS) == 4
    for mod in SCENARIOS:
        assert set(mod.CHECK.repairs) <= set(REPAIRS), mod.CHECK.code
        assert REPAIRS[mod.CHECK.repairs[0]].safety is Safety.UNSAFE and REPAIRS[mod.CHECK.repairs[0]].undoable
        assert REPAIRS[mod.CHECK.repairs[-1]].safety is Safety.MANUAL


@pytest.mark.parametrize(("cls", "case"), list(_found()))
def test_every_found_finding_gets_a_plan(cls, case):
    check = cls(case.params)
    snap = case.build()
    for f in check.evaluate(snap).findings:
        without = choose_plan(check, f, snap, REPAIRS, Settings())
        assert isinstance(without, RepairPlan) and without.safety is Safety.MANUAL
        assert f.subject.id in without.runbook
        plan = choose_plan(check, f, snap, REPAIRS, WITH_API)
        assert isinstance(plan, RepairPlan)
        # what must stay manual even with the API: a provider still holding consumers or
        # children, an instance whose node has no provider yet
        manual = (f.code == "PL104" and (f.evidence["consumers"] or f.evidence["children"])) or (
            f.code == "PL102" and not f.evidence["provider_exists"]
        )
        assert (plan.safety is Safety.MANUAL) == bool(manual), (f.code, plan.action)


def test_the_delete_plan_is_conditional_on_the_generation_seen():
    from tests.checks.placement import orphan_allocation as s

    f = s.OrphanAllocation().evaluate(s.deleted_instance()).findings[0]
    plan = DeleteOrphanAllocations().plan(f, None)
    assert plan.params == {"consumer": f.subject.id, "generation": 1, "consumer_type": "INSTANCE"}


def test_another_services_consumer_is_not_owned():
    from tests.checks.placement import orphan_allocation as s

    f = s.OrphanAllocation().evaluate(s.deleted_instance()).findings[0]
    plan = DeleteOrphanAllocations().plan(f, None)
    foreign = RepairPlan(
        plan.repair,
        plan.safety,
        f,
        f.subject,
        plan.action,
        params={**plan.params, "consumer_type": "BLAZAR_RESERVATION"},
    )
    with pytest.raises(NotOwned):
        DeleteOrphanAllocations().ownership(foreign, None)
