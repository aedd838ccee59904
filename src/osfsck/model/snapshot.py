"""The snapshot: every fact collected in one run, and how complete each scope is."""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
import os
import stat
import types
import typing
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from osfsck.model.cell_slice import (
    DNS_NOT_READ,
    NEVER_INSIDE,
    NONE,
    NOT_READ,
    NSX_KINDS,
    OVN_KINDS,
    QUEUE_KINDS,
    SLICED_KINDS,
    cell_keys,
    in_scope,
    slice_facts,
)
from osfsck.model.facts import FACT_TYPES
from osfsck.model.facts.base import FactType, kind_of, to_row
from osfsck.model.facts.nova import Cell, ComputeNode, ComputeService
from osfsck.model.facts.nsx import NEUTRON_TAG_SCOPES
from osfsck.model.facts.quota import PER_PROJECT_KINDS
from osfsck.model.schema_versions import ALEMBIC_TABLE, DATABASES, MIGRATE_TABLE, SchemaRead
from osfsck.model.scope import RunScope
from osfsck.model.write_target import write_atomically

FORMAT = "osfsck-snapshot/1"
# the scope of a kind whose source found nothing to read (no compute host listed): its
# coverage there is incomplete, and every check that needs the kind is undecided
ANYWHERE = "*"
# a fact type as a check names it: Snapshot.of gives its facts as that type
_F = TypeVar("_F")


class SnapshotFormatError(ValueError):
    """A snapshot file that is not one of ours, or is damaged."""


@dataclass(frozen=True)
class Coverage:
    """Whether `source` collected every fact of `kind` in `scope`, and if not, why.

    `part`, when set, says that what was read of the scope is a part of it, every fact of
    which was read (model/cell_slice.py: a `--cell` run reads of the databases the cells
    share what concerns its cells, "cells:<name>,..."; "none" when nothing there can lie
    inside them)."""

    kind: str
    scope: str
    source: str
    complete: bool
    reason: str = ""
    collected_at: dt.datetime | None = None
    part: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = {
            "kind": self.kind,
            "scope": self.scope,
            "source": self.source,
            "complete": self.complete,
            "reason": self.reason,
            "collected_at": self.collected_at.isoformat() if self.collected_at else None,
        }
        if self.part:
            out["part"] = self.part
        return out


