"""Runs sources in stages into one snapshot."""

from __future__ import annotations

from osfsck.model.result import SourceStatus
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import Source, utcnow


def collect(sources: list[Source], kinds: set, *, known: Snapshot | None = None,
            scopes: set[str] | None = None, progress=None) -> tuple[Snapshot, list[SourceStatus]]:
    """Collect `kinds` from `sources`.  With `scopes`, only those scopes are read and
    `known` (the run's snapshot) supplies what later stages need (the host list)."""
    snap = Snapshot(taken_at=utcnow())
    statuses: list[SourceStatus] = []
    for src in sources:
        wanted = kinds & set(src.provides)
        if not wanted:
            continue
        src.progress = progress(src.name) if progress else None
        context = snap if known is None else known.replace_scopes(snap)
        statuses.extend(src.collect(wanted, context, snap, scopes))
    return snap, sorted(statuses, key=lambda s: (s.source, s.scope))
