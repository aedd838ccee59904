"""From findings to applied repairs, behind the guards of DESIGN §5, in this order:
mode, blast radius, grace, confirm-runs, ownership, fresh re-check, (operator), journal,
apply, verify."""

from __future__ import annotations

import logging
from collections import defaultdict

from osfsck.checks.base import Check
from osfsck.config.settings import Settings
from osfsck.engine import wiring
from osfsck.engine.collect import collect
from osfsck.engine.confirm import record_run, seen_counts
from osfsck.engine.context import RepairContext
from osfsck.engine.journal import Journal, new_id, now_iso
from osfsck.engine.options import RunOptions
from osfsck.model.finding import Finding
from osfsck.model.plan import Outcome, PlanResult, RepairPlan, Safety
from osfsck.model.result import CheckStats, RunResult
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import NotOwned, Repair
from osfsck.repairs.registry import all_repairs

log = logging.getLogger(__name__)


class Cancelled(Exception):
    pass


def choose_plan(check: Check, finding: Finding, snap: Snapshot, repairs: dict[str, Repair],
                settings: Settings) -> RepairPlan | str:
    """The first of the check's repairs (or the one configured for it) that can plan it:
    a repair whose way in is not configured (an API) gives way to the next (a runbook)."""
    names = [check.params["repair"]] if check.params.get("repair") else list(check.repairs)
    if not names:
        return "no repair is defined for this check"
    reasons = []
    for name in names:
        repair = repairs.get(name)
        if repair is None:
            return f"unknown repair {name!r}"
        why = repair.unavailable(settings)
        plan = why or repair.plan(finding, snap)
        if isinstance(plan, RepairPlan):
            return plan
        reasons.append(plan)
    return "; ".join(reasons)


def repair_findings(settings: Settings, opts: RunOptions, checks: list[Check], snap: Snapshot,
                    result: RunResult) -> None:
    repairs = {name: cls() for name, cls in all_repairs().items()}
    previous = seen_counts(settings.repair.state_file)
    counts = record_run(settings.repair.state_file if opts.repair or settings.repair.state_file else None,
                        {f.fingerprint for f in result.findings}, previous)
    by_code: dict[str, list[Finding]] = defaultdict(list)
    for f in result.findings:
        by_code[f.code].append(f)
    stats = {s.code: s for s in result.checks}
    ctx = RepairContext(settings, snap) if opts.repair else None
    current = snap
    try:
        for check in sorted(checks, key=lambda c: c.code):
            findings = by_code.get(check.code, [])
            if not findings:
                continue
            if current is not snap:
                # earlier repairs changed the cloud: plan from what is true now (a zombie's
                # folder is no longer in use once the zombie is gone)
                fresh = check.evaluate(current).findings
                findings = fresh
            batch = _plan_check(check, findings, current, repairs, opts, settings, stats[check.code], counts, result)
            if batch and opts.repair:
                current = _apply_batch(check, batch, current, repairs, opts, settings, ctx, result)
    except Cancelled:
        result.cancelled = True
    finally:
        if ctx is not None:
            ctx.close()
    result.plans.sort(key=lambda p: p.finding.sort_key())


def _plan_check(check, findings, snap, repairs, opts, settings, stats: CheckStats, counts, result) -> list[PlanResult]:
    """Record a PlanResult for every finding; return those that may be applied."""
    eligible: list[PlanResult] = []
    for f in findings:
        plan = choose_plan(check, f, snap, repairs, settings)
        if isinstance(plan, str):
            result.plans.append(PlanResult(f, None, Outcome.NONE, plan))
        elif plan.safety is Safety.MANUAL:
            result.plans.append(PlanResult(f, plan, Outcome.MANUAL, "a person must follow the runbook"))
        elif not opts.repair:
            result.plans.append(PlanResult(f, plan, Outcome.PLANNED, "read-only run"))
        elif plan.safety is Safety.UNSAFE and not opts.unsafe:
            result.plans.append(PlanResult(f, plan, Outcome.PLANNED, "unsafe: applied only with --unsafe"))
        else:
            eligible.append(PlanResult(f, plan, Outcome.PLANNED))
    if not eligible:
        return []
    # 1. blast radius
    rs = settings.repair
    refusal = ""
    if stats.examined >= rs.implausible_min_examined and len(findings) > rs.implausible_share * stats.examined:
        refusal = (f"{len(findings)} of {stats.examined} examined objects flagged: implausible, "
                   "refusing to repair any (look for a partial or wrong source)")
    elif len(eligible) > rs.max_per_check:
        refusal = (f"{len(eligible)} repairs exceed the per-check cap of {rs.max_per_check} "
                   "([repair] max_per_check, or narrow the run with --select)")
    if refusal:
        stats.repair_refused = refusal
        for pr in eligible:
            pr.outcome, pr.reason = Outcome.SKIPPED, refusal
        result.plans.extend(eligible)
        return []
    grace = float(check.params.get("grace", rs.grace))
    kept = []
    for pr in eligible:
        f = pr.finding
        # 2. grace
        age = (snap.taken_at - f.changed_at).total_seconds() if f.changed_at else None
        if age is not None and age < grace:
            pr.outcome, pr.reason = Outcome.SKIPPED, f"changed {age / 60:.0f} min ago, within the grace of {grace / 60:.0f} min"
        # 3. confirm-runs
        elif counts.get(f.fingerprint, 0) < rs.confirm_runs:
            pr.outcome, pr.reason = Outcome.SKIPPED, f"seen in {counts.get(f.fingerprint, 0)} of the {rs.confirm_runs} runs required"
        else:
            # 4. ownership
            try:
                repairs[pr.plan.repair].ownership(pr.plan, snap)
                kept.append(pr)
                continue
            except NotOwned as e:
                pr.outcome, pr.reason = Outcome.SKIPPED, f"not provably OpenStack's: {e}"
        result.plans.append(pr)
    return kept


