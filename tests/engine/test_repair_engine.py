"""The engine's repair loop with a stand-in check and repair: the guards' order, the
fresh re-check, the operator's answers ("all" and "quit"), the journal and verification
("unsettled").  The live re-read is replaced by a recollect function the test controls."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from osfsck.checks.base import Check
from osfsck.config.settings import RepairSettings, Settings
from osfsck.engine.options import RunOptions
from osfsck.engine.repair import repair_findings
from osfsck.engine.state import Seen
from osfsck.model.facts.nova import Instance
from osfsck.model.finding import Finding, Inconclusive, Severity
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.refs import ObjectRef
from osfsck.model.result import CheckStats, RunResult
from osfsck.model.snapshot import Coverage, Snapshot
from osfsck.repairs.base import NotOwned, Repair, RepairError

NOW = dt.datetime(2026, 11, 24, 12, 0)
OLD = NOW - dt.timedelta(days=2)


class StandIn(Check):
    """A stand-in check (not in the catalogue).

    Why it matters: tests. How it is detected: given. Known false positives: none. Repair: fix-it.
    """

    code, name, severity = "ZZ901", "stand-in-thing", Severity.MEDIUM
    relies_on = (Instance,)
    repairs = ("fix-it",)

    def run(self, snap, out):  # the engine re-evaluates only through recollect here
        pass


class FixIt(Repair):
    name, safety, writes, undoable = "fix-it", Safety.UNSAFE, "nothing real", True

    def __init__(self):
        self.applied: list[str] = []
        self.not_ours: set[str] = set()
        self.late_not_ours: set[str] = set()

    def plan(self, finding, snap):
        return RepairPlan(self.name, self.safety, finding, finding.subject, f"fix {finding.subject.id}")

    def ownership(self, plan, snap):
        if plan.target.id in self.not_ours:
            raise NotOwned("made by hand")

    def before_image(self, plan, ctx):
        if plan.target.id in self.late_not_ours:
            raise NotOwned("its live XML has no Nova metadata")
        return {"id": plan.target.id}

    def apply(self, plan, ctx, before):
        self.applied.append(plan.target.id)
        return f"fixed {plan.target.id}"


def finding(n: int, changed_at=OLD, scope="cell:cell1") -> Finding:
    return Finding(
        "ZZ901",
        "stand-in-thing",
        Severity.MEDIUM,
        ObjectRef("thing", f"t{n}", scope),
        f"thing {n}",
        changed_at=changed_at,
    )


class Cloud:
    """What a re-read finds: `now` before applying, `after` once applied."""

    def __init__(self, findings, after=None, unsure=()):
        self.now = {f.fingerprint: f for f in findings}
        self.after = after
        self.unsure = set(unsure)
        self.reads = 0

    def recollect(self, check, scopes, current):
        self.reads += 1
        snap = Snapshot(taken_at=NOW)
        snap.cover(Coverage(Instance.kind, "cell:cell1", "test", True))
        found = self.now if self.reads == 1 or self.after is None else {f.fingerprint: f for f in self.after}
        return snap, found, self.unsure


def run(
    tmp_path,
    findings,
    *,
    cloud=None,
    repair=None,
    examined=100,
    inconclusive=(),
    seen=None,
    opts=None,
    **repair_settings,
):
    settings = Settings(repair=RepairSettings(journal=str(tmp_path / "journal.jsonl"), **repair_settings))
    snap = Snapshot(taken_at=NOW)
    snap.cover(Coverage(Instance.kind, "cell:cell1", "test", True))
    result = RunResult(mode="repair-unsafe", taken_at=NOW, findings=list(findings))
    result.checks.append(
        CheckStats(
            "ZZ901",
            "stand-in-thing",
            examined,
            len(findings),
            [Inconclusive("ZZ901", s, "unreadable") for s in inconclusive],
        )
    )
    repair = repair or FixIt()
    cloud = cloud or Cloud(findings, after=[])
    opts = opts or RunOptions(repair=True, unsafe=True, assume_yes=True)
    repair_findings(settings, opts, [StandIn()], snap, result, seen or {}, cloud.recollect, {"fix-it": repair})
    return result, repair, _journal(tmp_path)


def _journal(tmp_path) -> list[dict]:
    path = tmp_path / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def outcomes(result) -> dict[str, tuple[str, str]]:
    return {p.finding.subject.id: (p.outcome.value, p.reason) for p in result.plans}


def test_applies_journals_and_verifies(tmp_path):
    result, repair, journal = run(tmp_path, [finding(1), finding(2)])
    assert repair.applied == ["t1", "t2"]
    assert {k: v[0] for k, v in outcomes(result).items()} == {"t1": "applied", "t2": "applied"}
    assert [r["status"] for r in journal] == ["intent", "applied", "intent", "applied"]
    assert journal[0]["before"] == {"id": "t1"} and journal[0]["undoable"] is True


def test_check_mode_writes_nothing_and_says_what_it_would_do(tmp_path):
    result, repair, journal = run(tmp_path, [finding(1), finding(2, changed_at=None)], opts=RunOptions())
    assert repair.applied == [] and journal == []
    assert outcomes(result)["t1"] == ("planned", "read-only run")
    state, why = outcomes(result)["t2"]
    assert state == "planned" and "repairable in 30 min" in why


def test_unsafe_plans_wait_for_unsafe(tmp_path):
    result, repair, _ = run(tmp_path, [finding(1)], opts=RunOptions(repair=True, assume_yes=True))
    assert repair.applied == [] and outcomes(result)["t1"] == ("planned", "unsafe: applied only with --unsafe")


def test_the_grace_holds_back_findings_without_a_change_time_first_seen_now(tmp_path):
    """Issue 15 #1: grace = 3650d did not protect findings that carry no timestamp."""
    result, repair, journal = run(tmp_path, [finding(1, changed_at=None), finding(2)], grace=3650 * 86400.0)
    assert repair.applied == [] and journal == []
    assert outcomes(result)["t1"][1].startswith("first seen in this run")
    assert outcomes(result)["t2"][1].startswith("changed 2 d ago")
    held = next(p for p in result.plans if p.finding.subject.id == "t1")
    assert held.repairable_at == NOW + dt.timedelta(days=3650)


