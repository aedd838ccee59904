"""Property: partial data never creates a finding, and never hides one silently (DESIGN §3,
house rule 2), for every check of the catalogue and every kind of scope.

Every scenario case of every check is taken as a complete world.  Each (fact kind, scope)
its snapshot covers -- a cell's rows, a host's domains or sessions, a DNS zone, the OVN or
NSX controller, a broker's vhost, a service's database, the API database -- is then made
partial in two ways:

- "unreadable": its facts are removed and its coverage says complete=False with a reason
  (a cell database locked, a host unreachable, a zone transfer refused);
- "not collected": its facts and its coverage entry are both removed (a source that never
  ran for it).

For each such snapshot, the findings (by fingerprint) must be a subset of the complete
world's: what a partial read shows is never a finding the complete read would not make.
A finding of the complete world that disappears must be explained: either its subject lives
in a removed scope (the object itself was not seen), or the check says it could not decide
somewhere (an inconclusive scope the complete run did not have, or the removed scope).  Two
things osfsck reads only when configured may also take findings away when never collected,
by design: a DNS zone that is not in [dns.zones] (names in it are not judged) and a kind a
check only `uses` (optional evidence, such as Designate's record of what designate-sink
made).  Neither may add a finding.

The scenario builds are deterministic, so one scope at a time (and each whole scope: every
kind of a cell, host, zone... at once) is tried exhaustively; hypothesis then combines
several partial scopes of one case at once.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osfsck.model.facts.dns import DnsRecord, DnsZone
from osfsck.model.snapshot import Coverage, Snapshot, scope_of
from tests.checks.scenario import scenario_modules

UNREADABLE, NOT_COLLECTED = "unreadable", "not collected"
WAYS = (UNREADABLE, NOT_COLLECTED)


def _cases():
    for modname, mod in scenario_modules().items():
        short = modname.split(".", 2)[2]
        for case in mod.CASES:
            yield f"{short}:{case.kind}:{case.name}", mod.CHECK, case


CASES = list(_cases())


def partial_copy(snap: Snapshot, removed: set, way: str) -> Snapshot:
    """`snap` with the facts of every (kind, scope) in `removed` gone, and their coverage
    marked incomplete (UNREADABLE) or dropped (NOT_COLLECTED)."""
    out = Snapshot(taken_at=snap.taken_at, scope=snap.scope)
    out.schemas = dict(snap.schemas)  # the version tables read (QU101 takes Neutron's defaults from it)
    for kind, items in snap.facts.items():
        kept = [f for f in items if (kind, scope_of(f)) not in removed]
        if kept:
            out.add(kind, kept)
    for key, cov in snap.coverage.items():
        if key not in removed:
            out.cover(cov)
        elif way == UNREADABLE:
            out.cover(
                Coverage(
                    cov.kind,
                    cov.scope,
                    cov.source,
                    False,
                    f"{cov.kind} could not be read in {cov.scope} (test)",
                    cov.collected_at,
                )
            )
    return out


def violations(check_cls, case, base_snap: Snapshot, removed: set, way: str) -> list[str]:
    """What went wrong when `removed` is made partial in `way`, one line each."""
    check = check_cls(case.params)
    base = check.evaluate(base_snap)
    got = check.evaluate(partial_copy(base_snap, removed, way))
    before = {f.fingerprint: f for f in base.findings}
    after = {f.fingerprint: f for f in got.findings}
    was_inconclusive = {(i.scope, i.reason) for i in base.inconclusive_list}
    now_inconclusive = {(i.scope, i.reason) for i in got.inconclusive_list}
    scopes = {scope for _, scope in removed}
    said_so = (
        bool(now_inconclusive - was_inconclusive)
        or bool(scopes & {s for s, _ in now_inconclusive})
        or way == NOT_COLLECTED
        and not_configured(check_cls, removed)
    )
    where = f"{way} {sorted(removed)}"
    found = [
        f"{where}: new finding {after[fp].subject}: {after[fp].message}" for fp in sorted(after.keys() - before.keys())
    ]
    lost = [
        f"{where}: finding lost silently {before[fp].subject}: {before[fp].message}"
        for fp in sorted(before.keys() - after.keys())
        if before[fp].subject.scope not in scopes and not said_so
    ]
    return found + lost


def not_configured(check_cls, removed: set) -> bool:
    """Whether `removed`, never collected, includes what osfsck reads only when configured:
    a whole DNS zone (its records and its template), or a kind the check only uses."""
    uses = {k.kind for k in check_cls.uses}
    zones = {scope for kind, scope in removed if scope.startswith("dns:")}
    whole = {z for z in zones if {(DnsRecord.kind, z), (DnsZone.kind, z)} <= removed}
    return bool(whole) or any(kind in uses for kind, _ in removed)


def one_scope_at_a_time(snap: Snapshot):
    """Each covered (kind, scope) alone, then each scope with all its kinds at once."""
    by_scope: dict[str, set] = {}
    for key in sorted(snap.coverage):
        yield {key}
        by_scope.setdefault(key[1], set()).add(key)
    for scope in sorted(by_scope):
        if len(by_scope[scope]) > 1:
            yield by_scope[scope]


def _params():
    for case_id, check_cls, case in CASES:
        yield pytest.param(check_cls, case, id=case_id)


@pytest.mark.parametrize(("check_cls", "case"), list(_params()))
def test_each_partial_scope(check_cls, case):
    snap = case.build()
    problems = [
        v
        for removed in one_scope_at_a_time(snap)
        for way in WAYS
        for v in violations(check_cls, case, snap, removed, way)
    ]
    assert problems == [], "\n".join(problems)


@st.composite
def partial_worlds(draw):
    case_id, check_cls, case = draw(st.sampled_from(CASES))
    snap = case.build()
    keys = sorted(snap.coverage)
    scopes = sorted({scope for _, scope in keys})
    removed = set()
    if keys:
        # a few whole scopes (a cell down, a host unreachable) and a few single kinds
        whole = draw(st.sets(st.sampled_from(scopes), max_size=3))
        removed = {k for k in keys if k[1] in whole} | draw(st.sets(st.sampled_from(keys), max_size=4))
    return case_id, check_cls, case, snap, removed, draw(st.sampled_from(WAYS))


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(partial_worlds())
def test_several_partial_scopes_at_once(world):
    case_id, check_cls, case, snap, removed, way = world
    problems = violations(check_cls, case, snap, removed, way)
    assert problems == [], f"{case_id}\n" + "\n".join(problems)