@dataclass
class Snapshot:
    """Facts by kind plus per-(kind, scope) coverage.

    `taken_at` (naive UTC) is the clock of the run: checks compute every age from it, so
    re-checking a saved snapshot later gives the same findings.
    """

    taken_at: dt.datetime
    facts: dict[str, list[Any]] = field(default_factory=dict)
    coverage: dict[tuple[str, str], Coverage] = field(default_factory=dict)
    # derived indexes shared by checks within one run (never serialised)
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # the run's scope (--cell, --host, --project): what lies outside was not read, and
    # findings are reported only inside (checks/scoping.py)
    scope: RunScope | None = None
    # each database's version table as read, by its coverage scope ("api", "cell:cell1",
    # "cinder"...): which release it is (model/schema_versions.py); none in a snapshot
    # written before osfsck read them (unknown)
    schemas: dict[str, SchemaRead] = field(default_factory=dict)
    # what a merge of several snapshots found about them (model/snapshot_merge.py): one
    # line each, for the report (never serialised)
    schema_notes: list[str] = field(default_factory=list, compare=False)

    # -- building -----------------------------------------------------------------
    def add(self, kind: str, facts: Iterable[Any]) -> None:
        self.facts.setdefault(kind, []).extend(facts)

    def cover(self, cov: Coverage) -> None:
        self.coverage[(cov.kind, cov.scope)] = cov

    def extend(self, part: Snapshot, kinds: set[str] | None = None, share: bool = False) -> None:
        """Add `part`'s facts, coverage and schemas (of `kinds` alone, when given).
        `share`: a kind new here takes `part`'s list itself, not a copy (a part done with:
        no copy of a million facts)."""
        for kind, facts in part.facts.items():
            if kinds is not None and kind not in kinds:
                continue
            if share and kind not in self.facts:
                self.facts[kind] = facts
            else:
                self.add(kind, facts)
        self.coverage.update(c for c in part.coverage.items() if kinds is None or c[0][0] in kinds)
        self.schemas.update(part.schemas)

    def replace_scopes(self, fresh: Snapshot) -> Snapshot:
        """A copy of this snapshot where every (kind, scope) that `fresh` covers is taken
        from `fresh` (used by the fresh re-check and verification of repairs)."""
        replaced = set(fresh.coverage)
        out = Snapshot(taken_at=fresh.taken_at, scope=self.scope)
        for kind, items in self.facts.items():
            cls = FACT_TYPES[kind]
            sf = cls._fields.index(cls.scope_field)
            kept = [f for f in items if (kind, _scope_of(cls, f[sf])) not in replaced]
            out.add(kind, kept)
        for kind, items in fresh.facts.items():
            out.add(kind, items)
        out.coverage = {**self.coverage, **fresh.coverage}
        out.schemas = {**self.schemas, **fresh.schemas}
        out.schema_notes = list(self.schema_notes)
        return out

    # -- reading ------------------------------------------------------------------
    def of(self, fact_cls: type[_F]) -> list[_F]:
        facts: list[_F] = self.facts.get(kind_of(fact_cls), [])
        return facts

    def scopes(self, fact_cls: FactType) -> list[str]:
        """The scopes `fact_cls` was collected in (not ANYWHERE: that says there was none)."""
        return sorted(s for (k, s) in self.coverage if k == fact_cls.kind and s != ANYWHERE)

    def is_complete(self, fact_cls: FactType, scope: str) -> bool:
        cov = self.coverage.get((fact_cls.kind, scope))
        return bool(cov and cov.complete)

    def why_incomplete(self, fact_cls: FactType, scope: str) -> str:
        cov = self.coverage.get((fact_cls.kind, scope))
        if cov is None and self.scope and self.outside(scope):
            return f"{scope} was not read: outside the run's scope ({self.scope.describe()})"
        if cov is None:
            return f"{fact_cls.kind} was not collected for {scope}"
        return cov.reason or f"{fact_cls.kind} is partial for {scope}"

    def incomplete_scopes(self, fact_cls: FactType) -> list[Coverage]:
        return sorted(
            (c for (k, s), c in self.coverage.items() if k == fact_cls.kind and not c.complete and s != ANYWHERE),
            key=lambda c: c.scope,
        )

    # -- the run's scope -----------------------------------------------------------
    def outside(self, scope: str) -> bool:
        """Whether the coverage scope `scope` lies outside the run's scope, so was not
        read on purpose (RunScope.outside: the cells it names, each host's cell)."""
        return self.scope is not None and self.scope.outside(scope, self.inside_cells(), self.host_cells())

    def narrowed(self, scope: RunScope) -> Snapshot:
        """This snapshot as a run of `scope` would have read it: the facts and coverage of
        the cells and hosts outside gone (not read), of the kinds read per project
        (PER_PROJECT_KINDS), only the named projects' rows, and with --cell, of the
        databases the cells share, their part (model/cell_slice.py)."""
        probe = Snapshot(taken_at=self.taken_at, facts=self.facts, coverage=self.coverage, scope=scope)
        out = Snapshot(taken_at=self.taken_at, scope=scope)
        per_project = {kind_of(k) for k in PER_PROJECT_KINDS} if scope.projects else set()
        for kind, items in self.facts.items():
            kept = [f for f in items if not probe.outside(scope_of(f))]
            if kind in per_project:
                kept = [f for f in kept if f.project_id in scope.projects]
            out.add(kind, kept)
        out.coverage = {key: cov for key, cov in self.coverage.items() if not probe.outside(cov.scope)}
        out.schemas = {where: read for where, read in self.schemas.items() if not probe.outside(where)}
        out.schema_notes = list(self.schema_notes)
        if scope.cells:
            out._keep_cells_part()
        return out

    def _keep_cells_part(self) -> None:
        """Keep of the shared databases and services the part of the run's cells
        (model/cell_slice.py), as their sources read it; their coverage says which part.
        What a --cell run does not read at all (DNS) is gone, its coverage saying why."""
        for (name, where), cov in list(self.coverage.items()):
            fact = FACT_TYPES.get(name)
            if fact in NOT_READ and in_scope(where, NOT_READ[fact]):
                self.facts.pop(name, None)
                self.cover(replace(cov, complete=False, reason=DNS_NOT_READ, collected_at=None))
        keys = cell_keys(self.facts, self.coverage, self.inside_cells())
        if keys is None:
            self.memo.clear()
            return
        parts = {**SLICED_KINDS, **OVN_KINDS, **NSX_KINDS, **QUEUE_KINDS, **NEVER_INSIDE}
        whole = {k: self.facts[kind_of(k)] for k in parts if kind_of(k) in self.facts}
        for kind, rows in slice_facts(keys, whole).items():
            self.facts[kind_of(kind)] = rows
        for (name, where), cov in list(self.coverage.items()):
            fact = FACT_TYPES.get(name)
            if fact in NEVER_INSIDE and where == NEVER_INSIDE[fact]:  # nothing read: nothing there is inside
                self.cover(replace(cov, complete=True, reason="", part=NONE))
            elif fact in parts and in_scope(where, parts[fact]):
                self.cover(replace(cov, part=keys.part))
        self.memo.clear()

    def inside_cells(self) -> set[str]:
        """The names of the cells the run's scope names (every cell without --cell)."""
        found = self.memo.get("inside_cells")
        if found is None:
            cells = [(c.name, c.uuid) for c in self.of(Cell)]
            if self.scope is None or not self.scope.cells:
                found = {name for name, _ in cells}
            else:
                found = self.scope.cells_named(cells)
            self.memo["inside_cells"] = found
        return set(found)

    def host_cells(self) -> dict[str, str]:
        """Each compute host Nova lists (compute nodes and nova-compute services) -> its cell."""
        found = self.memo.get("host_cells")
        if found is None:
            found = {s.host: s.cell for s in self.of(ComputeService) if s.host}
            found.update((n.host, n.cell) for n in self.of(ComputeNode) if n.host)
            self.memo["host_cells"] = found
        return dict(found)

    # -- files --------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        facts = {}
        for kind in sorted(self.facts):
            cls = FACT_TYPES[kind]
            facts[kind] = {"fields": list(cls._fields), "rows": [to_row(f) for f in self.facts[kind]]}
        out = {
            "format": FORMAT,
            "taken_at": self.taken_at.isoformat(),
            "coverage": [c.as_dict() for _, c in sorted(self.coverage.items())],
            "facts": facts,
        }
        if self.scope:
            out["scope"] = self.scope.as_dict()
        if self.schemas:
            out["schemas"] = [self.schemas[where].as_dict() for where in sorted(self.schemas)]
        return out

    @classmethod
    def from_json(cls, data: object) -> Snapshot:
        """A snapshot from its JSON form, every value checked against its fact type: a
        damaged or hand-edited file is one SnapshotFormatError that says where, never a
        TypeError in the middle of a check (or a wrong finding from a value of the wrong type)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = (
                f" (its format is {_show(data.get('format'))})" if isinstance(data, dict) and "format" in data else ""
            )
            raise SnapshotFormatError(f"not an osfsck snapshot{found}; expected format {FORMAT}")
        snap = cls(taken_at=_datetime(_member(data, "taken_at", "", object), "taken_at"))
        if data.get("scope") is not None:
            try:
                snap.scope = RunScope.from_dict(_member(data, "scope", "", dict)) or None
            except ValueError as e:
                raise SnapshotFormatError(f"scope.{e}") from None
        coverage = _member(data, "coverage", "", list)
        for i, c in enumerate(coverage):
            snap.cover(_coverage(c, f"coverage[{i}]"))
        for i, r in enumerate(_member(data, "schemas", "", list) if "schemas" in data else ()):
            read = _schema(r, f"schemas[{i}]")
            if read.scope in snap.schemas:
                raise SnapshotFormatError(f"schemas[{i}].scope: {_show(read.scope)} twice")
            snap.schemas[read.scope] = read
        for kind, block in _member(data, "facts", "", dict).items():
            fcls = FACT_TYPES.get(kind)
            if fcls is None:
                raise SnapshotFormatError(f"facts: unknown fact kind {_show(kind)} (written by a newer osfsck?)")
            where = f"facts.{kind}"
            if not isinstance(block, dict):
                raise SnapshotFormatError(f"{where}: expected an object with fields and rows, not {_what(block)}")
            fields = _member(block, "fields", where, list)
            rows = _member(block, "rows", where, list)
            if fields != list(fcls._fields):
                rows = _without_retired(fcls, fields, rows, where)
            snap.add(kind, _read_rows(fcls, rows, f"{where}.rows"))
        return snap

    def write(self, path: str) -> None:
        """Write to `path` (gzip if it ends in .gz), 0600 (a snapshot holds tenants'
        rows), atomically: a failed write leaves no partial file."""
        data = json.dumps(self.to_json(), separators=(",", ":"), sort_keys=False).encode()
        if str(path).endswith(".gz"):
            data = gzip.compress(data, compresslevel=6)
        write_atomically(path, data, 0o600)

    @classmethod
    def read(cls, path: str) -> Snapshot:
        """A snapshot file (.json, or .json.gz), or a SnapshotFormatError of one line that
        names the file and what is wrong with it."""
        gz = str(path).endswith(".gz")
        try:
            mode = os.stat(path).st_mode
            if stat.S_ISDIR(mode):
                raise SnapshotFormatError(f"{path} is a directory, not a snapshot file")
            if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):  # /dev/zero: read until memory runs out
                raise SnapshotFormatError(f"{path} is not a regular file")
            if gz:
                with gzip.open(path, "rb") as f:
                    raw = _read_bounded(f, path, os.stat(path).st_size)
            else:
                with open(path, "rb") as plain:
                    raw = plain.read()
        except gzip.BadGzipFile as e:
            raise SnapshotFormatError(f"{path}: not a gzip file ({e})") from None
        except EOFError:
            raise SnapshotFormatError(f"{path}: truncated gzip file (it ends before its end marker)") from None
        except zlib.error as e:
            raise SnapshotFormatError(f"{path}: damaged gzip data ({e})") from None
        except OSError as e:
            raise SnapshotFormatError(f"cannot read snapshot {path}: {e.strerror or e}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SnapshotFormatError(
                f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}"
                f"{' of its content' if gz else ''})"
            ) from None
        del raw  # a large cloud's snapshot is hundreds of MB: keep one copy
        try:
            data = json.loads(text)
        except RecursionError:
            raise SnapshotFormatError(f"{path}: not a snapshot: JSON nested too deeply") from None
        except ValueError as e:  # JSONDecodeError, and integers of more than 4300 digits
            raise SnapshotFormatError(f"{path}: not JSON ({_one_line(str(e))})") from None
        try:
            return cls.from_json(data)
        except SnapshotFormatError as e:
            raise SnapshotFormatError(f"{path}: {e}") from None


# -- reading a snapshot's JSON, checked ---------------------------------------------------------
_COVERAGE_FIELDS = {"kind": str, "scope": str, "source": str, "complete": bool}
# fields whose value a check looks something up by: only what a source writes there
_CHOICES = {("nsx.object", "neutron_kind"): frozenset(NEUTRON_TAG_SCOPES.values())}
_ONE: dict[type, str] = {str: "string", int: "integer", type(None): "null"}
_PLURAL: dict[type, str] = {str: "strings", int: "integers", type(None): "nulls"}
_WHAT = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    tuple: "a list",
    dt.datetime: "an ISO date and time (naive UTC)",
}


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _what(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), f"the number {_show(value)}" if isinstance(value, (int, float)) else type(value).__name__
    )


def _member(obj: dict[str, Any], key: str, where: str, typ: type) -> Any:
    name = f"{where}.{key}" if where else key
    if key not in obj:
        raise SnapshotFormatError(f"{name}: missing")
    value = obj[key]
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise SnapshotFormatError(
            f"{name}: expected {_WHAT.get(typ, 'a list' if typ is list else 'an object')}, not {_what(value)}"
        )
    return value


def _datetime(value: object, where: str) -> dt.datetime:
    """A naive UTC datetime, as every one osfsck writes: an aware one cannot be compared
    with the snapshot's clock."""
    try:
        if not isinstance(value, str):
            raise TypeError
        when = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise SnapshotFormatError(f"{where}: expected {_WHAT[dt.datetime]}, not {_what(value)}") from None
    if when.tzinfo is not None:
        raise SnapshotFormatError(f"{where}: {_show(value)} has a time zone; osfsck writes naive UTC")
    return when


