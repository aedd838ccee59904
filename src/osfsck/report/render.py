"""Output formats.  Each takes a RunResult and returns text; none prints."""

from __future__ import annotations

import json
from collections.abc import Sequence

from osfsck.model.plan import Outcome
from osfsck.model.result import RunResult, SourceStatus
from osfsck.model.secrets import redact_text
from osfsck.report import rows as listing
from osfsck.report.tabular import ROW_FORMATS, as_plain, dump_yaml, printable, render_rows, without_secrets

# "text" is the report for people (it was called "table" before OpenStackClient's formats
# came; "table" is now OSC's: a box table of the findings)
FORMATS = ("text", *ROW_FORMATS, "jsonl", "prometheus", "html")


def render(
    result: RunResult,
    fmt: str,
    columns: Sequence[str] = (),
    group_by: str | None = None,
    verbose: bool = False,
) -> str:
    """`result` in `fmt`.  `columns` (already checked against the listing, see
    columns_for) and `group_by` make json and yaml the listing's rows instead of the
    whole result document; table, csv and value are always rows."""
    if fmt == "text":
        return text(result, verbose)
    if fmt == "html":  # one self-contained page, from the same document as -f json
        from osfsck.report.html import render_html

        return render_html(result_dict(result))
    if fmt in ("jsonl", "prometheus"):
        return {"jsonl": as_jsonl, "prometheus": prometheus}[fmt](result)
    if fmt in ("json", "yaml") and not columns and not group_by:
        return as_json(result) if fmt == "json" else dump_yaml(as_plain(result_dict(result)))
    if group_by:
        rows = listing.group_rows(result, group_by)
        cols = list(columns) or list(listing.group_columns(group_by))
    else:
        rows = listing.finding_rows(result)
        cols = list(columns) or list(listing.FINDING_DEFAULT)
    out = render_rows(fmt, cols, rows)
    if fmt == "table":  # for people: an incomplete run says so first, as in every format
        return "".join(printable(redact_text(line)[0]) + "\n" for line in _incomplete_lines(result)) + out
    return out


def columns_for(group_by: str | None) -> tuple[str, ...]:
    """The columns -c may name for a run's listing."""
    return listing.group_columns(group_by) if group_by else listing.FINDING_COLUMNS


# -- machine-readable contracts (documented in the README; keep stable) -------------------
def result_dict(r: RunResult) -> dict:
    return without_secrets(_result_dict(r))


def _result_dict(r: RunResult) -> dict:
    return {
        "format": "osfsck-result/1",
        "mode": r.mode,
        "complete": not r.incomplete,
        "incomplete": [{"what": what, "why": why} for what, why in r.incomplete],
        "taken_at": r.taken_at.isoformat() if r.taken_at else None,
        "exit_code": r.exit_code(),
        "findings": [f.as_dict() for f in r.findings],
        "inconclusive": [i.as_dict() for i in r.inconclusive],
        "sources": [s.as_dict() for s in r.sources],
        "checks": [c.as_dict() for c in r.checks],
        "repairs": [p.as_dict() for p in r.plans],
        "reclaimable": r.reclaimable(),
        "cancelled": r.cancelled,
        "skipped": [{"code": c, "name": n, "reason": why} for c, n, why in r.skipped],
        "scope": r.scope.as_dict() if r.scope else None,
    }


def as_json(r: RunResult) -> str:
    return json.dumps(result_dict(r), indent=2, sort_keys=True, default=str) + "\n"


def as_jsonl(r: RunResult) -> str:
    """One line per finding, inconclusive scope, source and repair, each with a "type"."""
    d = result_dict(r)
    lines = [{"type": "incomplete", **i} for i in d["incomplete"]]
    lines += [{"type": "finding", **f} for f in d["findings"]]
    lines += [{"type": "inconclusive", **i} for i in d["inconclusive"]]
    lines += [{"type": "source", **s} for s in d["sources"]]
    lines += [{"type": "repair", **p} for p in d["repairs"]]
    lines.append(
        {
            "type": "summary",
            "mode": d["mode"],
            "exit_code": d["exit_code"],
            "complete": d["complete"],
            "findings": len(d["findings"]),
            "reclaimable": d["reclaimable"],
            "scope": d["scope"],
        }
    )
    return "".join(json.dumps(x, sort_keys=True, default=str) + "\n" for x in lines)


