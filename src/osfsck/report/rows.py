"""The listings behind the row formats (report/tabular.py): a run's findings, their
roll-ups by check, host, cell or project, the catalogue and the journal.

Column names are a contract (README "Output formats"): add columns, never rename one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from osfsck.model.finding import Finding, Severity
from osfsck.model.result import RunResult

FINDING_COLUMNS = (
    "code",
    "name",
    "severity",
    "confidence",
    "subject_kind",
    "subject_id",
    "scope",
    "host",
    "cell",
    "project",
    "message",
    "fingerprint",
    "changed_at",
    "repair",
    "safety",
    "action",
    "outcome",
    "reason",
    "journal_id",
    "vcpus",
    "memory_mb",
    "disk_bytes",
    "diff",
    "first_seen",
)
FINDING_DEFAULT = ("severity", "code", "name", "subject_kind", "subject_id", "scope", "outcome", "message")

GROUP_AXES = ("check", "host", "cell", "project")
RECLAIM = ("vcpus", "memory_mb", "disk_bytes")
SEVERITIES = tuple(s.value for s in Severity)


def group_columns(axis: str) -> tuple[str, ...]:
    return (axis, "findings", *SEVERITIES, "repaired", *RECLAIM)


def finding_rows(r: RunResult) -> list[dict[str, Any]]:
    """One row per finding, in the report's order, with its plan's outcome."""
    plans = {p.finding.fingerprint: p for p in r.plans}
    rows = []
    for f in r.findings:
        p = plans.get(f.fingerprint)
        plan = p.plan if p else None
        rows.append(
            {
                "code": f.code,
                "name": f.name,
                "severity": f.severity.value,
                "confidence": f.confidence.value,
                "subject_kind": f.subject.kind,
                "subject_id": f.subject.id,
                "scope": f.subject.scope,
                **axes(f),
                "message": f.message,
                "fingerprint": f.fingerprint,
                "changed_at": f.changed_at.isoformat() if f.changed_at else None,
                "repair": plan.repair if plan else None,
                "safety": plan.safety.value if plan else None,
                "action": plan.action if plan else None,
                "outcome": p.outcome.value if p else None,
                "reason": p.reason if p else None,
                "journal_id": p.journal_id if p else None,
                **{k: int(f.reclaim.get(k) or 0) for k in RECLAIM},
                **diff_fields(r, f),
            }
        )
    return rows


def diff_fields(r: RunResult, f: Finding) -> dict[str, str | None]:
    """`diff` (new, persists) and `first_seen` of a finding, from the state file; None
    when the run compared nothing (a check of a saved snapshot)."""
    if r.diff is None:
        return {"diff": None, "first_seen": None}
    first = r.diff.first_seen.get(f.fingerprint)
    return {"diff": r.diff.status(f.fingerprint), "first_seen": first.isoformat() if first else None}


def new_only(r: RunResult) -> RunResult:
    """`--new-only`: the run with only its new findings (all of them when it compared
    nothing), keeping the run's exit code: a view hides nothing from the caller's checks."""
    if r.diff is None:
        return r
    keep = r.diff.new
    return dataclasses.replace(
        r,
        findings=[f for f in r.findings if f.fingerprint in keep],
        plans=[p for p in r.plans if p.finding.fingerprint in keep],
        run_exit=r.exit_code(),
    )


def group_rows(r: RunResult, axis: str) -> list[dict[str, Any]]:
    """Findings counted per check, host, cell or project (None: the findings that name
    none), with what repairing them would give back; most findings first."""
    groups: dict[str | None, dict[str, Any]] = {}
    repaired = {p.finding.fingerprint for p in r.repaired}
    for row in finding_rows(r):
        key = row["code"] if axis == "check" else row[axis]
        g = groups.setdefault(key, {axis: key, "findings": 0, **dict.fromkeys((*SEVERITIES, "repaired", *RECLAIM), 0)})
        g["findings"] += 1
        g[row["severity"]] += 1
        g["repaired"] += row["fingerprint"] in repaired
        for k in RECLAIM:
            g[k] += row[k]
    return sorted(groups.values(), key=lambda g: (-g["findings"], g[axis] is None, g[axis] or ""))


def axes(f: Finding) -> dict[str, str | None]:
    """The host, cell and project a finding is about: its subject's scope, else its first
    related object's, else the first `host`, `cell` or `project_id` its evidence names
    (a breadth-first walk: the subject's own record comes before nested ones; a Cinder
    backend's host@backend#pool is no host)."""
    return axes_of([ref.scope for ref in (f.subject, *f.related)], f.evidence)


def axes_of(scopes: Iterable[str], evidence: Any) -> dict[str, str | None]:
    """axes() from a finding's parts: its subject's and related objects' scopes, in that
    order, and its evidence (the HTML report reads them from a saved JSON result)."""
    out: dict[str, str | None] = {"host": None, "cell": None, "project": None}
    for scope in scopes:
        kind, _, name = scope.partition(":")
        if kind in ("host", "cell") and name and out[kind] is None:
            out[kind] = name
    found = _first_values(evidence, {"host": "host", "cell": "cell", "project_id": "project"})
    return {k: out[k] or found.get(k) for k in out}


def _names_one(key: str, value: Any) -> bool:
    """A value that names a host, cell or project: Cinder's `host` is its volume
    service's `host@backend#pool`, not a hypervisor, and is not taken."""
    return isinstance(value, str) and bool(value) and not (key == "host" and "@" in value)


def _first_values(evidence: Any, wanted: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    level: list[Any] = [evidence]
    while level and len(found) < len(wanted):
        nxt: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                for k, v in item.items():
                    if k in wanted and _names_one(k, v) and wanted[k] not in found:
                        found[wanted[k]] = v
                    elif isinstance(v, (dict, list)):
                        nxt.append(v)
            elif isinstance(item, list):
                nxt.extend(v for v in item if isinstance(v, (dict, list)))
        level = nxt
    return found


CHECK_COLUMNS = ("code", "name", "severity", "summary", "repairs", "needs", "relies_on")
CHECK_DEFAULT = ("code", "name", "severity", "summary", "repairs")


def check_rows(catalogue: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "code": c["code"],
            "name": c["name"],
            "severity": c["severity"],
            "summary": c["summary"],
            "repairs": ", ".join(f"{x['name']} [{x['safety']}]" for x in c["repairs"]),
            "needs": ", ".join(c["needs"]),
            "relies_on": ", ".join(c["relies_on"]),
        }
        for c in catalogue
    ]


JOURNAL_COLUMNS = (
    "id",
    "time",
    "status",
    "code",
    "check",
    "repair",
    "safety",
    "target_kind",
    "target_id",
    "target_scope",
    "action",
    "result",
    "undoable",
)
JOURNAL_DEFAULT = ("id", "time", "status", "code", "repair", "target_id", "action")


def journal_rows(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for e in entries:
        target: dict[str, Any] = e["target"] if isinstance(e.get("target"), dict) else {}
        rows.append(
            {
                **{k: e.get(k) for k in ("id", "time", "status", "code", "check", "repair", "safety", "action")},
                "target_kind": target.get("kind"),
                "target_id": target.get("id"),
                "target_scope": target.get("scope"),
                "result": e.get("result") or e.get("error"),
                "undoable": e.get("undoable"),
            }
        )
    return rows