def _coverage(c: object, where: str) -> Coverage:
    if not isinstance(c, dict):
        raise SnapshotFormatError(f"{where}: expected an object, not {_what(c)}")
    values = {k: _member(c, k, where, typ) for k, typ in _COVERAGE_FIELDS.items()}
    if values["kind"] not in FACT_TYPES:
        raise SnapshotFormatError(f"{where}.kind: unknown fact kind {_show(values['kind'])}")
    prefix = _scope_prefix(FACT_TYPES[values["kind"]])
    if (
        prefix
        and values["scope"] != ANYWHERE
        and not (values["scope"].startswith(prefix) and len(values["scope"]) > len(prefix))
    ):
        raise SnapshotFormatError(
            f"{where}.scope: {values['kind']} is read per {prefix[:-1]}: expected "
            f'"{prefix}<name>", not {_show(values["scope"])}'
        )
    reason = c.get("reason", "")
    if not isinstance(reason, str):
        raise SnapshotFormatError(f"{where}.reason: expected a string, not {_what(reason)}")
    at = c.get("collected_at")
    part = c.get("part", "")
    if not isinstance(part, str):
        raise SnapshotFormatError(f"{where}.part: expected a string, not {_what(part)}")
    return Coverage(
        values["kind"],
        values["scope"],
        values["source"],
        values["complete"],
        reason,
        _datetime(at, f"{where}.collected_at") if at is not None else None,
        part,
    )


