"""One run: collect (or load) a snapshot, evaluate the selected checks, record what was
seen in the state file, plan, and repair if asked (holding the journal's writer lock)."""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext

from osfsck.checks.base import Check, CheckOutput
from osfsck.config.settings import ConfigError, Settings
from osfsck.engine import state, wiring
from osfsck.engine.collect import collect
from osfsck.engine.judge import judge
from osfsck.engine.lock import exclusive
from osfsck.engine.options import RunOptions
from osfsck.engine.repair import match_plan, repair_findings
from osfsck.model.facts.nova import API_SCOPE, Cell
from osfsck.model.result import CheckStats, Fixed, RunDiff, RunResult, SourceStatus
from osfsck.model.scope import RunScope, ScopeError
from osfsck.model.snapshot import Snapshot
from osfsck.model.snapshot_merge import SnapshotMergeError, merge
from osfsck.sources.base import ProgressFactory


def collect_snapshot(
    settings: Settings, checks: list[Check], progress: ProgressFactory | None = None, scope: RunScope | None = None
) -> tuple[Snapshot, list[SourceStatus]]:
    """Collect what `checks` need; with `scope`, only what lies inside it (each source
    reads nothing outside: a cell not named is not even connected to), and the snapshot
    says so (`Snapshot.scope`), so that what was not read is never taken for empty."""
    kinds = wiring.kinds_to_collect(settings, checks)
    sources = wiring.build_sources(settings, kinds)
    for src in sources:
        src.within = scope or None
    snap, statuses = collect(sources, kinds, progress=progress)
    return scoped(snap, scope), statuses


def scoped(snap: Snapshot, scope: RunScope | None) -> Snapshot:
    """`snap` marked as read for `scope` (its indexes built before that forgotten)."""
    snap.scope = scope or None
    snap.memo.clear()
    return snap


def from_snapshots(paths: tuple[str, ...], scope: RunScope | None, max_skew: float) -> Snapshot:
    """Saved snapshots as one (taken at most `max_skew` seconds apart), narrowed to
    `scope` as a live run of that scope would read it (within the scope they were
    collected for, if any)."""
    try:
        snap = merge([Snapshot.read(p) for p in paths], max_skew, paths)
    except SnapshotMergeError as e:
        raise ConfigError(str(e)) from None
    if not scope:
        return snap
    try:
        wanted = scope.within(snap.scope)
    except ScopeError as e:
        raise ConfigError(str(e)) from None
    cells = [(c.name, c.uuid) for c in snap.of(Cell)]
    unknown = wanted.unknown_cells(cells)
    if unknown and snap.is_complete(Cell, API_SCOPE):
        known = ", ".join(sorted(n for n, _ in cells)) or "none"
        raise ConfigError(f"--cell {unknown[0]}: no cell of that name or uuid in the snapshot (cells: {known})")
    return snap.narrowed(wanted)


def evaluate(checks: list[Check], snap: Snapshot, result: RunResult) -> dict[str, CheckOutput]:
    """Run every check on `snap`; fill `result`; return each check's output by code."""
    outputs = {}
    for check in checks:
        out = judge(check, snap)
        outputs[check.code] = out
        result.findings.extend(out.findings)
        result.checks.append(
            CheckStats(
                check.code,
                check.name,
                out.examined,
                len(out.findings),
                out.inconclusive_list,
                severity=check.severity.value,
            )
        )
    result.findings.sort(key=lambda f: f.sort_key())
    return outputs


def run(settings: Settings, opts: RunOptions) -> RunResult:
    if opts.plan is not None:
        # the plan file says what runs: its checks, in the scope it was made for
        if opts.select or opts.ignore or opts.scope or not opts.repair:
            raise ConfigError("a plan file says which checks run and where: --plan goes with `repair` alone")
        opts = dataclasses.replace(opts, select=opts.plan.codes, scope=opts.plan.scope)
    checks = wiring.build_checks(settings, opts.select, opts.ignore)
    skipped: list[tuple[str, str, str]] = []
    if opts.from_snapshots and opts.repair:
        raise ConfigError("repairs need live sources: --from works only with `osfsck check`")
    if opts.max_count is not None and not 1 <= opts.max_count <= settings.repair.max_per_check:
        raise ConfigError(
            f"--max-count {opts.max_count}: a batch is 1 to [repair] max_per_check "
            f"({settings.repair.max_per_check}) plans per check; raise max_per_check to allow bigger ones"
        )
    if not opts.from_snapshots:
        checks, skipped = wiring.runnable_checks(settings, checks, explicit=bool(opts.select))
        if not checks:
            raise ConfigError("no check can run: " + "; ".join(sorted({why for _, _, why in skipped})))
    # one writer at a time per journal, from before the cloud is read until the last
    # repair is verified: two runs must not both act on what they both saw
    with exclusive(settings.repair.journal, opts.mode) if opts.repair else nullcontext():
        if opts.from_snapshots:
            grace = settings.repair.grace if opts.grace is None else opts.grace
            snap = from_snapshots(opts.from_snapshots, opts.scope, grace)
            statuses = sorted(
                {
                    SourceStatus(c.source, c.scope, "ok" if c.complete else "partial", c.reason)
                    for c in snap.coverage.values()
                },
                key=lambda s: (s.source, s.scope),
            )
        else:
            snap, statuses = collect_snapshot(settings, checks, opts.progress, opts.scope)
        result = RunResult(
            mode=opts.mode,
            taken_at=snap.taken_at,
            sources=statuses,
            skipped=skipped,
            scope=snap.scope,
            schemas=dict(snap.schemas),
            schema_notes=list(snap.schema_notes),
        )
        result.warnings += snap.schema_notes
        evaluate(checks, snap, result)
        # a plan file edited beyond removing entries stops the run before it writes anything
        matched = match_plan(settings, opts, checks, snap, result) if opts.plan is not None else None
        seen = _record(settings, opts, result, bool(snap.scope))
        repair_findings(settings, opts, checks, snap, result, seen, matched=matched)
    return result


def _record(settings: Settings, opts: RunOptions, result: RunResult, scoped: bool) -> dict[str, state.Seen]:
    """The state file after this run: a live run records what it found, and the result
    what changed since the last (result.diff); a check of a saved snapshot only reads it
    and compares nothing (the snapshot may be of another time or cloud).  A repair needs
    it (the grace of findings without a change time of their own); a check that cannot
    write it warns and goes on."""
    path = state.state_path(settings.repair.journal, settings.repair.state_file)
    try:
        if opts.from_snapshots:
            return state.load(path)
        # a scoped run forgets no finding: one it did not see may lie outside its scope
        ran = {} if scoped else {c.code: {i.scope for i in c.inconclusive} for c in result.checks}
        recorded = state.record(path, result.taken_at, result.findings, ran)
    except state.StateError as e:
        if opts.repair:
            raise
        result.warnings.append(f"{e} (findings are not dated: a repair will count them as first seen then)")
        return {}
    result.diff = diff_of(recorded, result)
    return recorded.seen


def diff_of(recorded: state.Recorded, result: RunResult) -> RunDiff:
    mine = {f.fingerprint for f in result.findings}
    first = {fp: s.first_seen for fp, s in recorded.seen.items() if fp in mine}
    fixed = (
        Fixed(fp, s.code, s.name, s.kind, s.id, s.scope, s.first_seen, s.last_seen) for fp, s in recorded.fixed.items()
    )
    return RunDiff(
        first_seen=first,
        new=frozenset(fp for fp in mine if recorded.seen[fp].runs == 1),
        fixed=tuple(sorted(fixed, key=lambda x: (x.code, x.scope, x.kind, x.id))),
    )