def prometheus(r: RunResult) -> str:
    """node_exporter textfile-collector format."""
    out = [
        "# HELP osfsck_complete Whether the last run read and decided every scope (0: INCOMPLETE).",
        "# TYPE osfsck_complete gauge",
        f"osfsck_complete {int(not r.incomplete)}",
        "# HELP osfsck_findings Findings of the last run, by check.",
        "# TYPE osfsck_findings gauge",
    ]
    for c in r.checks:
        sev = next((f.severity.value for f in r.findings if f.code == c.code), "none")
        out.append(f'osfsck_findings{{code="{c.code}",name="{c.name}",severity="{sev}"}} {c.findings}')
    out += ["# HELP osfsck_examined Objects each check examined.", "# TYPE osfsck_examined gauge"]
    out += [f'osfsck_examined{{code="{c.code}",name="{c.name}"}} {c.examined}' for c in r.checks]
    out += ["# HELP osfsck_inconclusive Scopes a check could not decide.", "# TYPE osfsck_inconclusive gauge"]
    out += [f'osfsck_inconclusive{{code="{c.code}",name="{c.name}"}} {len(c.inconclusive)}' for c in r.checks]
    out += ["# HELP osfsck_source_ok Whether a source read a scope completely.", "# TYPE osfsck_source_ok gauge"]
    out += [
        f'osfsck_source_ok{{source="{s.source}",scope="{_esc(s.scope)}"}} {int(s.status == "ok")}' for s in r.sources
    ]
    out += [
        "# HELP osfsck_source_up Whether a source read a scope completely (as osfsck_source_ok).",
        "# TYPE osfsck_source_up gauge",
    ]
    out += [
        f'osfsck_source_up{{source="{s.source}",scope="{_esc(s.scope)}"}} {int(s.status == "ok")}' for s in r.sources
    ]
    counted = [s for s in r.sources if s.objects is not None]
    if counted:
        out += ["# HELP osfsck_source_objects Facts a source read in a scope.", "# TYPE osfsck_source_objects gauge"]
        out += [f'osfsck_source_objects{{source="{s.source}",scope="{_esc(s.scope)}"}} {s.objects}' for s in counted]
    timed = [p for p in source_passes(r.sources) if p["seconds"] is not None]
    if timed:
        out += [
            "# HELP osfsck_source_duration_seconds How long each source took to read all its scopes (one pass).",
            "# TYPE osfsck_source_duration_seconds gauge",
        ]
        out += [f'osfsck_source_duration_seconds{{source="{p["source"]}"}} {p["seconds"]}' for p in timed]
    rec = r.reclaimable()
    out += ["# HELP osfsck_reclaimable What repairing the findings would give back.", "# TYPE osfsck_reclaimable gauge"]
    out += [f'osfsck_reclaimable{{resource="{k}"}} {v}' for k, v in sorted(rec.items())]
    out += [
        "# HELP osfsck_scoped Whether the run read and reported only part of the cloud (--cell, --host, --project).",
        "# TYPE osfsck_scoped gauge",
        f"osfsck_scoped {int(bool(r.scope))}",
    ]
    out += ["# HELP osfsck_repairs Repairs by outcome.", "# TYPE osfsck_repairs gauge"]
    for o in Outcome:
        out.append(f'osfsck_repairs{{outcome="{o.value}"}} {sum(1 for p in r.plans if p.outcome is o)}')
    out += [
        "# HELP osfsck_exit_code Exit code of the last run.",
        "# TYPE osfsck_exit_code gauge",
        f"osfsck_exit_code {r.exit_code()}",
        "# HELP osfsck_last_run_timestamp_seconds When the last run's snapshot was taken.",
        "# TYPE osfsck_last_run_timestamp_seconds gauge",
        f"osfsck_last_run_timestamp_seconds {_epoch(r)}",
    ]
    return redact_text("\n".join(out) + "\n")[0]


def _esc(s: str) -> str:
    """A label value as the exposition format writes it: a raw newline would end the
    line (and node_exporter drops a file it cannot parse, every metric in it)."""
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


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


def _epoch(r: RunResult) -> int:
    import calendar

    return calendar.timegm(r.taken_at.timetuple()) if r.taken_at else 0


# -- for people --------------------------------------------------------------------------
def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _incomplete_lines(r: RunResult) -> list[str]:
    """The head of an incomplete run's report: which scopes, and why (a check's undecided
    scopes grouped, as one outage makes many checks undecided in the same place)."""
    bad = [s for s in r.sources if s.status != "ok"]
    if not r.incomplete:
        return []
    lines = [
        f"INCOMPLETE: {len(bad)} source scope(s) not read completely, "
        f"{len(r.inconclusive)} check scope(s) undecided; the findings below cover only the rest."
    ]
    lines += [f"  - {s.source} {s.scope}: {s.status}: {s.reason}" for s in bad]
    grouped: dict[tuple[str, str], list[str]] = {}
    for i in r.inconclusive:
        grouped.setdefault((i.scope, i.reason), []).append(i.code)
    lines += [
        f"  - {', '.join(codes)} could not decide {scope}: {why}" for (scope, why), codes in sorted(grouped.items())
    ]
    return lines + [""]