def _schema(r: object, where: str) -> SchemaRead:
    """A database's version table as a source read it (`SchemaRead.as_dict`)."""
    if not isinstance(r, dict):
        raise SnapshotFormatError(f"{where}: expected an object, not {_what(r)}")
    scope, database, table = (_member(r, key, where, str) for key in ("scope", "database", "table"))
    if database not in DATABASES:
        raise SnapshotFormatError(
            f"{where}.database: {_show(database)} is not one of {', '.join(DATABASES)} (written by a newer osfsck?)"
        )
    if table not in (ALEMBIC_TABLE, MIGRATE_TABLE, ""):
        raise SnapshotFormatError(f'{where}.table: expected {ALEMBIC_TABLE}, {MIGRATE_TABLE} or "", not {_show(table)}')
    values = _member(r, "values", where, list)
    return SchemaRead(scope, database, table, _items(values, (str,), f"{where}.values"))


def _scope_prefix(fact_cls: FactType) -> str | None:
    """The "<what>:" a coverage scope of this kind starts with, when it names a cell, a
    host (see _scope_of) or a DNS zone (the DNS source's "dns:<zone>"): checks take the
    name after the colon (all but ANYWHERE, which Snapshot.scopes leaves out)."""
    return {"cell": "cell:", "host": "host:"}.get(fact_cls.scope_field) or (
        "dns:" if fact_cls.kind.startswith("dns.") else None
    )


