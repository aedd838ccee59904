"""The repair guards of DESIGN §5, each a small pure function, in the order the engine
applies them:

    completeness -> blast radius -> grace -> confirm-runs -> ownership
    -> (fresh re-check) -> (operator) -> journal -> apply -> verify

A guard returns None to let a plan through, or a one-line reason to skip it (the blast
radius refuses a whole check).  None of them reads a clock, a file or the cloud: what
they judge is handed to them, so each can be tested at its edges (exactly at the cap,
exactly at the grace).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from osfsck.model.facts.base import FactType
from osfsck.model.finding import Finding
from osfsck.model.plan import RepairPlan
from osfsck.model.snapshot import ANYWHERE, Snapshot

if TYPE_CHECKING:
    from osfsck.repairs.base import Repair

T = TypeVar("T")

ORDER = ("completeness", "blast_radius", "grace", "confirm_runs", "ownership", "fresh_recheck", "verify")


def plan_scopes(finding: Finding, plan: RepairPlan | None) -> set[str]:
    """Every scope a repair of `finding` judges or writes: its subject's, its related
    objects', its target's and what the plan declares it touches."""
    refs = (finding.subject, *finding.related, *((plan.target,) if plan else ()))
    return {r.scope for r in refs} | set(plan.touches if plan else ())


def completeness(
    finding: Finding, plan: RepairPlan, snap: Snapshot, relies_on: Iterable[FactType], inconclusive: set[str]
) -> str | None:
    """Absence needs completeness, once more at the door: no repair of a finding whose
    scopes the check could not decide, or where a kind the check relies on is partial.
    (A check should not have made such a finding; this guard does not trust it to.)"""
    if ANYWHERE in inconclusive:
        return "the check could not decide anywhere: a kind it needs was not collected"
    scopes = plan_scopes(finding, plan)
    away = sorted(s for s in scopes if snap.outside(s))
    if away and snap.scope:
        return f"{away[0]} lies outside the run's scope ({snap.scope.describe()}): not repaired in this run"
    undecided = sorted(scopes & inconclusive)
    if undecided:
        return f"the check could not decide {undecided[0]}: not repaired while its data is incomplete"
    for kind in relies_on:
        for scope in sorted(scopes):
            cov = snap.coverage.get((kind.kind, scope))
            if cov is not None and not cov.complete:
                return f"{kind.kind} of {scope} was not read completely ({cov.reason or 'partial'})"
    return None


def blast_radius(
    flagged: int,
    eligible: int,
    examined: int,
    *,
    max_per_check: int,
    implausible_share: float,
    implausible_min_examined: int,
    batched: bool = False,
) -> str | None:
    """A check that flags an implausible share of what it examined repairs nothing (look
    for a wrong or partial source); above the per-check cap it repairs nothing either,
    unless the run is `batched` (`repair --max-count N`, N at most the cap): then the first
    N are applied and the rest left for the next run (see `batch`)."""
    if examined >= implausible_min_examined and flagged > implausible_share * examined:
        return (
            f"{flagged} of {examined} examined objects flagged: implausible, "
            "refusing to repair any (look for a partial or wrong source)"
        )
    if eligible > max_per_check and not batched:
        return (
            f"{eligible} repairs exceed the per-check cap of {max_per_check} "
            "([repair] max_per_check, or narrow the run with --select)"
        )
    return None


def batch_order(finding: Finding) -> tuple[str, str, str]:
    """The stable order in which `repair --max-count N` takes a check's plans: by subject
    (its scope, kind and id), so an operator can tell which come next, and a second run,
    where the first N are gone, continues with the next N."""
    s = finding.subject
    return (s.scope, s.kind, s.id)


def batch(count: int | None, ready: list[T]) -> tuple[list[T], list[T]]:
    """(the first `count` of `ready`, the rest): `ready` already in batch_order; no count
    (no --max-count) takes them all."""
    if count is None:
        return ready, []
    return ready[:count], ready[count:]


class GraceVerdict(NamedTuple):
    reason: str | None  # None: old enough
    repairable_at: dt.datetime | None  # when it will be, if not yet


def grace(finding: Finding, first_seen: dt.datetime | None, now: dt.datetime, grace_s: float) -> GraceVerdict:
    """Every repair waits `grace_s` seconds after the subject last changed, by its own
    system's clock where it records one (`changed_at`: Nova's updated_at, a queue's idle
    time...), else after osfsck first saw this finding (the state file).  A finding seen
    for the first time in this run has age 0: it is repaired only with a grace of 0.  A
    change time in the future (clock skew between osfsck and the service) is never old
    enough."""
    if finding.changed_at is not None:
        since, basis = finding.changed_at, "changed"
    else:
        since, basis = (first_seen or now), "first seen"
    age = (now - since).total_seconds()
    if age < 0:
        return GraceVerdict(f"{basis} {_duration(-age)} in the future (clock skew?): not repaired", None)
    if age >= grace_s:
        return GraceVerdict(None, None)
    at = since + dt.timedelta(seconds=grace_s)
    when = "in this run" if basis == "first seen" and age == 0 else f"{_duration(age)} ago"
    return GraceVerdict(
        f"{basis} {when}, within the grace of {_duration(grace_s)}: repairable in {_duration(grace_s - age)}", at
    )


def confirm_runs(runs_seen: int, required: int) -> str | None:
    """With `confirm_runs = N`, a finding must have been seen in N consecutive runs."""
    if runs_seen < required:
        return f"seen in {runs_seen} of the {required} consecutive runs required"
    return None


def ownership(repair: Repair, plan: RepairPlan, snap: Snapshot) -> str | None:
    """Destructive steps touch only objects provably OpenStack's (the repair decides how)."""
    from osfsck.repairs.base import NotOwned

    try:
        repair.ownership(plan, snap)
    except NotOwned as e:
        return f"not provably OpenStack's: {e}"
    return None


def fresh_recheck(finding: Finding, fresh: dict[str, Finding], unsure: set[str]) -> tuple[Finding | None, str | None]:
    """After re-reading the subjects' scopes live: the finding as it is now, or why not."""
    now = fresh.get(finding.fingerprint)
    if now is not None:
        return now, None
    if plan_scopes(finding, None) & unsure:
        return None, "fresh re-check was inconclusive"
    return None, "gone on a fresh re-check"


def verify(repair: Repair, plan: RepairPlan, after: set[str], snap: Snapshot) -> str | None:
    """After applying: the finding must be gone (fixes must settle)."""
    if repair.settled(plan, after, snap):
        return None
    return "the finding persists after the repair"


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s / 3600:.1f} h".replace(".0 h", " h")
    return f"{s / 86400:.1f} d".replace(".0 d", " d")
