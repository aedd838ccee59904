"""From findings to applied repairs, behind the guards of engine/guards.py, in their order:
mode, completeness, blast radius, grace, confirm-runs, ownership, fresh re-check,
(operator), journal, apply, verify.

A read-only run goes through the same planning and guards, so `check` says what `repair`
would do and when (a plan the grace holds back says when it becomes repairable)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError

from osfsck.checks.base import Check
from osfsck.clients.http_errors import chain
from osfsck.config.settings import Settings
from osfsck.engine import guards, planfile, wiring
from osfsck.engine.collect import collect
from osfsck.engine.context import RepairContext
from osfsck.engine.journal import Journal, JournalError, new_id, now_iso
from osfsck.engine.judge import judge
from osfsck.engine.options import RunOptions
from osfsck.engine.state import Seen
from osfsck.model.finding import Finding
from osfsck.model.plan import Outcome, PlanResult, RepairPlan, Safety
from osfsck.model.result import CheckStats, RunResult, SourceStatus
from osfsck.model.snapshot import Snapshot
from osfsck.repairs.base import Context, NotOwned, Repair
from osfsck.repairs.registry import all_repairs

log = logging.getLogger(__name__)

# recollect(check, scopes, current) -> (fresh snapshot, fresh findings by fingerprint,
# scopes the check could not decide): the live re-read behind the fresh re-check and the
# verification (tests give their own)
Recollect = Callable[[Check, set[str], Snapshot], tuple[Snapshot, dict[str, Finding], set[str]]]


# a plan file matched to a run: (entries that may be applied, why each other entry of a
# finding found is not, a line per entry whose finding is gone)
Matched = tuple[dict[str, dict[str, Any]], dict[str, str], list[str]]


class Cancelled(Exception):
    pass


def choose_plan(
    check: Check, finding: Finding, snap: Snapshot, repairs: dict[str, Repair], settings: Settings
) -> RepairPlan | str:
    """The first of the check's repairs (or the one configured for it) that can plan it:
    a repair whose way in is not configured (an API) gives way to the next (a runbook),
    and the plan says why in `fallback`."""
    names = [check.params["repair"]] if check.params.get("repair") else list(check.repairs)
    if not names:
        return "no repair is defined for this check"
    reasons: list[str] = []
    for name in names:
        repair = repairs.get(name)
        if repair is None:
            return f"unknown repair {name!r}"
        why = repair.unavailable(settings)
        plan = why or repair.plan(finding, snap)
        if isinstance(plan, RepairPlan):
            return dataclasses.replace(plan, fallback="; ".join(reasons)) if reasons else plan
        reasons.append(f"{name}: {plan}")
    return "; ".join(reasons)


@dataclasses.dataclass
class _Run:
    """What planning and applying share for one run."""

    settings: Settings
    opts: RunOptions
    result: RunResult
    repairs: dict[str, Repair]
    seen: dict[str, Seen]
    recollect: Recollect
    ctx: RepairContext | None = None
    # repair --plan: the plan file's entries that may be applied, by fingerprint, and why
    # each of the run's plans is not (None: no plan file, every plan may be)
    allowed: dict[str, dict[str, Any]] | None = None
    refused: dict[str, str] = dataclasses.field(default_factory=dict)


def repair_findings(
    settings: Settings,
    opts: RunOptions,
    checks: list[Check],
    snap: Snapshot,
    result: RunResult,
    seen: dict[str, Seen] | None = None,
    recollect: Recollect | None = None,
    repairs: dict[str, Repair] | None = None,
    matched: Matched | None = None,
) -> None:
    """Plan every finding of `result`; in a repair run, apply what the guards let through.
    `seen` is the state file's record of each finding (first seen, runs); `recollect` and
    `repairs` default to the live re-read and the registry's repairs; `matched`, the plan
    file's entries matched to this run's plans (match_plan), when the caller did it first."""
    run = _Run(
        settings,
        opts,
        result,
        repairs or {name: cls() for name, cls in all_repairs().items()},
        seen or {},
        recollect or (lambda check, scopes, current: _recheck(check, scopes, current, settings, result.sources)),
    )
    by_code: dict[str, list[Finding]] = defaultdict(list)
    for f in result.findings:
        by_code[f.code].append(f)
    stats = {s.code: s for s in result.checks}
    if opts.plan is not None:  # before anything is written: an edited file stops here
        run.allowed, run.refused, gone = matched or match_plan(settings, opts, checks, snap, result, run.repairs)
        result.warnings.extend(gone)
    run.ctx = RepairContext(settings, snap) if opts.repair else None
    current = snap
    try:
        for check in sorted(checks, key=lambda c: c.code):
            findings = by_code.get(check.code, [])
            if not findings:
                continue
            if current is not snap:
                # earlier repairs changed the cloud: plan from what is true now (a zombie's
                # folder is no longer in use once the zombie is gone)
                findings = judge(check, current).findings
            batch = _plan_check(run, check, findings, current, stats[check.code])
            if batch and opts.repair:
                current = _apply_batch(run, check, batch, current)
    except Cancelled:
        result.cancelled = True
    finally:
        if run.ctx is not None:
            run.ctx.close()
    result.plans.sort(key=lambda p: p.finding.sort_key())


def _plan_check(
    run: _Run, check: Check, findings: list[Finding], snap: Snapshot, stats: CheckStats
) -> list[PlanResult]:
    """Record a PlanResult for every finding; return those that may be applied now."""
    opts, result = run.opts, run.result
    eligible: list[PlanResult] = []
    for f in findings:
        plan = choose_plan(check, f, snap, run.repairs, run.settings)
        if isinstance(plan, str):
            result.plans.append(PlanResult(f, None, Outcome.NONE, plan))
        elif plan.safety is Safety.MANUAL:
            why = "a person must follow the runbook"
            if plan.fallback:
                why += f" (no automatic repair here: {plan.fallback})"
            result.plans.append(PlanResult(f, plan, Outcome.MANUAL, why))
        elif opts.repair and plan.safety is Safety.UNSAFE and not opts.unsafe:
            result.plans.append(PlanResult(f, plan, Outcome.PLANNED, "unsafe: applied only with --unsafe"))
        else:
            eligible.append(PlanResult(f, plan, Outcome.PLANNED))
    if run.allowed is not None:  # repair --plan: what the file does not hold is not applied
        for pr in eligible:
            if pr.finding.fingerprint not in run.allowed:
                pr.outcome = Outcome.SKIPPED
                pr.reason = run.refused.get(pr.finding.fingerprint, "not in the plan file")
                result.plans.append(pr)
        eligible = [pr for pr in eligible if pr.finding.fingerprint in run.allowed]
    if not eligible:
        return []
    held = Outcome.SKIPPED if opts.repair else Outcome.PLANNED
    rs = run.settings.repair
    refusal = guards.blast_radius(
        len(findings),
        len(eligible),
        stats.examined,
        max_per_check=rs.max_per_check,
        implausible_share=rs.implausible_share,
        implausible_min_examined=rs.implausible_min_examined,
        batched=opts.repair and opts.max_count is not None,
    )
    if refusal:
        stats.repair_refused = refusal
        for pr in eligible:
            pr.outcome, pr.reason = held, refusal
        result.plans.extend(eligible)
        return []
    unsure = {i.scope for i in stats.inconclusive}
    kept = []
    for pr in eligible:
        reason, pr.repairable_at = _guard(run, check, pr.finding, _planned(pr), snap, unsure)
        if reason:
            pr.outcome, pr.reason = held, reason
        elif not opts.repair:
            pr.reason = "read-only run"
        else:
            kept.append(pr)
            continue
        result.plans.append(pr)
    kept.sort(key=lambda pr: guards.batch_order(pr.finding))
    kept, left = guards.batch(opts.max_count if opts.repair else None, kept)
    for pr in left:
        pr.outcome, pr.reason = Outcome.LEFT, f"left: batch limit (--max-count {opts.max_count})"
    result.plans.extend(left)
    return kept


def _guard(
    run: _Run, check: Check, f: Finding, plan: RepairPlan, snap: Snapshot, unsure: set[str]
) -> tuple[str | None, dt.datetime | None]:
    """The per-plan guards, in order: the first reason to hold the plan back, and when the
    grace will let it through."""
    reason = guards.completeness(f, plan, snap, check.relies_on, unsure)
    if reason:
        return reason, None
    grace_s = float(
        run.opts.grace if run.opts.grace is not None else check.params.get("grace", run.settings.repair.grace)
    )
    seen = run.seen.get(f.fingerprint)
    verdict = guards.grace(f, seen.first_seen if seen else None, snap.taken_at, grace_s)
    if verdict.reason:
        return verdict.reason, verdict.repairable_at
    # this run has seen it, recorded or not (a check that could not write the state file)
    reason = guards.confirm_runs(seen.runs if seen else 1, run.settings.repair.confirm_runs) or guards.ownership(
        run.repairs[plan.repair], plan, snap
    )
    return reason, None


def match_plan(
    settings: Settings,
    opts: RunOptions,
    checks: list[Check],
    snap: Snapshot,
    result: RunResult,
    repairs: dict[str, Repair] | None = None,
) -> Matched:
    """The plan file's entries that may be applied, each matched to the plan this run makes
    for the finding it finds now; why each other entry of a finding found is not; a line
    for each entry whose finding is gone.  An entry edited beyond removal raises
    PlanFileError: the run calls this before it writes anything, its state file included."""
    plan = opts.plan
    if plan is None:
        return {}, {}, []
    repairs = repairs or {name: cls() for name, cls in all_repairs().items()}
    by_code = {c.code: c for c in checks}
    found = {f.fingerprint: f for f in result.findings}
    allowed, refused, gone = {}, {}, []
    for fp, entry in sorted(plan.entries.items()):
        f = found.get(fp)
        check = by_code.get(entry["code"])
        mine = choose_plan(check, f, snap, repairs, settings) if f is not None and check else None
        pr = None if f is None else PlanResult(f, mine if isinstance(mine, RepairPlan) else None, Outcome.PLANNED)
        why = planfile.verdict(entry, pr)
        if why is None:
            allowed[fp] = entry
        elif f is None:
            gone.append(f"plan {fp} ({entry['code']} {entry['subject'].get('id', '?')}): {why}")
        else:
            refused[fp] = why
    return allowed, refused, gone


def _scopes_of(plans: list[PlanResult]) -> set[str]:
    """What to re-read for a fresh re-check: the scopes of the subjects, of their related
    objects and of whatever the repairs write.  A shared-storage scope is read through
    its hosts (related objects)."""
    scopes: set[str] = set()
    for pr in plans:
        scopes |= {s for s in guards.plan_scopes(pr.finding, pr.plan) if not s.startswith("storage:")}
    return scopes


def _recheck(
    check: Check, scopes: set[str], current: Snapshot, settings: Settings, sources: list[SourceStatus]
) -> tuple[Snapshot, dict[str, Finding], set[str]]:
    """Re-collect `scopes` live and re-run `check`: (fresh snapshot, findings by fingerprint,
    inconclusive scopes).  A source that fails now is added to the run's `sources`: the run
    is incomplete (exit 8, one line on stderr) though its snapshot was not."""
    kinds = wiring.kinds_to_collect(settings, [check])
    readers = wiring.build_sources(settings, kinds)
    for src in readers:
        src.within = current.scope  # a scoped run's per-project rows stay its projects'
    new, statuses = collect(readers, kinds, known=current, scopes=scopes)
    failed = [s for s in statuses if s.status != "ok"]
    if failed:
        now = {(s.source, s.scope) for s in failed}
        sources[:] = sorted(
            [o for o in sources if (o.source, o.scope) not in now] + failed, key=lambda s: (s.source, s.scope)
        )
    fresh = current.replace_scopes(new)
    out = judge(check, fresh)
    return fresh, {f.fingerprint: f for f in out.findings}, {i.scope for i in out.inconclusive_list}


def _apply_batch(run: _Run, check: Check, batch: list[PlanResult], current: Snapshot) -> Snapshot:
    result, ctx = run.result, run.ctx
    if ctx is None:
        raise ValueError("repairs are applied in a repair run only, which opens their context")
    fresh, now, unsure = run.recollect(check, _scopes_of(batch), current)
    to_apply = []
    for pr in batch:
        f, why = guards.fresh_recheck(pr.finding, now, unsure)
        if f is not None:
            plan = choose_plan(check, f, fresh, run.repairs, run.settings)
            if isinstance(plan, str) or plan.safety is not _planned(pr).safety:
                why = f"on a fresh re-check: {plan if isinstance(plan, str) else 'another repair applies now'}"
            elif run.allowed is not None and (key := planfile.edited(run.allowed[f.fingerprint], plan)):
                why = f"on a fresh re-check: its {key} is no longer the plan file's: not applied"
            else:
                # what changed since the snapshot is judged again: a subject changed
                # meanwhile is within its grace once more
                why, pr.repairable_at = _guard(run, check, f, plan, fresh, unsure)
                pr.plan = plan
        if why:
            pr.outcome, pr.reason = Outcome.SKIPPED, why
            result.plans.append(pr)
        else:
            to_apply.append(pr)
    journal = Journal(run.settings.repair.journal)
    approve_all = run.opts.assume_yes or not run.opts.interactive
    applied = []
    for n, pr in enumerate(to_apply):
        result.plans.append(pr)
        if not approve_all:
            answer = run.opts.ask(_planned(pr)) if run.opts.ask else "n"
            if answer == "q":
                for rest in to_apply[n:]:
                    rest.outcome, rest.reason = Outcome.SKIPPED, "the operator stopped the run"
                result.plans.extend(to_apply[n + 1 :])
                raise Cancelled()
            if answer == "a":
                approve_all = True
            elif answer != "y":
                pr.outcome, pr.reason = Outcome.SKIPPED, "the operator said no"
                continue
        apply_one(pr, run.repairs[_planned(pr).repair], ctx, journal, result.mode)
        if pr.outcome is Outcome.APPLIED:
            applied.append(pr)
    if not applied:
        return fresh
    verified, after, _ = run.recollect(check, _scopes_of(applied), fresh)
    for pr in applied:
        plan = _planned(pr)
        why = guards.verify(run.repairs[plan.repair], plan, set(after), verified)
        if why:
            pr.outcome, pr.reason = Outcome.FAILED, why
            journal.append({"id": pr.journal_id, "status": "unsettled", "time": now_iso()})
    return verified


def apply_one(pr: PlanResult, repair: Repair, ctx: Context, journal: Journal, mode: str) -> None:
    """Before-image, journal (fsynced), apply, journal: the one way a repair is applied."""
    plan = _planned(pr)
    try:
        before = repair.before_image(plan, ctx)
    except NotOwned as e:
        pr.outcome, pr.reason = Outcome.SKIPPED, f"not provably OpenStack's: {e}"
        return
    except Exception as e:  # noqa: BLE001 - any client error: one line, nothing written
        pr.outcome, pr.reason = Outcome.FAILED, f"could not read the before-image: {_line(e)}"
        return
    pr.journal_id = new_id()
    journal.append(
        {
            "id": pr.journal_id,
            "status": "intent",
            "time": now_iso(),
            "run_mode": mode,
            "code": plan.finding.code,
            "check": plan.finding.name,
            "fingerprint": plan.finding.fingerprint,
            "repair": plan.repair,
            "safety": plan.safety.value,
            "target": plan.target.as_dict(),
            "action": plan.action,
            "params": plan.params,
            "undoable": repair.undoable,
            "before": before,
        }
    )
    try:
        done = repair.apply(plan, ctx, before)
    except Exception as e:  # noqa: BLE001
        pr.outcome, pr.reason = Outcome.FAILED, _line(e)
        if _maybe_made(e, repair, plan, ctx, before):
            pr.reason += (
                f"; the write may have been made (its answer was lost and re-reading {plan.target} "
                f"does not show it unchanged): check it by hand against the before-image of journal "
                f"entry {pr.journal_id} (`osfsck journal`)"
            )
            journal.append({"id": pr.journal_id, "status": "uncertain", "time": now_iso(), "error": pr.reason})
        else:
            journal.append({"id": pr.journal_id, "status": "failed", "time": now_iso(), "error": pr.reason})
        return
    message, after = done if isinstance(done, tuple) else (done, {})
    pr.outcome, pr.reason = Outcome.APPLIED, message
    try:
        journal.append({"id": pr.journal_id, "status": "applied", "time": now_iso(), "result": message, "after": after})
    except JournalError as e:
        # the run stops here; the operator must not read the lone intent as "not done"
        raise JournalError(
            f"{e}; {plan.repair} was applied (journal entry {pr.journal_id}: its intent and "
            "before-image are journaled, its outcome is not)"
        ) from None


def _maybe_made(error: Exception, repair: Repair, plan: RepairPlan, ctx: Context, before: dict[str, Any]) -> bool:
    """Whether a failed write may still have been made: when its answer was lost (the
    connection dropped after sending, the service killed before it answered) and
    re-reading the subject does not give the before-image back.  A refusal (osfsck's own,
    or the service's answer) made nothing; a repair with no before-image cannot be told
    and is taken as not made (such repairs cannot be undone either)."""
    if not before or not _answer_lost(error):
        return False
    try:
        return repair.before_image(plan, ctx) != before
    except Exception:  # noqa: BLE001 - the service is gone: the write may have reached it
        return True


def _answer_lost(error: Exception) -> bool:
    """Whether `error`, or what it was raised from or during (a repair wraps its client's
    error in a RepairError), is a request sent and never answered."""
    return any(
        getattr(x, "answered", None) is False
        or isinstance(x, (ConnectionError, TimeoutError, EOFError))
        or (isinstance(x, DBAPIError) and x.connection_invalidated)
        for x in chain(error)
    )


def _planned(pr: PlanResult) -> RepairPlan:
    """The plan of a PlanResult that was planned (None only where no repair could be)."""
    if pr.plan is None:
        raise ValueError(f"{pr.finding.code} {pr.finding.subject}: no plan to apply")
    return pr.plan


def _line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
