"""`-f prometheus`: node_exporter's textfile-collector format, written by prometheus_client.

The label sets are stable from run to run of the same checks and sources: a series per
check that ran, zero when clean, labelled with the check's own severity (never a value
that changes with what was found: a series that comes and goes breaks rate() and alerts).
Metric names are a contract (README "Output formats"): add metrics, never rename one.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from osfsck.model.plan import Outcome
from osfsck.model.result import RunResult, SourceStatus
from osfsck.model.secrets import redact_text


def prometheus(r: RunResult) -> str:
    reg = CollectorRegistry()

    def gauge(name: str, doc: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(name, doc, labels, registry=reg)

    gauge("osfsck_complete", "Whether the last run read and decided every scope (0: INCOMPLETE).").set(
        int(not r.incomplete)
    )
    findings = gauge("osfsck_findings", "Findings of the last run, by check.", ("code", "name", "severity"))
    examined = gauge("osfsck_examined", "Objects each check examined.", ("code", "name"))
    undecided = gauge("osfsck_inconclusive", "Scopes a check could not decide.", ("code", "name"))
    for c in r.checks:
        findings.labels(c.code, c.name, c.severity).set(c.findings)
        examined.labels(c.code, c.name).set(c.examined)
        undecided.labels(c.code, c.name).set(len(c.inconclusive))
    counts = r.diff.counts() if r.diff else {"new": 0, "fixed": 0}
    gauge("osfsck_findings_new", "Findings first seen in the last run (0 when it compared nothing: --from).").set(
        counts["new"]
    )
    gauge(
        "osfsck_findings_fixed",
        "Findings of earlier runs that the last run looked for, in a scope it decided, and did not find.",
    ).set(counts["fixed"])
    ok = gauge("osfsck_source_ok", "Whether a source read a scope completely.", ("source", "scope"))
    up = gauge(
        "osfsck_source_up", "Whether a source read a scope completely (as osfsck_source_ok).", ("source", "scope")
    )
    for s in r.sources:
        ok.labels(s.source, s.scope).set(int(s.status == "ok"))
        up.labels(s.source, s.scope).set(int(s.status == "ok"))
    # a saved snapshot measured neither: the metrics are left out rather than made up
    counted = [s for s in r.sources if s.objects is not None]
    if counted:
        objects = gauge("osfsck_source_objects", "Facts a source read in a scope.", ("source", "scope"))
        for s in counted:
            objects.labels(s.source, s.scope).set(s.objects or 0)
    timed = [p for p in source_passes(r.sources) if p["seconds"] is not None]
    if timed:
        took = gauge(
            "osfsck_source_duration_seconds",
            "How long each source took to read all its scopes (one pass).",
            ("source",),
        )
        for p in timed:
            took.labels(p["source"]).set(p["seconds"])
    _release(r, gauge)
    reclaim = gauge("osfsck_reclaimable", "What repairing the findings would give back.", ("resource",))
    for k, v in sorted(r.reclaimable().items()):
        reclaim.labels(k).set(v)
    gauge("osfsck_scoped", "Whether the run read and reported only part of the cloud (--cell, --host, --project).").set(
        int(bool(r.scope))
    )
    repairs = gauge("osfsck_repairs", "Repairs by outcome.", ("outcome",))
    for o in Outcome:
        repairs.labels(o.value).set(sum(1 for p in r.plans if p.outcome is o))
    gauge("osfsck_exit_code", "Exit code of the last run.").set(r.exit_code())
    gauge("osfsck_last_run_timestamp_seconds", "When the last run's snapshot was taken.").set(
        calendar.timegm(r.taken_at.timetuple()) if r.taken_at else 0
    )
    return redact_text(generate_latest(reg).decode())[0]


def _release(r: RunResult, gauge: Callable[..., Gauge]) -> None:
    """Info-style series (value 1, the facts in labels, as node_uname_info): the release
    the databases say and each database's revision; `osfsck_schema_known` is the stable
    series to alert on (0: a schema osfsck does not know, whose checks are inconclusive)."""
    found = r.release
    if not found.databases:
        return
    gauge("osfsck_release_info", "The release the databases' schema versions say (1).", ("release",)).labels(
        found.text
    ).set(1)
    info = gauge(
        "osfsck_schema_info",
        "A database's schema version and the releases it fits (1).",
        ("scope", "database", "revision", "release", "state"),
    )
    known = gauge("osfsck_schema_known", "Whether osfsck knows a database's schema version.", ("scope", "database"))
    for p in found.databases:
        info.labels(p.read.scope, p.read.database, ",".join(p.read.values), p.text, p.state).set(1)
        known.labels(p.read.scope, p.read.database).set(int(p.known))


def source_passes(statuses: Sequence[SourceStatus]) -> list[dict]:
    """Per source: how long its pass took, how many scopes and facts it read, and how
    many scopes it could not read completely."""
    out: dict[str, dict] = {}
    for s in statuses:
        p = out.setdefault(s.source, {"source": s.source, "seconds": None, "scopes": 0, "objects": 0, "partial": 0})
        if s.seconds is not None:
            p["seconds"] = max(p["seconds"] or 0.0, s.seconds)
        p["scopes"] += 1
        p["objects"] += s.objects or 0
        p["partial"] += s.status != "ok"
    return sorted(out.values(), key=lambda p: p["source"])
