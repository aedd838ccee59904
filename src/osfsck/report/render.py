"""Output formats.  Each takes a RunResult and returns text; none prints."""

from __future__ import annotations

import json
from collections.abc import Sequence

from osfsck.model.plan import Outcome
from osfsck.model.result import RunResult
from osfsck.model.secrets import redact_text
from osfsck.report import rows as listing
from osfsck.report.prometheus import prometheus, source_passes
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
        tail = f"{_diff_line(result)}\n" if result.diff else ""
        return "".join(printable(redact_text(line)[0]) + "\n" for line in _incomplete_lines(result)) + out + tail
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
        "findings": [{**f.as_dict(), **listing.diff_fields(r, f)} for f in r.findings],
        # since the last run (null: nothing compared, as a check of a saved snapshot)
        "fixed": [x.as_dict() for x in r.diff.fixed] if r.diff else None,
        "inconclusive": [i.as_dict() for i in r.inconclusive],
        "sources": [s.as_dict() for s in r.sources],
        "checks": [c.as_dict() for c in r.checks],
        "repairs": [p.as_dict() for p in r.plans],
        "reclaimable": r.reclaimable(),
        "cancelled": r.cancelled,
        "skipped": [{"code": c, "name": n, "reason": why} for c, n, why in r.skipped],
        "scope": r.scope.as_dict() if r.scope else None,
        # the release the databases' schema versions say (null: no database read)
        "schemas": _schemas_dict(r),
    }


def _schemas_dict(r: RunResult) -> dict:
    found = r.release.as_dict()
    return {**found, "release": found["release"] or None}


def as_json(r: RunResult) -> str:
    return json.dumps(result_dict(r), indent=2, sort_keys=True, default=str) + "\n"


def as_jsonl(r: RunResult) -> str:
    """One line per finding, inconclusive scope, source and repair, each with a "type"."""
    d = result_dict(r)
    lines = [{"type": "incomplete", **i} for i in d["incomplete"]]
    lines += [{"type": "finding", **f} for f in d["findings"]]
    lines += [{"type": "inconclusive", **i} for i in d["inconclusive"]]
    lines += [{"type": "source", **s} for s in d["sources"]]
    lines += [{"type": "schema", **db} for db in d["schemas"]["databases"]]
    lines += [{"type": "repair", **p} for p in d["repairs"]]
    lines += [{"type": "fixed", **x} for x in d["fixed"] or ()]
    lines.append(
        {
            "type": "summary",
            "mode": d["mode"],
            "exit_code": d["exit_code"],
            "complete": d["complete"],
            "findings": len(d["findings"]),
            **(r.diff.counts() if r.diff else dict.fromkeys(("new", "persists", "fixed"))),
            "reclaimable": d["reclaimable"],
            "scope": d["scope"],
            "release": d["schemas"]["release"],
        }
    )
    return "".join(json.dumps(x, sort_keys=True, default=str) + "\n" for x in lines)


# -- for people --------------------------------------------------------------------------
def human_bytes(n: int) -> str:
    """A size for people, in binary units as the text and HTML reports show it."""
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


def _scope_lines(r: RunResult) -> list[str]:
    """A scoped run's head: its scope, and with --cell what it read of the databases and
    services every cell shares (their part, nothing, or all of it)."""
    if not r.scope:
        return []
    if not r.scope.cells:
        return [f"SCOPE: {r.scope.describe()} (nothing outside it was read; findings only inside)", ""]
    lines = [f"SCOPE: {r.scope.describe()} (no other cell or its hosts read; findings only inside)"]
    shared = [s for s in r.sources if s.status == "ok" and not s.scope.startswith(("cell:", "host:", "*"))]
    lines += [f"  - {s.source} {s.scope}: {s.reason}" for s in shared if s.reason]
    whole = sorted({s.source for s in shared if not s.reason})
    if whole:
        lines.append(f"  - read whole (a cell's part cannot be told, or a check beside needs all): {', '.join(whole)}")
    return lines + [""]


def text(r: RunResult, verbose: bool = False) -> str:
    """The report for people.  Each line is built from data whole, then its control
    characters escaped: a message holding a newline stays on its line."""
    lines = _scope_lines(r)
    lines += _incomplete_lines(r)
    by_fp = {p.finding.fingerprint: p for p in r.plans}
    if r.findings:
        current = None
        for f in r.findings:
            head = f"{f.severity.value.upper()}  {f.code} {f.name}"
            if head != current:
                lines += ["", head]
                current = head
            mark = "[new] " if r.diff and r.diff.status(f.fingerprint) == "new" else ""
            lines.append(f"  - {mark}{f.message}")
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
    lines += _release_lines(r, verbose)
    lines += ["", _summary(r)]
    if r.diff:
        lines.append(_diff_line(r))
    if verbose:
        lines.append(_sources_line(r))
    return "\n".join(printable(redact_text(line)[0]) for line in lines).lstrip("\n") + "\n"


def _release_lines(r: RunResult, verbose: bool) -> list[str]:
    """The release the databases' schemas say, what is worth knowing about them, and
    with -v each database's version; nothing when no database was read."""
    found = r.release
    if not found.databases:
        return []
    lines = ["", f"Release: {found.text} (from the schema versions of {len(found.databases)} database(s))"]
    lines += [f"  - {note}" for note in found.notes]
    if verbose:
        lines += [
            f"  {p.read.scope} ({p.read.database}): {p.read.table or 'no version table'} "
            f"{', '.join(p.read.values) or '(no row)'} = {p.text}"
            for p in found.databases
        ]
    return lines


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


def _diff_line(r: RunResult) -> str:
    n = r.diff.counts() if r.diff else {}
    shown = f"; shown: the {len(r.findings)} new" if r.run_exit is not None else ""
    return f"Since the last run: {n['new']} new, {n['persists']} persisting, {n['fixed']} fixed{shown}."


def _summary(r: RunResult) -> str:
    sev: dict[str, int] = {}
    for f in r.findings:
        sev[f.severity.value] = sev.get(f.severity.value, 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in sev.items()) or "none"
    examined = sum(c.examined for c in r.checks)
    rec = r.reclaimable()
    parts = [f"{len(r.findings)} finding(s) ({counts}) from {len(r.checks)} check(s) over {examined} object(s)"]
    if any(rec.values()):
        parts.append(
            f"reclaimable: {rec['vcpus']} vCPU, {rec['memory_mb']} MiB RAM, {human_bytes(rec['disk_bytes'])} disk"
        )
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