def _scopes_of(plans: list[PlanResult]) -> set[str]:
    """What to re-read for a fresh re-check: the scopes of the subjects, of their related
    objects and of whatever the repairs write.  A shared-storage scope is read through
    its hosts (related objects)."""
    scopes = set()
    for pr in plans:
        refs = (pr.finding.subject, *pr.finding.related, *((pr.plan.target,) if pr.plan else ()))
        scopes.update(r.scope for r in refs if not r.scope.startswith("storage:"))
        if pr.plan:
            scopes.update(pr.plan.touches)
    return scopes


def _recheck(check: Check, scopes: set[str], current: Snapshot, settings: Settings):
    """Re-collect `scopes` live and re-run `check`: (fresh snapshot, findings by fingerprint, inconclusive scopes)."""
    sources = wiring.build_sources(settings, set(check.needs))
    new, _ = collect(sources, set(check.needs), known=current, scopes=scopes)
    fresh = current.replace_scopes(new)
    out = check.evaluate(fresh)
    return fresh, {f.fingerprint: f for f in out.findings}, {i.scope for i in out.inconclusive_list}


def _apply_batch(check, batch, current, repairs, opts, settings, ctx, result) -> Snapshot:
    # 5. fresh re-check, once for the batch
    scopes = _scopes_of(batch)
    fresh, now, unsure = _recheck(check, scopes, current, settings)
    to_apply = []
    for pr in batch:
        f = now.get(pr.finding.fingerprint)
        if f is None:
            pr.outcome = Outcome.SKIPPED
            pr.reason = ("fresh re-check was inconclusive" if pr.finding.subject.scope in unsure
                         else "gone on a fresh re-check")
        else:
            plan = choose_plan(check, f, fresh, repairs, settings)
            if isinstance(plan, str):
                pr.outcome, pr.reason = Outcome.SKIPPED, f"on a fresh re-check: {plan}"
            else:
                pr.plan = plan
                to_apply.append(pr)
        if pr.outcome is Outcome.SKIPPED:
            result.plans.append(pr)
    # 6-8. ask, journal, apply
    journal = Journal(settings.repair.journal)
    approve_all = opts.assume_yes or not opts.interactive
    applied = []
    for pr in to_apply:
        result.plans.append(pr)
        if not approve_all:
            answer = opts.ask(pr.plan) if opts.ask else "n"
            if answer == "q":
                pr.outcome, pr.reason = Outcome.SKIPPED, "the operator stopped the run"
                for rest in to_apply[to_apply.index(pr) + 1:]:
                    rest.outcome, rest.reason = Outcome.SKIPPED, "the operator stopped the run"
                    result.plans.append(rest)
                raise Cancelled()
            if answer == "a":
                approve_all = True
            elif answer != "y":
                pr.outcome, pr.reason = Outcome.SKIPPED, "the operator said no"
                continue
        _apply_one(pr, repairs[pr.plan.repair], ctx, journal, result)
        if pr.outcome is Outcome.APPLIED:
            applied.append(pr)
    if not applied:
        return fresh
    # 9. verify
    verified, after, _ = _recheck(check, _scopes_of(applied), fresh, settings)
    for pr in applied:
        if not repairs[pr.plan.repair].settled(pr.plan, set(after), verified):
            pr.outcome, pr.reason = Outcome.FAILED, "the finding persists after the repair"
            journal.append({"id": pr.journal_id, "status": "unsettled", "time": now_iso()})
    return verified


def _apply_one(pr: PlanResult, repair: Repair, ctx, journal: Journal, result: RunResult) -> None:
    plan = pr.plan
    try:
        before = repair.before_image(plan, ctx)
    except NotOwned as e:
        pr.outcome, pr.reason = Outcome.SKIPPED, f"not provably OpenStack's: {e}"
        return
    except Exception as e:  # noqa: BLE001 - any client error: one line, nothing written
        pr.outcome, pr.reason = Outcome.FAILED, f"could not read the before-image: {_line(e)}"
        return
    pr.journal_id = new_id()
    journal.append({"id": pr.journal_id, "status": "intent", "time": now_iso(), "run_mode": result.mode,
                    "code": plan.finding.code, "check": plan.finding.name, "fingerprint": plan.finding.fingerprint,
                    "repair": plan.repair, "safety": plan.safety.value, "target": plan.target.as_dict(),
                    "action": plan.action, "params": plan.params, "undoable": repair.undoable, "before": before})
    try:
        done = repair.apply(plan, ctx, before)
    except Exception as e:  # noqa: BLE001
        pr.outcome, pr.reason = Outcome.FAILED, _line(e)
        journal.append({"id": pr.journal_id, "status": "failed", "time": now_iso(), "error": pr.reason})
        return
    message, after = done if isinstance(done, tuple) else (done, {})
    pr.outcome, pr.reason = Outcome.APPLIED, message
    journal.append({"id": pr.journal_id, "status": "applied", "time": now_iso(), "result": message, "after": after})


def _line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