def test_the_grace_counts_from_first_seen_in_the_state_file(tmp_path):
    f = finding(1, changed_at=None)
    seen = {f.fingerprint: Seen("ZZ901", "cell:cell1", NOW - dt.timedelta(hours=1), NOW, 3)}
    result, repair, _ = run(tmp_path, [f], seen=seen)
    assert repair.applied == ["t1"]


def test_grace_zero_on_the_command_line_repairs_what_was_first_seen_now(tmp_path):
    result, repair, _ = run(
        tmp_path, [finding(1, changed_at=None)], opts=RunOptions(repair=True, unsafe=True, assume_yes=True, grace=0.0)
    )
    assert repair.applied == ["t1"]


def test_a_subject_that_changed_since_the_snapshot_gets_its_grace_again(tmp_path):
    before = finding(1)
    changed = finding(1, changed_at=NOW - dt.timedelta(seconds=5))  # touched meanwhile
    result, repair, journal = run(tmp_path, [before], cloud=Cloud([changed]))
    assert repair.applied == [] and journal == []
    assert outcomes(result)["t1"][0] == "skipped" and "changed 5 s ago" in outcomes(result)["t1"][1]


def test_confirm_runs(tmp_path):
    f = finding(1)
    result, repair, _ = run(
        tmp_path, [f], seen={f.fingerprint: Seen("ZZ901", "cell:cell1", OLD, NOW, 1)}, confirm_runs=2
    )
    assert repair.applied == [] and outcomes(result)["t1"][1] == "seen in 1 of the 2 consecutive runs required"
    result, repair, _ = run(
        tmp_path, [f], seen={f.fingerprint: Seen("ZZ901", "cell:cell1", OLD, NOW, 2)}, confirm_runs=2
    )
    assert repair.applied == ["t1"]


def test_blast_radius_refuses_the_whole_check(tmp_path):
    many = [finding(n) for n in range(26)]
    result, repair, journal = run(tmp_path, many, examined=1000)
    assert repair.applied == [] and journal == []
    assert result.checks[0].repair_refused.startswith("26 repairs exceed the per-check cap of 25")
    result, repair, _ = run(tmp_path, many[:25], examined=1000)
    assert len(repair.applied) == 25
    result, repair, _ = run(tmp_path, many[:11], examined=20)
    assert repair.applied == [] and "implausible" in result.checks[0].repair_refused