def _without_retired(cls: FactType, fields: list[Any], rows: list[Any], where: str) -> list[Any]:
    """`rows` written when `cls` had fields it has let go of since (its `retired_fields`),
    without them; any other difference in the fields is one line naming both lists."""
    keep = [i for i, name in enumerate(fields) if name not in cls.retired_fields]
    if [fields[i] for i in keep] != list(cls._fields):
        raise SnapshotFormatError(f"{where}: fields {_show(fields)}, expected {list(cls._fields)}")
    n = len(fields)
    for k, row in enumerate(rows):
        if type(row) is not list or len(row) != n:
            raise SnapshotFormatError(f"{where}.rows[{k}]: expected a list of {n} values ({', '.join(fields)})")
    return [[row[i] for i in keep] for row in rows]


# (name, base type, optional, the types taken at once, a tuple field's items: the types of
# each item, or for items that are fixed-length lists the types at each position)
_Spec = tuple[str, Any, bool, set[type], tuple[Any, ...]]
_SPECS: dict[FactType, list[_Spec]] = {}
# the exact types a plain field takes at once; others go through _is
_FAST: dict[type, set[type]] = {str: {str}, int: {int, bool}, float: {int, float}, bool: {bool}}


def _spec(cls: FactType) -> list[_Spec]:
    """What each field of `cls` takes, from its type hints: Optional[...] allows null; a
    `tuple[X, ...]` field is a list of X, and X may itself be a tuple of fixed length."""
    if cls not in _SPECS:
        hints = typing.get_type_hints(cls)
        spec = []
        for name in cls._fields:
            args = typing.get_args(hints[name])
            optional = type(None) in args
            hint = next((a for a in args if a is not type(None)), hints[name]) if optional else hints[name]
            base = typing.get_origin(hint) or hint
            items: tuple[Any, ...] = ()
            if base is tuple:
                item = (typing.get_args(hint) or (str,))[0]
                items = (
                    tuple(map(_members, typing.get_args(item))) if typing.get_origin(item) is tuple else _members(item)
                )
            spec.append((name, base, optional, _FAST.get(base, set()) | ({type(None)} if optional else set()), items))
        _SPECS[cls] = spec
    return _SPECS[cls]


