"""Plan → review → apply (engine/planfile.py): `check --plan-out` writes the plans, a
reviewer removes entries, `repair --plan` applies exactly what is left, each through every
guard and the fresh re-check; a gone or changed finding is not applied; a file edited
beyond removing entries is refused whole, before anything is written.  With the engine's
stand-in check and repair (tests/engine/test_repair_engine.py)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from osfsck.engine import planfile
from osfsck.engine.options import RunOptions
from osfsck.engine.planfile import PlanFile, PlanFileError
from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan
from osfsck.model.result import RunResult
from tests.engine.test_repair_engine import NOW, Cloud, FixIt, finding, outcomes, run


class FixWithParams(FixIt):
    """A repair whose plan says what it expects to find (as conditional writes do)."""

    def plan(self, finding, snap):
        return RepairPlan(
            self.name,
            self.safety,
            finding,
            finding.subject,
            f"fix {finding.subject.id}",
            params={"expect": finding.evidence.get("state", "bad"), "id": finding.subject.id},
        )


def with_evidence(n: int, state: str = "bad", seconds: int = 10) -> Finding:
    return dataclasses.replace(finding(n), evidence={"state": state, "seconds_stuck": seconds})


def written(tmp_path, findings) -> dict:
    """What `check --plan-out` writes for `findings`, as JSON."""
    result, _, _ = run(tmp_path / "check", findings, repair=FixWithParams(), opts=RunOptions())
    path = tmp_path / "plan.json"
    assert planfile.write(str(path), result) == len(findings)
    return json.loads(path.read_text())


def apply(tmp_path, data: dict, findings, cloud=None):
    path = tmp_path / "reviewed.json"
    path.write_text(json.dumps(data))
    plan = planfile.read(str(path)) if all(e["code"] != "ZZ901" for e in data["plans"]) else _as_plan(data)
    opts = RunOptions(repair=True, unsafe=True, assume_yes=True, plan=plan)
    return run(tmp_path / "repair", findings, repair=FixWithParams(), opts=opts, cloud=cloud)


def _as_plan(data: dict) -> PlanFile:
    """The stand-in check is not in the catalogue, which planfile.read checks entries against."""
    return PlanFile("reviewed.json", None, {e["fingerprint"]: e for e in data["plans"]})


def test_the_file_holds_what_a_reviewer_needs(tmp_path):
    data = written(tmp_path, [with_evidence(1), with_evidence(2)])
    assert data["format"] == "osfsck-plan/1" and data["scope"] is None
    first = data["plans"][0]
    assert set(first) == {
        "fingerprint",
        "code",
        "check",
        "repair",
        "safety",
        "action",
        "target",
        "params",
        "evidence_digest",
        "subject",
        "message",
        "note",
    }
    assert (first["repair"], first["safety"], first["params"]) == ("fix-it", "unsafe", {"expect": "bad", "id": "t1"})
    assert first["evidence_digest"].startswith("sha256:") and first["note"] == ""


def test_only_what_is_left_in_the_file_is_applied(tmp_path):
    fs = [with_evidence(n) for n in (1, 2, 3)]
    data = written(tmp_path, fs)
    data["plans"] = [p for p in data["plans"] if p["target"]["id"] != "t2"]  # the reviewer says no to t2
    result, repair, journal = apply(tmp_path, data, fs)
    assert repair.applied == ["t1", "t3"]
    assert outcomes(result)["t2"] == ("skipped", "not in the plan file")
    assert [r["status"] for r in journal] == ["intent", "applied"] * 2


def test_a_digest_ignores_durations_counted_from_the_runs_clock(tmp_path):
    a, b = with_evidence(1, seconds=10), with_evidence(1, seconds=9999)
    assert planfile.evidence_digest(a) == planfile.evidence_digest(b)
    assert planfile.evidence_digest(a) != planfile.evidence_digest(with_evidence(1, state="worse"))


def test_a_changed_or_gone_finding_is_not_applied(tmp_path):
    data = written(tmp_path, [with_evidence(1), with_evidence(2)])
    now = [with_evidence(1, state="worse")]  # t1 changed, t2 gone
    result, repair, journal = apply(tmp_path, data, now)
    assert repair.applied == [] and journal == []
    state, why = outcomes(result)["t1"]
    assert state == "skipped" and "changed since the plan was made" in why
    assert any("its finding is gone" in w and "t2" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda p: p["params"].update(id="t9"), "params"),  # pointed at another object
        (lambda p: p["target"].update(id="t9"), "target"),
        (lambda p: p.update(safety="safe"), "safety"),
        (lambda p: p.update(action="fix everything"), "action"),
    ],
)
def test_an_entry_edited_beyond_removal_refuses_the_whole_file_before_any_write(tmp_path, edit, key):
    fs = [with_evidence(1), with_evidence(2), with_evidence(3)]
    data = written(tmp_path, fs)
    edit(data["plans"][2])
    with pytest.raises(PlanFileError, match=f"its {key} is not what osfsck plans"):
        apply(tmp_path, data, fs)
    assert not (tmp_path / "repair" / "journal.jsonl").exists()  # t1 and t2 were not applied either


def test_a_plan_that_changed_on_the_fresh_recheck_is_not_applied(tmp_path):
    fs = [with_evidence(1)]
    data = written(tmp_path, fs)

    class Moved(FixWithParams):
        calls = 0

        def plan(self, finding, snap):
            Moved.calls += 1
            plan = super().plan(finding, snap)
            # the snapshot's plan matches the file; the live re-read plans another id
            return plan if Moved.calls == 1 else dataclasses.replace(plan, params={**plan.params, "id": "t9"})

    path = tmp_path / "reviewed.json"
    path.write_text(json.dumps(data))
    opts = RunOptions(repair=True, unsafe=True, assume_yes=True, plan=_as_plan(data))
    result, repair, journal = run(tmp_path / "repair", fs, repair=Moved(), opts=opts, cloud=Cloud(fs, after=[]))
    assert repair.applied == [] and journal == []
    assert outcomes(result)["t1"] == (
        "skipped",
        "on a fresh re-check: its params is no longer the plan file's: not applied",
    )


def test_the_guards_still_apply_and_the_cap_counts_the_files_plans_only(tmp_path):
    many = [with_evidence(n) for n in range(40)]
    data = written(tmp_path, many)
    data["plans"] = data["plans"][:3]  # 3 of 40: under the per-check cap of 25
    result, repair, _ = apply(tmp_path, data, many)
    assert len(repair.applied) == 3 and result.checks[0].repair_refused == ""
    # the grace holds a plan of the file back as in any run
    fresh = [dataclasses.replace(with_evidence(1), changed_at=NOW)]
    data = written(tmp_path / "g", fresh)
    result, repair, _ = apply(tmp_path / "g", data, fresh)
    assert repair.applied == [] and "within the grace" in outcomes(result)["t1"][1]
    # unsafe plans need --unsafe
    data = written(tmp_path / "u", [with_evidence(1)])
    path = tmp_path / "u" / "reviewed.json"
    path.write_text(json.dumps(data))
    opts = RunOptions(repair=True, assume_yes=True, plan=_as_plan(data))
    result, repair, _ = run(tmp_path / "u" / "r", [with_evidence(1)], repair=FixWithParams(), opts=opts)
    assert repair.applied == [] and outcomes(result)["t1"] == ("planned", "unsafe: applied only with --unsafe")


def test_reading_checks_every_entry(tmp_path):
    def bad(data, *says):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(data) if not isinstance(data, str) else data)
        with pytest.raises(PlanFileError) as e:
            planfile.read(str(path))
        for s in says:
            assert s in str(e.value)
        assert "\n" not in str(e.value)

    entry = {
        "fingerprint": "f1",
        "code": "HV101",
        "check": "zombie-domain",
        "repair": "undefine-domain",
        "safety": "unsafe",
        "action": "a",
        "target": {},
        "params": {},
        "evidence_digest": "sha256:x",
        "subject": {},
        "message": "m",
        "note": "",
    }
    ok = {"format": planfile.FORMAT, "scope": None, "plans": [entry]}
    assert list(planfile.read(_dump(tmp_path, ok)).entries) == ["f1"]
    bad("{not json", "not JSON")
    bad({**ok, "format": "osfsck-plan/9"}, "not an osfsck plan file", "osfsck-plan/9")
    bad({**ok, "plans": {}}, "plans: expected a list")
    bad({**ok, "plans": [{**entry, "code": "XX999"}]}, "plans[0].code", "no check 'XX999'")
    bad({**ok, "plans": [{**entry, "repair": "delete-port"}]}, "HV101 zombie-domain has no repair 'delete-port'")
    bad({**ok, "plans": [{**entry, "safety": "manual"}]}, "plans[0].safety")
    bad({**ok, "plans": [{**entry, "params": []}]}, "plans[0].params: expected an object")
    bad({**ok, "plans": [entry, entry]}, "fingerprint f1 is given twice")
    bad({**ok, "plans": [{**entry, "run": "rm -rf /"}]}, "unknown key 'run'")
    bad({**ok, "scope": {"cells": "cell1"}}, "scope.cells")


def _dump(tmp_path, data) -> str:
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_an_empty_result_writes_an_empty_plan(tmp_path):
    path = tmp_path / "plan.json"
    assert planfile.write(str(path), RunResult(mode="check", taken_at=NOW)) == 0
    assert planfile.read(str(path)).entries == {}
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_the_time_a_write_stamps_is_not_an_edit(tmp_path):
    """A conditional write stamps its row with the moment it writes (taken when planned):
    the run that applies a file plans a later moment than the one that wrote it."""
    f = with_evidence(1)
    early = RepairPlan("fix-it", FixIt.safety, f, f.subject, "fix", params={"values": {"updated_at": "10:00:00"}})
    late = dataclasses.replace(early, params={"values": {"updated_at": "10:05:00"}})
    entry = {**planfile.what_it_does(early), "fingerprint": f.fingerprint, "code": f.code}
    assert planfile.edited(entry, late) is None
    # what the write expects to find is compared whole
    seen = dataclasses.replace(early, params={"expect": {"updated_at": "09:00:00"}})
    other = dataclasses.replace(early, params={"expect": {"updated_at": "09:30:00"}})
    entry = {**planfile.what_it_does(seen), "fingerprint": f.fingerprint, "code": f.code}
    assert planfile.edited(entry, other) == "params"
