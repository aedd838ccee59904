"""Each guard of engine/guards.py on its own: allow, refuse, and the edge."""

from __future__ import annotations

import datetime as dt

import pytest

from osfsck.engine import guards
from osfsck.model.facts.hypervisor import Domain
from osfsck.model.facts.nova import Instance
from osfsck.model.finding import Finding, Severity
from osfsck.model.plan import RepairPlan, Safety
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import ANYWHERE, Coverage, Snapshot
from osfsck.repairs.base import NotOwned, Repair

NOW = dt.datetime(2026, 11, 24, 12, 0)
GRACE = 1800.0


def finding(changed_at=None, scope="host:hv1", related=()) -> Finding:
    return Finding(
        "HV102",
        "unknown-domain",
        Severity.HIGH,
        ObjectRef("domain", "d1", scope),
        "m",
        related=tuple(related),
        changed_at=changed_at,
    )


def plan(f: Finding, touches=()) -> RepairPlan:
    return RepairPlan("undefine-domain", Safety.UNSAFE, f, f.subject, "undefine", touches=tuple(touches))


def snapshot(*partial: tuple[str, str]) -> Snapshot:
    snap = Snapshot(taken_at=NOW)
    for kind, scope in partial:
        snap.cover(Coverage(kind, scope, "test", False, f"{scope} unreachable"))
    snap.cover(Coverage(Instance.kind, "cell:cell1", "test", True))
    return snap


# -- completeness -----------------------------------------------------------------------
def test_completeness_allows_a_decided_scope():
    f = finding()
    assert guards.completeness(f, plan(f), snapshot(), (Instance,), set()) is None


def test_completeness_refuses_a_scope_the_check_could_not_decide():
    f = finding()
    assert "could not decide host:hv1" in guards.completeness(f, plan(f), snapshot(), (), {"host:hv1"})


def test_completeness_refuses_a_related_or_touched_scope_read_partially():
    f = finding(related=[ObjectRef("instance", "i1", "cell:cell2")])
    why = guards.completeness(f, plan(f), snapshot((Instance.kind, "cell:cell2")), (Instance,), set())
    assert "nova.instance of cell:cell2 was not read completely (cell:cell2 unreachable)" == why
    f = finding()
    why = guards.completeness(
        f, plan(f, touches=["cell:cell2"]), snapshot((Instance.kind, "cell:cell2")), (Instance,), set()
    )
    assert why and "cell:cell2" in why


def test_completeness_ignores_partial_kinds_the_check_does_not_rely_on():
    f = finding()
    assert guards.completeness(f, plan(f), snapshot((Domain.kind, "host:hv1")), (Instance,), set()) is None


def test_completeness_refuses_everything_when_a_needed_kind_was_read_nowhere():
    f = finding()
    assert "anywhere" in guards.completeness(f, plan(f), snapshot(), (), {ANYWHERE})


# -- blast radius -----------------------------------------------------------------------
LIMITS = dict(max_per_check=25, implausible_share=0.5, implausible_min_examined=20)


@pytest.mark.parametrize(
    ("flagged", "eligible", "examined", "refused"),
    [
        (3, 3, 100, False),
        (25, 25, 100, False),  # exactly at the cap
        (26, 26, 100, True),  # one above
        (30, 20, 100, False),  # flagged above the cap, but only 20 could be applied
        (10, 10, 20, False),  # exactly half of the minimum examined
        (11, 11, 20, True),  # more than half
        (11, 11, 19, False),  # below the minimum examined, the share is not judged
    ],
)
def test_blast_radius_edges(flagged, eligible, examined, refused):
    why = guards.blast_radius(flagged, eligible, examined, **LIMITS)
    assert (why is not None) == refused


def test_blast_radius_says_which_limit():
    assert "implausible" in guards.blast_radius(11, 11, 20, **LIMITS)
    assert "per-check cap of 25" in guards.blast_radius(26, 26, 100, **LIMITS)


def test_a_batched_run_is_not_refused_by_the_cap_but_still_by_an_implausible_share():
    assert guards.blast_radius(26, 26, 100, **LIMITS, batched=True) is None
    assert "implausible" in guards.blast_radius(11, 11, 20, **LIMITS, batched=True)


def test_batch_takes_the_first_n_and_leaves_the_rest():
    assert guards.batch(2, [1, 2, 3]) == ([1, 2], [3])
    assert guards.batch(None, [1, 2, 3]) == ([1, 2, 3], [])
    assert guards.batch(5, [1]) == ([1], [])


