"""The demo's conclusion (lab/demo.py): what is left after its repair run is sorted into
what only a person may fix, what was handed to Neutron's OVN maintenance, and what osfsck
should have repaired; its final line calls the cloud consistent only when nothing is left.
(The demo itself runs in tests/integration/test_lab_stop.py.)"""

from __future__ import annotations

from collections import Counter

from osfsck.engine.admin import catalogue
from osfsck.model.finding import Finding, Severity
from osfsck.model.plan import Outcome, PlanResult, RepairPlan, Safety
from osfsck.model.refs import ObjectRef
from osfsck_lab.demo import HANDED, PERSON, final_line, sort_left


def finding(code: str, n: int = 1) -> Finding:
    return Finding(code, "x", Severity.HIGH, ObjectRef("port", f"p{n}", "neutron"), "m")


def result(f: Finding, outcome: Outcome, repair: str | None = None) -> PlanResult:
    plan = None if repair is None else RepairPlan(repair, Safety.SAFE, f, f.subject, "act")
    return PlanResult(f, plan, outcome)


def test_consistent_only_when_nothing_is_left():
    assert final_line(51, 51, Counter(), Counter(), Counter()) == "-> consistent: repaired 51 of 51 findings"
    line = final_line(43, 51, Counter({"NT102": 1, "VL201": 2}), Counter(), Counter())
    assert "consistent" not in line
    assert line == "-> repaired 43 of 51 findings; left for a person (runbooks): NT102 ×1, VL201 ×2"


def test_the_final_line_names_what_was_handed_off_and_what_should_not_be_left():
    line = final_line(40, 51, Counter({"NT102": 1}), Counter({"OV102": 1, "OV103": 1}), Counter({"QU101": 2}))
    assert "consistent" not in line
    assert "handed to Neutron's OVN maintenance, which runs only with a real Neutron: OV102 ×1, OV103 ×1" in line
    assert line.endswith("; NOT repaired though osfsck should have: QU101 ×2")


def test_what_is_left_is_sorted_by_what_became_of_its_plan():
    runbook, marked, deleted, failed, unplanned = (
        finding("NT102"),
        finding("OV102"),
        finding("NT101"),
        finding("HV101"),
        finding("QU101"),
    )
    plans = [
        result(runbook, Outcome.MANUAL, "port-dead-host-runbook"),
        result(marked, Outcome.APPLIED, HANDED),
        result(deleted, Outcome.APPLIED, "delete-port"),
        result(failed, Outcome.FAILED, "undefine-domain"),
    ]
    left = [runbook, marked, deleted, failed, unplanned, finding("NT102", 2)]
    person, handed, wrong = sort_left(plans, left, real=False)
    assert person == Counter({"NT102": 1}) and handed == Counter({"OV102": 1})
    # a repair that says it applied but left its finding, a failed one, and a finding new
    # in the second check (no plan: not seen by the repair run) are osfsck's to explain
    assert wrong == Counter({"NT101": 1, "HV101": 1, "QU101": 1, "NT102": 1})
    # with a real Neutron its maintenance has re-written what was marked: left, it is wrong
    assert sort_left(plans, [marked], real=True) == (Counter(), Counter(), Counter({"OV102": 1}))


def test_every_check_only_a_person_may_repair_has_its_why():
    only_runbooks = {
        c["code"] for c in catalogue() if c["repairs"] and all(r["safety"] == "manual" for r in c["repairs"])
    }
    assert only_runbooks == set(PERSON), "lab/demo.py PERSON: say why each of these needs a person"
