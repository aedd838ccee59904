"""What the HTML report shows, built from a run's JSON document (report.result_dict, the
`osfsck-result/1` contract): the same input whether the run just ended or was saved with
`-f json` days ago.  The document is already without secrets (result_dict redacts it);
the page's data is redacted once more here, as a saved file may come from anywhere."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from osfsck.model.finding import Severity
from osfsck.report.render import human_bytes
from osfsck.report.rows import RECLAIM, axes_of
from osfsck.report.tabular import without_secrets

SEVERITIES = tuple(s.value for s in Severity)
TOP = 15  # bars per chart: the rest are summed into "other"
# how long a finding has been seen, at the run's snapshot time: the morning's new ones, the
# week's, the month's, and the old ones nobody acts on (each bucket: up to its days)
AGES = (("< 1 day", 1), ("1–7 days", 7), ("1–4 weeks", 28), ("over 4 weeks", None))
LABELS = {"vcpus": "vCPU", "memory_mb": "RAM", "disk_bytes": "disk"}


def page_data(doc: dict[str, Any]) -> dict[str, Any]:
    """The page's data: a summary, the chart series and one row per finding."""
    doc = without_secrets(doc)
    plans = {p.get("fingerprint"): p for p in doc.get("repairs") or []}
    taken_at = _time(doc.get("taken_at"))
    rows = [_row(f, plans.get(f.get("fingerprint")), taken_at) for f in doc.get("findings") or []]
    saved = doc.get("reclaimable") or {}  # in a saved result, in sorted order: vCPU, RAM, disk first
    reclaimable = [_amount(k, int(saved[k] or 0)) for k in _ordered(saved)]
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
        "release": _release(doc.get("schemas")),
        "changes": _changes(doc, rows),
        "charts": {
            "per_check": _top(Counter(r["code"] for r in rows)),
            "per_cell": _top(Counter(r["cell"] or "(none)" for r in rows)),
            "per_project": _top(Counter(r["project"] or "(none)" for r in rows)),
            "reclaim_per_cell": _reclaim_by(rows, "cell"),
            "reclaim_per_host": _reclaim_by(rows, "host"),
            "age": _ages(rows),
        },
        "rows": rows,
    }


def _release(schemas: Any) -> dict[str, Any] | None:
    """The release the databases say, its notes and each database's version (None: a
    result of a run that read no database, or saved before osfsck read them)."""
    if not isinstance(schemas, dict) or not schemas.get("databases"):
        return None
    return {
        "text": schemas.get("release") or "unknown",
        "notes": [str(n) for n in schemas.get("notes") or []],
        "databases": [
            {
                "scope": db.get("scope"),
                "database": db.get("database"),
                "table": db.get("table") or "no version table",
                "revision": ", ".join(map(str, db.get("values") or [])) or "(no row)",
                "release": db.get("release"),
                "state": db.get("state"),
            }
            for db in schemas["databases"]
            if isinstance(db, dict)
        ],
    }


def _row(f: dict[str, Any], plan: dict[str, Any] | None, taken_at: dt.datetime | None) -> dict[str, Any]:
    subject = f.get("subject") or {}
    scopes = [str(ref.get("scope") or "") for ref in (subject, *(f.get("related") or []))]
    saved = f.get("reclaim") or {}
    reclaim = {k: int(saved[k] or 0) for k in _ordered(saved) if saved[k]}
    first_seen = _time(f.get("first_seen"))
    return {
        "severity": f.get("severity"),
        "code": f.get("code"),
        "name": f.get("name"),
        "subject": f"{subject.get('kind')} {subject.get('id')}",
        **axes_of(scopes, f.get("evidence")),
        "message": f.get("message"),
        "fingerprint": f.get("fingerprint"),
        "reclaim": reclaim,
        "reclaim_text": ", ".join(_amount(k, v)["text"] for k, v in reclaim.items()),
        # new or persists (None: this run compared nothing), since when, and for how long
        "diff": f.get("diff"),
        "first_seen": f.get("first_seen"),
        "age_days": _days(taken_at - first_seen) if taken_at and first_seen else None,
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
    return {
        "labels": [k for k, _ in ranked],
        "series": {k: [s.get(k, 0) for _, s in ranked] for k in keys},
        "names": {k: LABELS.get(k, k) for k in keys},
        "text": {k: [_amount(k, s.get(k, 0))["text"] for _, s in ranked] for k in keys},  # the tooltips'
    }


def _ordered(keys: Any) -> list[str]:
    """vCPU, RAM, disk first, then the rest by name: a saved result has its keys sorted."""
    return sorted(keys, key=lambda k: (k not in RECLAIM, RECLAIM.index(k) if k in RECLAIM else 0, k))


def _amount(key: str, value: int) -> dict[str, Any]:
    """A reclaimable amount: its key, its exact value, and for people as the text report
    says it (sizes in binary units: RAM is counted in MiB, as Nova's flavors do)."""
    if key == "disk_bytes":
        text = human_bytes(value)
    elif key == "memory_mb":
        text = human_bytes(value << 20)
    elif key == "vcpus":
        text = f"{value} vCPU"
    else:
        text = str(value)
    return {"key": key, "label": LABELS.get(key, key), "value": value, "text": text}


def _changes(doc: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What changed since the previous run, or None when this run compared nothing (a
    check of a saved snapshot, no state file): `fixed` is null then, and no finding says
    new or persists."""
    fixed = doc.get("fixed")
    if fixed is None and not any(r["diff"] for r in rows):
        return None
    return {
        "new": sum(r["diff"] == "new" for r in rows),
        "persists": sum(r["diff"] == "persists" for r in rows),
        "fixed": [
            {
                "code": x.get("code"),
                "name": x.get("name"),
                "subject": f"{(x.get('subject') or {}).get('kind')} {(x.get('subject') or {}).get('id')}",
                "scope": (x.get("subject") or {}).get("scope"),
                "first_seen": x.get("first_seen"),
                "last_seen": x.get("last_seen"),
            }
            for x in fixed or []
        ],
    }


def _ages(rows: list[dict[str, Any]]) -> dict[str, list[Any]] | None:
    """How many findings have been seen for how long (None: no first-seen dates)."""
    ages = [r["age_days"] for r in rows if r["age_days"] is not None]
    if not ages and not any(r["diff"] for r in rows):
        return None
    counts = dict.fromkeys((label for label, _ in AGES), 0)
    for days in ages:
        label = next(label for label, upto in AGES if upto is None or days < upto)
        counts[label] += 1
    return {"labels": list(counts), "values": list(counts.values())}


def _time(value: Any) -> dt.datetime | None:
    """A time of the document (ISO 8601), or None: a saved file may come from anywhere."""
    try:
        t = dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    # the state file's times and the snapshot's are both UTC: compare them as such
    return t.replace(tzinfo=dt.timezone.utc) if t is not None and t.tzinfo is None else t


def _days(delta: dt.timedelta) -> float:
    return max(delta.total_seconds(), 0.0) / 86400


def _undecided(inconclusive: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What could not be checked: the scopes grouped with their reason (one outage makes
    many checks undecided in one place, as the text report groups them)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for i in inconclusive:
        grouped.setdefault((str(i.get("scope")), str(i.get("reason"))), []).append(str(i.get("code")))
    return [{"scope": s, "reason": why, "codes": codes} for (s, why), codes in sorted(grouped.items())]
