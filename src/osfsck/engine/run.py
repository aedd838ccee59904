"""One run: collect (or load) a snapshot, evaluate the selected checks, repair if asked."""

from __future__ import annotations

from osfsck.checks.base import Check
from osfsck.config.settings import ConfigError, Settings
from osfsck.engine import wiring
from osfsck.engine.collect import collect
from osfsck.engine.options import RunOptions
from osfsck.engine.repair import repair_findings
from osfsck.model.result import CheckStats, RunResult, SourceStatus
from osfsck.model.snapshot import Snapshot


def collect_snapshot(settings: Settings, checks: list[Check], progress=None) -> tuple[Snapshot, list[SourceStatus]]:
    kinds = wiring.needed_kinds(checks) | wiring.optional_kinds(settings, checks)
    sources = wiring.build_sources(settings, kinds)
    return collect(sources, kinds, progress=progress)


def evaluate(checks: list[Check], snap: Snapshot, result: RunResult) -> dict[str, object]:
    """Run every check on `snap`; fill `result`; return each check's output by code."""
    outputs = {}
    for check in checks:
        out = check.evaluate(snap)
        outputs[check.code] = out
        result.findings.extend(out.findings)
        result.checks.append(CheckStats(check.code, check.name, out.examined, len(out.findings),
                                        out.inconclusive_list))
    result.findings.sort(key=lambda f: f.sort_key())
    return outputs


def run(settings: Settings, opts: RunOptions) -> RunResult:
    checks = wiring.build_checks(settings, opts.select, opts.ignore)
    skipped = []
    if not opts.from_snapshot:
        checks, skipped = wiring.runnable_checks(settings, checks, explicit=bool(opts.select))
        if not checks:
            raise ConfigError("no check can run: " + "; ".join(sorted({why for _, _, why in skipped})))
    if opts.from_snapshot:
        if opts.repair:
            raise ConfigError("repairs need live sources: --from works only with `osfsck check`")
        snap = Snapshot.read(opts.from_snapshot)
        statuses = [SourceStatus(c.source, c.scope, "ok" if c.complete else "partial", c.reason)
                    for _, c in sorted(snap.coverage.items())]
        statuses = sorted(set(statuses), key=lambda s: (s.source, s.scope))
    else:
        snap, statuses = collect_snapshot(settings, checks, opts.progress)
    result = RunResult(mode=opts.mode, taken_at=snap.taken_at, sources=statuses, skipped=skipped)
    evaluate(checks, snap, result)
    repair_findings(settings, opts, checks, snap, result)
    return result
