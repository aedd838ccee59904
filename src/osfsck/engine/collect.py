"""Runs sources in stages into one snapshot."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from osfsck.model.facts.base import FactType
from osfsck.model.result import SourceStatus
from osfsck.model.snapshot import ANYWHERE, Snapshot
from osfsck.sources.base import ProgressFactory, Source, cover_all, utcnow


def collect(
    sources: list[Source],
    kinds: set[FactType],
    *,
    known: Snapshot | None = None,
    scopes: set[str] | None = None,
    progress: ProgressFactory | None = None,
) -> tuple[Snapshot, list[SourceStatus]]:
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
        if scopes is None and src.requires:
            statuses.extend(_nothing_to_read(src, wanted, snap))
    return snap, sorted(statuses, key=lambda s: (s.source, s.scope))


def _nothing_to_read(src: Source, kinds: set[FactType], snap: Snapshot) -> list[SourceStatus]:
    """A source whose scopes come from other sources' facts (the hypervisors, from Nova's
    compute nodes) that found none to read (Nova's database was not read, or lists no
    host of `hypervisor_types`) is incomplete everywhere for its kinds, so that a check
    needing them says it could not look instead of "no inconsistencies"."""
    covered = {k for k, _ in snap.coverage}
    empty = [k for k in kinds if k.kind not in covered]
    if not empty:
        return []
    reason = f"{src.name} found nothing to read (no {src.scope_noun} listed)"
    return [cover_all(snap, empty, ANYWHERE, src.name, False, reason, utcnow())]


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
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