def text(r: RunResult, verbose: bool = False) -> str:
    """The report for people.  Each line is built from data whole, then its control
    characters escaped: a message holding a newline stays on its line."""
    lines = [f"SCOPE: {r.scope.describe()} (nothing outside it was read; findings only inside)", ""] if r.scope else []
    lines += _incomplete_lines(r)
    by_fp = {p.finding.fingerprint: p for p in r.plans}
    if r.findings:
        current = None
        for f in r.findings:
            head = f"{f.severity.value.upper()}  {f.code} {f.name}"
            if head != current:
                lines += ["", head]
                current = head
            lines.append(f"  - {f.message}")
            p = by_fp.get(f.fingerprint)
            if p is not None:
                lines += [f"      {line}" for line in _plan_lines(p)]
    else:
        lines.append("No inconsistencies found in what could be read." if r.incomplete else "No inconsistencies found.")
    for why in sorted({why for _, _, why in r.skipped}):
        codes = ", ".join(c for c, _, w in r.skipped if w == why)
        lines += ["", f"NOT RUN ({why}): {codes}"]
    refused = [c for c in r.checks if c.repair_refused]
    for c in refused:
        lines += ["", f"REPAIRS REFUSED for {c.code} {c.name}: {c.repair_refused}"]
    lines += ["", _summary(r)]
    if verbose:
        lines.append(_sources_line(r))
    return "\n".join(printable(redact_text(line)[0]) for line in lines).lstrip("\n") + "\n"


def _sources_line(r: RunResult) -> str:
    """-v: what each source read and how long it took, on one line."""
    parts = []
    for p in source_passes(r.sources):
        took = f" {p['seconds']:.2f} s" if p["seconds"] is not None else ""
        partial = f", {p['partial']} partial" if p["partial"] else ""
        parts.append(f"{p['source']}{took} ({p['scopes']} scope(s), {p['objects']} object(s){partial})")
    return "Sources: " + ("; ".join(parts) or "none") + "."


def _plan_lines(p) -> list[str]:
    if p.outcome is Outcome.NONE:
        return [f"no automatic repair: {p.reason}"]
    if p.outcome is Outcome.MANUAL:
        line = f"manual: {p.plan.runbook.splitlines()[0]}" + (" ..." if "\n" in p.plan.runbook else "")
        return [line] + ([f"(not automatic here: {p.plan.fallback})"] if p.plan.fallback else [])
    label = {
        Outcome.PLANNED: "would",
        Outcome.APPLIED: "repaired:",
        Outcome.FAILED: "FAILED:",
        Outcome.SKIPPED: "skipped:",
        Outcome.LEFT: "",
    }[p.outcome]
    if p.outcome is Outcome.PLANNED:
        return [
            f"would {p.plan.action} [{p.plan.safety.value}]" + (f" ({p.reason})" if p.reason != "read-only run" else "")
        ]
    return [f"{label} {p.reason or p.plan.action}".lstrip()]


def _summary(r: RunResult) -> str:
    sev: dict[str, int] = {}
    for f in r.findings:
        sev[f.severity.value] = sev.get(f.severity.value, 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in sev.items()) or "none"
    examined = sum(c.examined for c in r.checks)
    rec = r.reclaimable()
    parts = [f"{len(r.findings)} finding(s) ({counts}) from {len(r.checks)} check(s) over {examined} object(s)"]
    if any(rec.values()):
        parts.append(f"reclaimable: {rec['vcpus']} vCPU, {rec['memory_mb']} MiB RAM, {_bytes(rec['disk_bytes'])} disk")
    if r.plans and r.mode != "check":
        done = sum(1 for p in r.plans if p.outcome is Outcome.APPLIED)
        failed = sum(1 for p in r.plans if p.outcome is Outcome.FAILED)
        left = sum(1 for p in r.plans if p.outcome is Outcome.LEFT)
        batch = f" ({left} by the batch limit)" if left else ""
        parts.append(f"repaired {done}, failed {failed}, left {len(r.remaining)}{batch}")
    if r.inconclusive:
        parts.append(f"{len(r.inconclusive)} inconclusive scope(s)")
    parts.append(f"exit {r.exit_code()}")
    return "; ".join(parts) + "."
