"""What the HTML report shows, built from a run's JSON document (report.result_dict, the
`osfsck-result/1` contract): the same input whether the run just ended or was saved with
`-f json` days ago.  The document is already without secrets (result_dict redacts it);
the page's data is redacted once more here, as a saved file may come from anywhere."""

from __future__ import annotations

from collections import Counter
from typing import Any

from osfsck.model.finding import Severity
from osfsck.report.rows import RECLAIM, axes_of
from osfsck.report.tabular import without_secrets

SEVERITIES = tuple(s.value for s in Severity)
TOP = 15  # bars per chart: the rest are summed into "other"


def page_data(doc: dict[str, Any]) -> dict[str, Any]:
    """The page's data: a summary, the chart series and one row per finding."""
    doc = without_secrets(doc)
    plans = {p.get("fingerprint"): p for p in doc.get("repairs") or []}
    rows = [_row(f, plans.get(f.get("fingerprint"))) for f in doc.get("findings") or []]
    saved = doc.get("reclaimable") or {}  # in a saved result, in sorted order: vCPU, RAM, disk first
    reclaimable = {
        k: int(saved[k] or 0)
        for k in sorted(saved, key=lambda k: (k not in RECLAIM, RECLAIM.index(k) if k in RECLAIM else 0, k))
    }
    return {
        "summary": {
            "mode": doc.get("mode"),
            "taken_at": doc.get("taken_at"),
            "complete": bool(doc.get("complete", True)),
            "exit_code": doc.get("exit_code"),
            "findings": len(rows),
            "by_severity": _counts(r["severity"] for r in rows),
            "checks": [
                {
                    "code": c.get("code"),
                    "name": c.get("name"),
                    "examined": c.get("examined"),
                    "findings": c.get("findings"),
                }
                for c in doc.get("checks") or []
            ],
            "reclaimable": reclaimable,
            "scope": doc.get("scope"),
        },
        "incomplete": doc.get("incomplete") or [],
        "undecided": _undecided(doc.get("inconclusive") or []),
        "skipped": doc.get("skipped") or [],
        "failed_sources": [s for s in doc.get("sources") or [] if s.get("status") != "ok"],
        "charts": {
            "per_check": _top(Counter(r["code"] for r in rows)),
            "per_cell": _top(Counter(r["cell"] or "(none)" for r in rows)),
            "per_project": _top(Counter(r["project"] or "(none)" for r in rows)),
            "reclaim_per_cell": _reclaim_by(rows, "cell"),
            "reclaim_per_host": _reclaim_by(rows, "host"),
        },
        "rows": rows,
    }


def _row(f: dict[str, Any], plan: dict[str, Any] | None) -> dict[str, Any]:
    subject = f.get("subject") or {}
    scopes = [str(ref.get("scope") or "") for ref in (subject, *(f.get("related") or []))]
    reclaim = f.get("reclaim") or {}
    return {
        "severity": f.get("severity"),
        "code": f.get("code"),
        "name": f.get("name"),
        "subject": f"{subject.get('kind')} {subject.get('id')}",
        **axes_of(scopes, f.get("evidence")),
        "message": f.get("message"),
        "fingerprint": f.get("fingerprint"),
        "reclaim": {k: int(v or 0) for k, v in reclaim.items() if v},
        "evidence": f.get("evidence"),
        "related": f.get("related") or [],
        "plan": _plan(plan),
    }


def _plan(p: dict[str, Any] | None) -> dict[str, Any] | None:
    if p is None:
        return None
    keep = ("repair", "safety", "action", "outcome", "reason", "runbook", "fallback", "journal_id", "repairable_at")
    return {k: p.get(k) for k in keep}


def _counts(values: Any) -> dict[str, int]:
    c = Counter(values)
    return {s: c[s] for s in SEVERITIES if c[s]}


def _top(counts: Counter[str], n: int = TOP) -> dict[str, list[Any]]:
    """The n largest, then the rest as one "other" bar."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    head, rest = ranked[:n], ranked[n:]
    if rest:
        head.append((f"other ({len(rest)})", sum(v for _, v in rest)))
    return {"labels": [k for k, _ in head], "values": [v for _, v in head]}


def _reclaim_by(rows: list[dict[str, Any]], axis: str) -> dict[str, Any]:
    """Per cell or host: each reclaimable resource, the top n by vCPU then RAM then disk."""
    sums: dict[str, dict[str, int]] = {}
    for r in rows:
        if not r["reclaim"]:
            continue
        s = sums.setdefault(r[axis] or "(none)", dict.fromkeys(RECLAIM, 0))
        for k, v in r["reclaim"].items():
            s[k] = s.get(k, 0) + v
    ranked = sorted(sums.items(), key=lambda kv: tuple(-kv[1].get(k, 0) for k in RECLAIM) + (kv[0],))[:TOP]
    keys = sorted({k for _, s in ranked for k in s}, key=lambda k: (k not in RECLAIM, k))
    return {"labels": [k for k, _ in ranked], "series": {k: [s.get(k, 0) for _, s in ranked] for k in keys}}


def _undecided(inconclusive: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What could not be checked: the scopes grouped with their reason (one outage makes
    many checks undecided in one place, as the text report groups them)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for i in inconclusive:
        grouped.setdefault((str(i.get("scope")), str(i.get("reason"))), []).append(str(i.get("code")))
    return [{"scope": s, "reason": why, "codes": codes} for (s, why), codes in sorted(grouped.items())]