# -- grace ------------------------------------------------------------------------------
def test_grace_by_the_subjects_own_change_time():
    old = finding(changed_at=NOW - dt.timedelta(hours=2))
    assert guards.grace(old, None, NOW, GRACE) == (None, None)
    recent = finding(changed_at=NOW - dt.timedelta(minutes=10))
    verdict = guards.grace(recent, None, NOW, GRACE)
    assert "changed 10 min ago" in verdict.reason and "repairable in 20 min" in verdict.reason
    assert verdict.repairable_at == NOW + dt.timedelta(minutes=20)


def test_grace_exactly_at_the_limit_lets_through():
    f = finding(changed_at=NOW - dt.timedelta(seconds=GRACE))
    assert guards.grace(f, None, NOW, GRACE).reason is None
    f = finding(changed_at=NOW - dt.timedelta(seconds=GRACE - 1))
    assert guards.grace(f, None, NOW, GRACE).reason is not None


def test_grace_without_a_change_time_counts_from_first_seen():
    f = finding()
    assert guards.grace(f, NOW - dt.timedelta(hours=1), NOW, GRACE).reason is None
    verdict = guards.grace(f, NOW - dt.timedelta(minutes=5), NOW, GRACE)
    assert verdict.reason.startswith("first seen 5 min ago") and verdict.repairable_at == NOW + dt.timedelta(minutes=25)


def test_grace_a_finding_first_seen_now_waits_unless_grace_is_zero():
    f = finding()
    verdict = guards.grace(f, None, NOW, GRACE)
    assert verdict.reason.startswith("first seen in this run") and "repairable in 30 min" in verdict.reason
    assert guards.grace(f, NOW, NOW, GRACE).reason.startswith("first seen in this run")
    assert guards.grace(f, None, NOW, 0.0).reason is None
    # a huge grace protects too (issue 15: grace = "3650d" did not stop HV102)
    assert guards.grace(f, NOW - dt.timedelta(days=30), NOW, 3650 * 86400.0).reason is not None


def test_grace_a_change_time_in_the_future_is_never_old_enough():
    f = finding(changed_at=NOW + dt.timedelta(minutes=3))  # the database's clock runs ahead
    assert "in the future" in guards.grace(f, None, NOW, 0.0).reason


def test_grace_the_subjects_change_time_wins_over_first_seen():
    """A zombie of an instance deleted two days ago, first seen now, is old enough."""
    f = finding(changed_at=NOW - dt.timedelta(days=2))
    assert guards.grace(f, NOW, NOW, GRACE).reason is None


# -- confirm-runs -----------------------------------------------------------------------
def test_confirm_runs_edges():
    assert guards.confirm_runs(1, 1) is None
    assert guards.confirm_runs(2, 2) is None  # exactly
    assert guards.confirm_runs(1, 2) == "seen in 1 of the 2 consecutive runs required"
    assert guards.confirm_runs(0, 1) is not None


# -- ownership --------------------------------------------------------------------------
class _Picky(Repair):
    name = "picky"

    def ownership(self, plan, snap):
        if plan.target.id != "ours":
            raise NotOwned("no Nova metadata in its XML")


def test_ownership_allows_what_is_provably_openstacks():
    f = Finding("HV102", "unknown-domain", Severity.HIGH, ObjectRef("domain", "ours", "host:hv1"), "m")
    assert guards.ownership(_Picky(), plan(f), snapshot()) is None


def test_ownership_refuses_the_rest():
    f = finding()
    assert guards.ownership(_Picky(), plan(f), snapshot()) == "not provably OpenStack's: no Nova metadata in its XML"


# -- fresh re-check ---------------------------------------------------------------------
def test_fresh_recheck_still_there():
    f = finding()
    again = finding(changed_at=NOW)
    assert guards.fresh_recheck(f, {f.fingerprint: again}, set()) == (again, None)


def test_fresh_recheck_gone_or_undecided():
    f = finding()
    assert guards.fresh_recheck(f, {}, set()) == (None, "gone on a fresh re-check")
    assert guards.fresh_recheck(f, {}, {"host:hv1"}) == (None, "fresh re-check was inconclusive")


# -- verify -----------------------------------------------------------------------------
def test_verify_settled_and_unsettled():
    f = finding()
    assert guards.verify(Repair(), plan(f), set(), snapshot()) is None
    assert guards.verify(Repair(), plan(f), {f.fingerprint}, snapshot()) == "the finding persists after the repair"


def test_the_documented_order():
    assert guards.ORDER == (
        "completeness",
        "blast_radius",
        "grace",
        "confirm_runs",
        "ownership",
        "fresh_recheck",
        "verify",
    )
    assert all(callable(getattr(guards, name)) for name in guards.ORDER)
