"""Runs sources in stages into one snapshot."""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from operator import itemgetter

from osfsck.model.facts import FACT_TYPES
from osfsck.model.facts.base import FactType
from osfsck.model.result import SourceStatus
from osfsck.model.snapshot import ANYWHERE, Snapshot, _scope_of
from osfsck.sources.base import ProgressFactory, Source, cover_all, utcnow

log = logging.getLogger(__name__)


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
        _log_start(src, wanted, scopes)
        sizes = {kind: len(facts) for kind, facts in snap.facts.items()}
        started = time.monotonic()
        with cyclic_gc_paused() if src.bulk else nullcontext():
            done = src.collect(wanted, context, snap, scopes)
        if scopes is None and src.requires:
            done += _nothing_to_read(src, wanted, snap)
        statuses.extend(_measured(src.name, done, time.monotonic() - started, _objects_since(snap, sizes)))
    return snap, sorted(statuses, key=lambda s: (s.source, s.scope))


def _log_start(src: Source, wanted: set[FactType], scopes: set[str] | None) -> None:
    where = f" in {', '.join(sorted(scopes))}" if scopes is not None else ""
    log.info("%s: reading %s%s", src.name, ", ".join(sorted(k.kind for k in wanted)), where)
    if log.isEnabledFor(logging.DEBUG):
        try:
            for line in src.reads():
                log.debug("%s reads %s", src.name, line)
        except NotImplementedError:
            pass


def _objects_since(snap: Snapshot, sizes: dict[str, int]) -> Counter[str]:
    """Facts added to `snap` since it held `sizes`, per coverage scope (C-speed counting:
    a bulk source adds a million)."""
    counts: Counter[str] = Counter()
    for kind, facts in snap.facts.items():
        new = facts[sizes.get(kind, 0) :]
        if not new:
            continue
        cls = FACT_TYPES[kind]
        for value, n in Counter(map(itemgetter(cls._fields.index(cls.scope_field)), new)).items():
            counts[_scope_of(cls, value)] += n
    return counts


def _measured(name: str, done: list[SourceStatus], seconds: float, objects: Counter[str]) -> list[SourceStatus]:
    """The statuses of one source's pass with its time and each scope's facts; logged:
    -v one line per source and per scope not read completely, --debug every scope."""
    out = [replace(s, seconds=round(seconds, 3), objects=objects.get(s.scope, 0)) for s in done]
    bad = [s for s in out if s.status != "ok"]
    log.info(
        "%s: %d scope(s) in %.2f s, %d object(s), %s",
        name,
        len(out),
        seconds,
        sum(objects.values()),
        f"{len(bad)} not complete" if bad else "all complete",
    )
    for s in out:
        log.log(
            logging.INFO if s.status != "ok" else logging.DEBUG,
            "%s %s: %s, %d object(s)%s",
            name,
            s.scope,
            s.status,
            s.objects or 0,
            f": {s.reason}" if s.reason else "",
        )
    return out


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