def test_max_count_applies_the_first_n_by_subject_and_leaves_the_rest(tmp_path):
    """A batched run applies the first N plans in subject order (whatever order the
    findings came in) instead of refusing a check above the cap; the rest are left, and the
    next run, where the first N are gone, takes the next N."""
    many = [finding(n) for n in (7, 3, 11, 5, 1, 9)]  # subjects t1 < t11 < t3 < t5 < t7 < t9
    opts = RunOptions(repair=True, unsafe=True, assume_yes=True, max_count=2)
    result, repair, journal = run(tmp_path, many, opts=opts, max_per_check=2)
    assert repair.applied == ["t1", "t11"] and result.checks[0].repair_refused == ""
    assert {k for k, v in outcomes(result).items() if v == ("left", "left: batch limit (--max-count 2)")} == {
        "t3",
        "t5",
        "t7",
        "t9",
    }
    assert [r["status"] for r in journal] == ["intent", "applied"] * 2
    assert result.exit_code() == 1 | 4  # some repaired, some left
    rest = [f for f in many if f.subject.id not in repair.applied]
    result, repair, _ = run(tmp_path, rest, opts=opts, max_per_check=2)
    assert repair.applied == ["t3", "t5"]


def test_max_count_counts_only_plans_the_guards_let_through(tmp_path):
    """A plan held back (here by the grace) is not taken into the batch: it would hold
    the batch back run after run."""
    fs = [finding(1, changed_at=None), finding(2), finding(3)]
    opts = RunOptions(repair=True, unsafe=True, assume_yes=True, max_count=1)
    result, repair, _ = run(tmp_path, fs, opts=opts)
    assert repair.applied == ["t2"]
    assert outcomes(result)["t1"][1].startswith("first seen in this run")
    assert outcomes(result)["t3"] == ("left", "left: batch limit (--max-count 1)")


def test_max_count_does_not_override_an_implausible_share(tmp_path):
    many = [finding(n) for n in range(11)]
    opts = RunOptions(repair=True, unsafe=True, assume_yes=True, max_count=2)
    result, repair, journal = run(tmp_path, many, opts=opts, examined=20)
    assert repair.applied == [] and journal == [] and "implausible" in result.checks[0].repair_refused
    assert {v[0] for v in outcomes(result).values()} == {"skipped"}


def test_max_count_in_a_read_only_run_changes_nothing(tmp_path):
    many = [finding(n) for n in range(30)]
    result, _, _ = run(tmp_path, many, opts=RunOptions(max_count=2))
    assert result.checks[0].repair_refused.startswith("30 repairs exceed")


def test_no_repair_in_a_scope_the_check_could_not_decide(tmp_path):
    result, repair, _ = run(tmp_path, [finding(1), finding(2, scope="cell:cell2")], inconclusive=["cell:cell2"])
    assert repair.applied == ["t1"]
    assert "could not decide cell:cell2" in outcomes(result)["t2"][1]


def test_ownership_is_checked_before_and_again_on_the_live_object(tmp_path):
    repair = FixIt()
    repair.not_ours, repair.late_not_ours = {"t1"}, {"t2"}
    result, repair, journal = run(tmp_path, [finding(1), finding(2), finding(3)], repair=repair)
    assert repair.applied == ["t3"]
    assert outcomes(result)["t1"][1] == "not provably OpenStack's: made by hand"
    assert outcomes(result)["t2"][1] == "not provably OpenStack's: its live XML has no Nova metadata"
    assert [r["status"] for r in journal] == ["intent", "applied"]


