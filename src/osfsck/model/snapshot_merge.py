"""Several snapshots as one: what per-region or per-cell collectors wrote (`osfsck collect`
on each control node), checked together by `osfsck check --from a.gz --from b.gz`.

What must hold for the merge to be right (docs/scaling.md):
  * each (kind, scope) is taken whole from one snapshot: the newest that read it
    completely, else the newest that read it at all; its facts come with its coverage,
    so a scope read twice (every per-cell collector reads the API database) is never
    counted twice, and a scope no snapshot read stays "not read" (its checks undecided);
    but where --cell collectors each read their cells' part of a shared database
    (`Coverage.part`, model/cell_slice.py), the parts are joined: each fact once, complete
    where every part was;
  * the snapshots were taken within the grace of each other: a check compares facts read
    at different times (an instance deleted between the cell's read and its host's looks
    like a zombie), and nothing younger than the grace is judged.  The merged clock is
    the earliest, so every age is measured from the first read: an object changed after
    it looks younger than it is, never older (undecided, never wrongly found);
  * the scopes they were collected for combine into one: all whole-cloud, or all
    narrowed by the same dimension (--cell, --host or --project), whose union it is;
  * they are of one cloud (one region): a cell name that maps to two uuids means two
    regions, whose scopes ("cell:cell1") would collide and lose one region's facts.
Each database's schema version is the newest snapshot's that read it; snapshots that read
one database at different revisions (an upgrade between the collectors' runs) are said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from osfsck.model.cell_slice import joined_parts
from osfsck.model.facts import FACT_TYPES
from osfsck.model.facts.nova import Cell
from osfsck.model.schema_versions import SchemaRead, label
from osfsck.model.scope import RunScope
from osfsck.model.snapshot import ANYWHERE, Coverage, Snapshot, _scope_of


class SnapshotMergeError(ValueError):
    """Snapshots that cannot be checked as one: one line that says why."""


def merge(snapshots: Sequence[Snapshot], max_skew: float, names: Sequence[str] = ()) -> Snapshot:
    """`snapshots` as one (see the module's docstring); `max_skew`: seconds (the grace);
    `names`: the files they were read from, for the error."""
    if len(snapshots) == 1:
        return snapshots[0]
    names = list(names) or [f"snapshot {i + 1}" for i in range(len(snapshots))]
    order = sorted(range(len(snapshots)), key=lambda i: snapshots[i].taken_at)
    first, last = order[0], order[-1]
    skew = (snapshots[last].taken_at - snapshots[first].taken_at).total_seconds()
    if skew > max_skew:
        raise SnapshotMergeError(
            f"{names[first]} and {names[last]} were taken {skew / 60:.0f} min apart, more than the grace "
            f"({max_skew / 60:.0f} min): checked together they would compare the cloud at different times"
        )
    _same_cloud(snapshots, names)
    chosen = _chosen_coverage([snapshots[i] for i in order])
    merged = Snapshot(taken_at=snapshots[first].taken_at, scope=_merged_scope([s.scope for s in snapshots], names))
    joined = {key for key, (ranks, _) in chosen.items() if len(ranks) > 1}
    seen: dict[tuple[str, str], set[object]] = {key: set() for key in joined}
    for rank, i in enumerate(order):
        for kind, facts in snapshots[i].facts.items():
            cls = FACT_TYPES[kind]
            field = cls._fields.index(cls.scope_field)
            kept = []
            for f in facts:
                key = (kind, _scope_of(cls, f[field]))
                if rank not in chosen.get(key, ((),))[0]:
                    continue
                if key in joined:  # parts read by several: each fact once
                    if f in seen[key]:
                        continue
                    seen[key].add(f)
                kept.append(f)
            merged.add(kind, kept)
    merged.coverage = {key: cov for key, (_, cov) in chosen.items()}
    merged.schemas, merged.schema_notes = _schemas([snapshots[i] for i in order], [names[i] for i in order])
    return merged


def _schemas(ordered: list[Snapshot], names: list[str]) -> tuple[dict[str, SchemaRead], list[str]]:
    """Each database's version read by the newest snapshot that read it, and a line for
    every database the snapshots read at different versions."""
    chosen: dict[str, SchemaRead] = {}
    seen: dict[str, dict[SchemaRead, list[str]]] = {}
    for snap, name in zip(ordered, names):
        for where, read in snap.schemas.items():
            chosen[where] = read
            seen.setdefault(where, {}).setdefault(read, []).append(name)
    notes = [
        f"the snapshots disagree on the {label(chosen[where])} ({where}): "
        + "; ".join(f"{_said(read)} in {', '.join(files)}" for read, files in reads.items())
        for where, reads in sorted(seen.items())
        if len(reads) > 1
    ]
    return chosen, notes


def _said(read: SchemaRead) -> str:
    return f"{read.table or 'no version table'} {', '.join(read.values) or '(no row)'}".strip()


def _same_cloud(snapshots: Sequence[Snapshot], names: Sequence[str]) -> None:
    seen: dict[str, tuple[str, str]] = {}  # cell name -> (uuid, file)
    for snap, name in zip(snapshots, names):
        for cell in snap.of(Cell):
            uuid, where = seen.setdefault(cell.name, (cell.uuid, name))
            if uuid != cell.uuid:
                raise SnapshotMergeError(
                    f"{where} and {name} are of different clouds (cell {cell.name} is {uuid} in one, "
                    f"{cell.uuid} in the other): check each region's snapshots on their own"
                )


def _chosen_coverage(ordered: list[Snapshot]) -> dict[tuple[str, str], tuple[frozenset[int], Coverage]]:
    """(kind, scope) -> (ranks of the snapshots it is taken from, its coverage): the newest
    complete read, else the newest read; parts (Coverage.part) joined, unless a whole read
    is complete.  "Found nothing to read" (ANYWHERE) is dropped for a kind another
    snapshot did read: that collector had no host list, another had."""
    chosen: dict[tuple[str, str], tuple[frozenset[int], Coverage]] = {}
    for rank, snap in enumerate(ordered):
        for key, cov in snap.coverage.items():
            before = chosen.get(key)
            if before is not None and before[1].part and cov.part:
                ranks, was = before
                chosen[key] = (
                    ranks | {rank},
                    replace(
                        cov,
                        complete=was.complete and cov.complete,
                        reason=cov.reason or was.reason,
                        part=joined_parts(was.part, cov.part),
                    ),
                )
            elif before is not None and cov.part and before[1].complete and not before[1].part:
                continue  # a complete whole read holds every part
            elif before is None or cov.complete or not before[1].complete:
                chosen[key] = (frozenset({rank}), cov)
    read = {kind for kind, scope in chosen if scope != ANYWHERE}
    return {key: value for key, value in chosen.items() if not (key[1] == ANYWHERE and key[0] in read)}


def _merged_scope(scopes: list[RunScope | None], names: Sequence[str]) -> RunScope | None:
    if any(not s for s in scopes):
        return None  # one of them read the whole cloud
    dimensions = {tuple(bool(getattr(s, d)) for d in ("cells", "hosts", "projects")) for s in scopes if s}
    if len(dimensions) > 1 or sum(next(iter(dimensions))) > 1:
        described = "; ".join(f"{n}: {s.describe()}" for n, s in zip(names, scopes) if s)
        raise SnapshotMergeError(
            f"snapshots collected for scopes that do not add up to one ({described}): "
            "merge snapshots of whole clouds, or all by --cell, all by --host or all by --project"
        )
    return RunScope(
        cells=tuple(sorted({c for s in scopes if s for c in s.cells})),
        hosts=tuple(sorted({h for s in scopes if s for h in s.hosts})),
        projects=tuple(sorted({p for s in scopes if s for p in s.projects})),
    )
