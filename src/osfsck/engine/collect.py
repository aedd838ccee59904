"""Runs sources in stages into one snapshot."""

from __future__ import annotations

import gc
from contextlib import contextmanager

from osfsck.model.result import SourceStatus
from osfsck.model.snapshot import Snapshot
from osfsck.sources.base import Source, utcnow


def collect(sources: list[Source], kinds: set, *, known: Snapshot | None = None,
            scopes: set[str] | None = None, progress=None) -> tuple[Snapshot, list[SourceStatus]]:
    """Collect `kinds` from `sources`.  With `scopes`, only those scopes are read and
    `known` (the run's snapshot) supplies what later stages need (the host list)."""
    snap = Snapshot(taken_at=utcnow())
    statuses: list[SourceStatus] = []
    with cyclic_gc_paused():
        for src in sources:
            wanted = kinds & set(src.provides)
            if not wanted:
                continue
            src.progress = progress(src.name) if progress else None
            context = snap if known is None else known.replace_scopes(snap)
            statuses.extend(src.collect(wanted, context, snap, scopes))
    return snap, sorted(statuses, key=lambda s: (s.source, s.scope))


@contextmanager
def cyclic_gc_paused():
    """Collection builds a million small tuples that hold no cycles; the cyclic garbage
    collector would walk all of them again and again for nothing (28% of the time to read
    the L profile's databases, tools/bench.py).  Pause it, then freeze what was built so
    later collections skip it too.  Reference counting still frees everything else."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
