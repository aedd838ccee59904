"""Runs the sources concurrently into one snapshot.

Every source reads a service of its own (a database server, ovsdb-server, BIND, NSX,
RabbitMQ, the hypervisors), so a run takes about as long as its slowest source, not their
sum.  Each source writes into a private part; a source that reads other sources' facts
(`requires`: the hypervisor sources read the host list from Nova's compute nodes) starts
when the sources providing them are done, or have handed over the kinds it requires
(`Source.early_kinds`: Nova's host list before its instances), and sees only their parts.
The parts are merged in the sources' order, so a snapshot does not depend on which source
finished first."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from operator import itemgetter
from typing import Any

from osfsck.clients import gcpause
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
    `known` (the run's snapshot) supplies what the dependent sources need (the host list)."""
    taken_at = utcnow()
    jobs = [(src, kinds & set(src.provides)) for src in sources if kinds & set(src.provides)]
    after = {
        src: [dep for dep, _ in jobs if dep is not src and set(src.requires) & set(dep.provides)] for src, _ in jobs
    }
    parts: dict[Source, tuple[Snapshot, list[SourceStatus]]] = {}
    early = {src: _handed_over(src) for src, _ in jobs if src.early_kinds}

    def ready(src: Source, dep: Source) -> Snapshot | None:
        """What `src` may read of `dep` now: its part once done, or what it handed over
        when that holds every kind `src` requires of it; None: not yet."""
        if dep in parts:
            return parts[dep][0]
        if dep in early and early[dep].done() and set(src.requires) & set(dep.provides) <= set(dep.early_kinds):
            return early[dep].result()
        return None

    pending = list(jobs)
    running: dict[Future[tuple[Snapshot, list[SourceStatus]]], Source] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="source") as pool:
        while pending or running:
            for src, wanted in list(pending):
                deps = [ready(src, dep) for dep in after[src]]
                if any(d is None for d in deps):
                    continue
                pending.remove((src, wanted))
                if failure is None:
                    context = _context(taken_at, [d for d in deps if d is not None], known)
                    running[pool.submit(_run_one, src, wanted, context, scopes, progress, taken_at)] = src
            if not running:
                break
            # a hand-over wakes the loop too, for the sources waiting for it
            handing = [early[src] for src in running.values() if src in early and not early[src].done()]
            watched: list[Future[Any]] = [*running, *handing]
            done, _ = wait(watched, return_when=FIRST_COMPLETED)
            for future in done:
                if future not in running:
                    continue
                src = running.pop(future)
                try:
                    parts[src] = future.result()
                except BaseException as e:  # noqa: BLE001 - re-raised once the others stop
                    failure = failure or e
                    parts[src] = (Snapshot(taken_at=taken_at), [])
    if failure is not None:
        raise failure
    if pending:  # a source waiting for itself through others: a programming error
        raise RuntimeError(f"sources wait for each other: {', '.join(src.name for src, _ in pending)}")
    snap = Snapshot(taken_at=taken_at)
    statuses: list[SourceStatus] = []
    for src, _ in jobs:
        part, done_statuses = parts[src]
        snap.extend(part, share=True)
        statuses.extend(done_statuses)
    return snap, sorted(statuses, key=lambda s: (s.source, s.scope))


def _handed_over(src: Source) -> Future[Snapshot]:
    """A future that `src.hand_over(part)` completes (its first hand-over only)."""
    future: Future[Snapshot] = Future()

    def take(part: Snapshot) -> None:
        if not future.done():
            future.set_result(part)

    src.handed_over = take
    return future


def _context(taken_at: dt.datetime, deps: list[Snapshot], known: Snapshot | None) -> Snapshot:
    """What a source may read of the others' facts: the parts of the sources it waits for
    (over the run's snapshot `known` in a scoped re-collect)."""
    context = Snapshot(taken_at=taken_at)
    for part in deps:
        context.extend(part)
    return context if known is None else known.replace_scopes(context)


def _run_one(
    src: Source,
    wanted: set[FactType],
    context: Snapshot,
    scopes: set[str] | None,
    progress: ProgressFactory | None,
    taken_at: dt.datetime,
) -> tuple[Snapshot, list[SourceStatus]]:
    """One source's pass into a part of its own, measured."""
    part = Snapshot(taken_at=taken_at)
    src.progress = progress(src.name) if progress else None
    _log_start(src, wanted, scopes)
    started = time.monotonic()
    with cyclic_gc_paused() if src.bulk else nullcontext():
        done = src.collect(wanted, context, part, scopes)
    if scopes is None and src.requires:
        done += _nothing_to_read(src, wanted, part)
    return part, _measured(src.name, done, time.monotonic() - started, _objects_in(part))


def _log_start(src: Source, wanted: set[FactType], scopes: set[str] | None) -> None:
    where = f" in {', '.join(sorted(scopes))}" if scopes is not None else ""
    log.info("%s: reading %s%s", src.name, ", ".join(sorted(k.kind for k in wanted)), where)
    if log.isEnabledFor(logging.DEBUG):
        try:
            for line in src.reads():
                log.debug("%s reads %s", src.name, line)
        except NotImplementedError:
            pass


def _objects_in(part: Snapshot) -> Counter[str]:
    """The facts of one source's part per coverage scope (C-speed counting: a bulk source
    adds a million)."""
    counts: Counter[str] = Counter()
    for kind, facts in part.facts.items():
        cls = FACT_TYPES[kind]
        for value, n in Counter(map(itemgetter(cls._fields.index(cls.scope_field)), facts)).items():
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
    """While a bulk source builds its facts: the collector paused (shared with every other
    pauser running at once) and what was built frozen at the end (clients/gcpause.py)."""
    with gcpause.paused(freeze=True):
        yield