def _members(hint: Any) -> tuple[type, ...]:
    """The types a value of `hint` may have: a union's members, else the type itself."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    return tuple(typing.get_args(hint)) if union else (hint,)


def _read_rows(cls: FactType, rows: list[Any], where: str) -> list[Any]:
    """The facts of `rows` (lists of values in the order of cls._fields), each value
    checked against its field's type: a column at a time, by the set of its types, since a
    large cloud's snapshot holds a million facts; the first bad value is then looked for
    row by row, to name it."""
    spec, n = _spec(cls), len(cls._fields)
    if not rows:
        return []
    if set(map(type, rows)) != {list} or set(map(len, rows)) != {n}:
        for k, row in enumerate(rows):
            if type(row) is not list:
                raise SnapshotFormatError(f"{where}[{k}]: expected a list of {n} values, not {_what(row)}")
            if len(row) != n:
                raise SnapshotFormatError(f"{where}[{k}]: {len(row)} values, expected {n} ({', '.join(cls._fields)})")
    columns: list[Any] = list(zip(*rows))
    for i, (name, base, optional, fast, items) in enumerate(spec):
        column = columns[i]
        if base is dt.datetime:
            columns[i] = _datetimes(column, optional, where, name)
        elif base is tuple and isinstance(items[0], tuple):
            columns[i] = [_rows_of(v, items, f"{where}[{k}].{name}") for k, v in enumerate(column)]
        elif base is tuple:
            if set(map(type, column)) - ({list, type(None)} if optional else {list}) or not set(
                map(type, itertools.chain.from_iterable(v for v in column if v is not None))
            ) <= set(items):
                for k, v in enumerate(column):
                    if not (v is None and optional):
                        _items(v, items, f"{where}[{k}].{name}")
            columns[i] = [v if v is None else tuple(v) for v in column]
        elif not set(map(type, column)) <= fast:
            for k, v in enumerate(column):
                if type(v) not in fast and not _is(v, base):
                    raise SnapshotFormatError(
                        f"{where}[{k}].{name}: expected {_WHAT.get(base, base.__name__)}, not {_what(v)}"
                    )
    for i, (name, _, optional, _, _) in enumerate(spec):
        choices = _CHOICES.get((cls.kind, name))
        if choices is not None and not set(columns[i]) <= (choices | {None} if optional else choices):
            k, v = next((k, v) for k, v in enumerate(columns[i]) if v not in choices and not (v is None and optional))
            raise SnapshotFormatError(
                f"{where}[{k}].{name}: expected one of {', '.join(sorted(choices))}, not {_show(v)}"
            )
    return [tuple.__new__(cls, values) for values in zip(*columns)]


def _datetimes(column: Iterable[Any], optional: bool, where: str, name: str) -> list[dt.datetime | None]:
    """A column of ISO texts as naive datetimes (the first bad one named, row by row)."""
    try:
        if optional and None in column:
            out = [None if v is None else dt.datetime.fromisoformat(v) for v in column]
        else:
            out = list(map(dt.datetime.fromisoformat, column))
        if {d.tzinfo for d in out if d is not None} <= {None}:
            return out
    except (TypeError, ValueError):
        pass
    return [None if v is None and optional else _datetime(v, f"{where}[{k}].{name}") for k, v in enumerate(column)]


def _is(value: object, base: type) -> bool:
    if base is str:
        return type(value) is str
    if base is bool:  # a database's 0/1 as well: flags are read as the column stores them
        return isinstance(value, bool) or (type(value) is int and value in (0, 1))
    if base is int:  # and a bool where a column gives one
        return isinstance(value, int)
    if base is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, base)


def _items(value: object, kinds: tuple[type, ...], where: str) -> tuple[Any, ...]:
    if not (isinstance(value, list) and all(type(x) in kinds for x in value)):
        what = " or ".join(sorted({_PLURAL.get(t, t.__name__) for t in kinds}))
        raise SnapshotFormatError(f"{where}: expected a list of {what}, not {_what(value)}")
    return tuple(value)


def _rows_of(value: object, kinds: tuple[tuple[type, ...], ...], where: str) -> tuple[Any, ...]:
    """A list of fixed-length lists, each value of one of its position's types."""
    shape = "[" + ", ".join(" or ".join(_ONE.get(t, t.__name__) for t in ts) for ts in kinds) + "]"
    if type(value) is not list:
        raise SnapshotFormatError(f"{where}: expected a list of {shape}, not {_what(value)}")
    for j, item in enumerate(value):
        if type(item) is not list or len(item) != len(kinds) or any(type(x) not in t for x, t in zip(item, kinds)):
            raise SnapshotFormatError(
                f"{where}[{j}]: expected {shape}, not {_show(item) if type(item) is list else _what(item)}"
            )
    return tuple(map(tuple, value))


def _scope_of(cls: FactType, value: str) -> str:
    """The coverage scope string for a fact's scope field value."""
    prefix = {"cell": "cell:", "host": "host:"}.get(cls.scope_field, "")
    return value if not prefix else f"{prefix}{value}"


def scope_of(fact: Any) -> str:
    return _scope_of(type(fact), getattr(fact, fact.scope_field))


# osfsck's snapshots compress 10-30 times (JSON of repeated keys); deflate's own limit is
# about 1,000: a file that inflates more than this is a decompression bomb, not a snapshot,
# and would take the machine's memory before json could say so
MAX_INFLATION = 100
_CHUNK = 1 << 20


def _read_bounded(f: gzip.GzipFile, path: str, size: int) -> bytes:
    limit = MAX_INFLATION * size + (64 << 20)
    parts: list[bytes] = []
    total = 0
    while chunk := f.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise SnapshotFormatError(
                f"{path}: inflates to more than {MAX_INFLATION} times its size: not a snapshot osfsck wrote"
            )
        parts.append(chunk)
    return b"".join(parts)
