"""The snapshot: every fact collected in one run, and how complete each scope is."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from dataclasses import dataclass, field
from typing import Iterable

from osfsck.model.facts import FACT_TYPES
from osfsck.model.facts.base import from_row, to_row

FORMAT = "osfsck-snapshot/1"
# the scope of a kind whose source found nothing to read (no compute host listed): its
# coverage there is incomplete, and every check that needs the kind is undecided
ANYWHERE = "*"


class SnapshotFormatError(ValueError):
    """A snapshot file that is not one of ours, or is damaged."""


@dataclass(frozen=True)
class Coverage:
    """Whether `source` collected every fact of `kind` in `scope`, and if not, why."""

    kind: str
    scope: str
    source: str
    complete: bool
    reason: str = ""
    collected_at: dt.datetime | None = None

    def as_dict(self) -> dict:
        return {
            "kind": self.kind, "scope": self.scope, "source": self.source,
            "complete": self.complete, "reason": self.reason,
            "collected_at": self.collected_at.isoformat() if self.collected_at else None,
        }


@dataclass
class Snapshot:
    """Facts by kind plus per-(kind, scope) coverage.

    `taken_at` (naive UTC) is the clock of the run: checks compute every age from it, so
    re-checking a saved snapshot later gives the same findings.
    """

    taken_at: dt.datetime
    facts: dict[str, list] = field(default_factory=dict)
    coverage: dict[tuple[str, str], Coverage] = field(default_factory=dict)
    # derived indexes shared by checks within one run (never serialised)
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    # -- building -----------------------------------------------------------------
    def add(self, kind: str, facts: Iterable) -> None:
        self.facts.setdefault(kind, []).extend(facts)

    def cover(self, cov: Coverage) -> None:
        self.coverage[(cov.kind, cov.scope)] = cov

    def replace_scopes(self, fresh: "Snapshot") -> "Snapshot":
        """A copy of this snapshot where every (kind, scope) that `fresh` covers is taken
        from `fresh` (used by the fresh re-check and verification of repairs)."""
        replaced = set(fresh.coverage)
        out = Snapshot(taken_at=fresh.taken_at)
        for kind, items in self.facts.items():
            cls = FACT_TYPES[kind]
            sf = cls._fields.index(cls.scope_field)
            kept = [f for f in items if (kind, _scope_of(cls, f[sf])) not in replaced]
            out.add(kind, kept)
        for kind, items in fresh.facts.items():
            out.add(kind, items)
        out.coverage = {**self.coverage, **fresh.coverage}
        return out

    # -- reading ------------------------------------------------------------------
    def of(self, fact_cls) -> list:
        return self.facts.get(fact_cls.kind, [])

    def scopes(self, fact_cls) -> list[str]:
        """The scopes `fact_cls` was collected in (not ANYWHERE: that says there was none)."""
        return sorted(s for (k, s) in self.coverage if k == fact_cls.kind and s != ANYWHERE)

    def is_complete(self, fact_cls, scope: str) -> bool:
        cov = self.coverage.get((fact_cls.kind, scope))
        return bool(cov and cov.complete)

    def why_incomplete(self, fact_cls, scope: str) -> str:
        cov = self.coverage.get((fact_cls.kind, scope))
        if cov is None:
            return f"{fact_cls.kind} was not collected for {scope}"
        return cov.reason or f"{fact_cls.kind} is partial for {scope}"

    def incomplete_scopes(self, fact_cls) -> list[Coverage]:
        return sorted(
            (c for (k, s), c in self.coverage.items() if k == fact_cls.kind and not c.complete and s != ANYWHERE),
            key=lambda c: c.scope,
        )

    # -- files --------------------------------------------------------------------
    def to_json(self) -> dict:
        facts = {}
        for kind in sorted(self.facts):
            cls = FACT_TYPES[kind]
            facts[kind] = {"fields": list(cls._fields), "rows": [to_row(f) for f in self.facts[kind]]}
        return {
            "format": FORMAT,
            "taken_at": self.taken_at.isoformat(),
            "coverage": [c.as_dict() for _, c in sorted(self.coverage.items())],
            "facts": facts,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Snapshot":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SnapshotFormatError(f"not an osfsck snapshot (expected format {FORMAT})")
        try:
            snap = cls(taken_at=dt.datetime.fromisoformat(data["taken_at"]))
            for c in data["coverage"]:
                at = c.get("collected_at")
                snap.cover(Coverage(c["kind"], c["scope"], c["source"], bool(c["complete"]),
                                    c.get("reason", ""), dt.datetime.fromisoformat(at) if at else None))
            for kind, block in data["facts"].items():
                fcls = FACT_TYPES.get(kind)
                if fcls is None:
                    raise SnapshotFormatError(f"unknown fact kind {kind!r} (written by a newer osfsck?)")
                if list(block["fields"]) != list(fcls._fields):
                    raise SnapshotFormatError(f"fact kind {kind!r} has fields {block['fields']}, expected {list(fcls._fields)}")
                snap.add(kind, (from_row(fcls, r) for r in block["rows"]))
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, SnapshotFormatError):
                raise
            raise SnapshotFormatError(f"damaged snapshot: {type(e).__name__}: {e}") from None
        return snap

    def write(self, path: str) -> None:
        """Write to `path` (gzip if it ends in .gz), 0600 (a snapshot holds tenants'
        rows), atomically: a failed write leaves no partial file."""
        data = json.dumps(self.to_json(), separators=(",", ":"), sort_keys=False).encode()
        if str(path).endswith(".gz"):
            data = gzip.compress(data, compresslevel=6)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @classmethod
    def read(cls, path: str) -> "Snapshot":
        opener = gzip.open if str(path).endswith(".gz") else open
        try:
            with opener(path, "rt", encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SnapshotFormatError(f"cannot read snapshot {path}: {e}") from None
        return cls.from_json(data)


def _scope_of(cls, value: str) -> str:
    """The coverage scope string for a fact's scope field value."""
    prefix = {"cell": "cell:", "host": "host:"}.get(cls.scope_field, "")
    return value if not prefix else f"{prefix}{value}"


def scope_of(fact) -> str:
    return _scope_of(type(fact), getattr(fact, fact.scope_field))