def test_the_guards_run_in_their_order(tmp_path):
    """A finding every guard would refuse is refused by the first: completeness, then
    blast radius, grace, confirm-runs, ownership."""
    repair = FixIt()
    repair.not_ours = {"t1"}
    f = finding(1, changed_at=None, scope="cell:cell2")
    result, _, _ = run(tmp_path, [f], repair=repair, inconclusive=["cell:cell2"], confirm_runs=2)
    assert "could not decide" in outcomes(result)["t1"][1]
    result, _, _ = run(tmp_path, [f], repair=repair, confirm_runs=2, max_per_check=0)
    assert "per-check cap" in outcomes(result)["t1"][1]
    result, _, _ = run(tmp_path, [f], repair=repair, confirm_runs=2)
    assert outcomes(result)["t1"][1].startswith("first seen in this run")
    f = finding(1)
    result, _, _ = run(tmp_path, [f], repair=repair, confirm_runs=2)
    assert outcomes(result)["t1"][1].startswith("seen in 1 of the 2")
    result, _, _ = run(tmp_path, [f], repair=repair)
    assert outcomes(result)["t1"][1].startswith("not provably")


def test_fresh_recheck_gone_or_inconclusive_is_skipped(tmp_path):
    f1, f2, f3 = finding(1), finding(2), finding(3, scope="cell:cell2")
    result, repair, _ = run(tmp_path, [f1, f2, f3], cloud=Cloud([f1], after=[], unsure=["cell:cell2"]))
    assert repair.applied == ["t1"]
    assert outcomes(result)["t2"] == ("skipped", "gone on a fresh re-check")
    assert outcomes(result)["t3"] == ("skipped", "fresh re-check was inconclusive")


def test_unsettled_repair_is_failed_and_journaled(tmp_path):
    f1, f2 = finding(1), finding(2)
    result, repair, journal = run(tmp_path, [f1, f2], cloud=Cloud([f1, f2], after=[f2]))
    assert outcomes(result)["t1"][0] == "applied"
    assert outcomes(result)["t2"] == ("failed", "the finding persists after the repair")
    assert [(r["status"]) for r in journal] == ["intent", "applied", "intent", "applied", "unsettled"]
    assert result.exit_code() & 8


def test_interactive_yes_no_all_and_quit(tmp_path):
    answers = iter(["n", "y", "a"])
    opts = RunOptions(repair=True, unsafe=True, interactive=True, ask=lambda plan: next(answers))
    fs = [finding(n) for n in range(1, 6)]
    result, repair, _ = run(tmp_path, fs, opts=opts)
    assert repair.applied == ["t2", "t3", "t4", "t5"]  # "a": the rest of this check
    assert outcomes(result)["t1"] == ("skipped", "the operator said no")

    answers = iter(["y", "q"])
    opts = RunOptions(repair=True, unsafe=True, interactive=True, ask=lambda plan: next(answers))
    result, repair, journal = run(tmp_path / "q", fs, opts=opts)
    assert repair.applied == ["t1"] and result.cancelled and result.exit_code() & 32
    assert {k: v[0] for k, v in outcomes(result).items()} == {
        "t1": "applied",
        "t2": "skipped",
        "t3": "skipped",
        "t4": "skipped",
        "t5": "skipped",
    }
    assert outcomes(result)["t3"][1] == "the operator stopped the run"
    assert [r["status"] for r in journal] == ["intent", "applied"]


def test_interactive_without_an_answer_is_no(tmp_path):
    result, repair, journal = run(tmp_path, [finding(1)], opts=RunOptions(repair=True, unsafe=True, interactive=True))
    assert repair.applied == [] and journal == []


@pytest.mark.parametrize("failure", ["before", "apply"])
def test_a_failing_repair_is_one_line_and_journaled_only_once_intended(tmp_path, failure):
    class Broken(FixIt):
        def before_image(self, plan, ctx):
            if failure == "before":
                raise ConnectionError("connection refused\nsecond line")
            return {}

        def apply(self, plan, ctx, before):
            raise RuntimeError("the row is no longer in the state that was seen")

    result, _, journal = run(tmp_path, [finding(1)], repair=Broken())
    state, why = outcomes(result)["t1"]
    assert state == "failed" and "\n" not in why
    if failure == "before":
        assert journal == [] and why == "could not read the before-image: connection refused"
    else:
        assert [r["status"] for r in journal] == ["intent", "failed"]


