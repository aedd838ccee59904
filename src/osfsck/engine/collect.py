"""Runs sources in stages into one snapshot."""

from __future__ import annotations

import gc
from contextlib import contextmanager, nullcontext

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
        with cyclic_gc_paused() if src.bulk else nullcontext():
            statuses.extend(src.collect(wanted, context, snap, scopes))
    return snap, sorted(statuses, key=lambda s: (s.source, s.scope))


@contextmanager
def cyclic_gc_paused():
    """A bulk source builds a million small tuples that hold no cycles; the cyclic garbage
    collector would walk all of them again and again for nothing (28% of the time to read
    the L profile's databases, and as much again in the checks, tools/bench.py).  Pause it
    while they are built, then freeze them so later collections skip them.  Reference
    counting still frees everything, frozen or not; only a cycle alive at the freeze would
    outlive its use, and snapshots hold none (their memo refers back weakly).  The
    hypervisor sources, whose threads and connections do make cycles, run with it on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