class LostAnswer(FixIt):
    """Its write raises `error`; re-reading the subject then gives `reread` (an exception
    to raise, or the image to return); the first read gives {"id": ..., "v": 1}."""

    def __init__(self, error: Exception, reread):
        super().__init__()
        self.error, self.reread, self.reads = error, reread, 0

    def before_image(self, plan, ctx):
        self.reads += 1
        if self.reads == 1:
            return {"id": plan.target.id, "v": 1}
        if isinstance(self.reread, Exception):
            raise self.reread
        return self.reread

    def apply(self, plan, ctx, before):
        raise self.error


def _answered() -> Exception:
    from osfsck.clients.placement_api import PlacementConflict

    e = PlacementConflict("cannot write: Placement refused it (409 Conflict)")
    e.answered = True
    return e


def _wrapped_unanswered() -> Exception:
    """A repair's RepairError raised while handling its client's unanswered request, as
    repairs/placement/common.py `put` does."""
    from osfsck.clients.placement_api import PlacementApiError

    try:
        try:
            e = PlacementApiError("cannot allocate: Server disconnected without sending a response.")
            e.answered = False
            raise e
        except PlacementApiError as inner:
            raise RepairError(str(inner)) from None
    except RepairError as outer:
        return outer


@pytest.mark.parametrize(
    ("error", "reread", "status"),
    [
        (ConnectionResetError("connection reset by peer"), {"id": "t1", "v": 2}, "uncertain"),  # made, answer lost
        (ConnectionResetError("connection reset by peer"), ConnectionRefusedError("refused"), "uncertain"),  # gone
        (ConnectionResetError("connection reset by peer"), {"id": "t1", "v": 1}, "failed"),  # visibly not made
        (_answered(), {"id": "t1", "v": 2}, "failed"),  # the service said no: someone else changed it
        (RepairError("the row changed since it was read"), {"id": "t1", "v": 2}, "failed"),  # osfsck's own refusal
        (_wrapped_unanswered(), RepairError("instance holds allocations now"), "uncertain"),
        (_wrapped_unanswered(), {"id": "t1", "v": 1}, "failed"),
    ],
)
def test_a_write_whose_answer_was_lost_is_journaled_uncertain(tmp_path, error, reread, status):
    """A service killed after making a write but before answering: the journal must not
    say nothing was done.  A refusal (osfsck's, or the service's answer) is "failed"."""
    result, _, journal = run(tmp_path, [finding(1)], repair=LostAnswer(error, reread))
    state, why = outcomes(result)["t1"]
    assert [r["status"] for r in journal] == ["intent", status]
    assert state == "failed" and ("may have been made" in why) is (status == "uncertain") and "\n" not in why
    if status == "uncertain":
        assert f"journal entry {journal[0]['id']}" in why


def test_undo_offers_an_uncertain_write_only_when_named(tmp_path):
    from osfsck.engine.admin import undo_candidates
    from osfsck.engine.journal import Journal

    journal = Journal(str(tmp_path / "journal.jsonl"))
    for rid, status in (("a", "applied"), ("u", "uncertain"), ("f", "failed")):
        journal.append({"id": rid, "status": "intent", "repair": "fix-it", "before": {}})
        journal.append({"id": rid, "status": status})
    assert [e["id"] for e in undo_candidates(journal, [], last=False)] == ["a"]
    assert [e["id"] for e in undo_candidates(journal, ["u", "f"], last=False)] == ["u"]


def test_plans_left_by_the_batch_say_so_in_every_format(tmp_path):
    from osfsck.report import FORMATS, render

    opts = RunOptions(repair=True, unsafe=True, assume_yes=True, max_count=1)
    result, _, _ = run(tmp_path, [finding(1), finding(2)], opts=opts)
    text = {fmt: render(result, fmt) for fmt in FORMATS}
    assert "left: batch limit (--max-count 1)" in text["text"] and "(1 by the batch limit)" in text["text"]
    repairs = json.loads(text["json"])["repairs"]
    assert [(p["outcome"], p["reason"]) for p in repairs if p["target"]["id"] == "t2"] == [
        ("left", "left: batch limit (--max-count 1)")
    ]
    lines = [json.loads(line) for line in text["jsonl"].splitlines()]
    assert any(x["type"] == "repair" and x["outcome"] == "left" for x in lines)
    assert 'osfsck_repairs{outcome="left"} 1' in text["prometheus"]
