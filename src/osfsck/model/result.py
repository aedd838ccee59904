"""The result of one run: everything renderers and exit codes are computed from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from osfsck.model.finding import Finding, Inconclusive
from osfsck.model.plan import Outcome, PlanResult
from osfsck.model.schema_versions import CloudRelease, SchemaRead, cloud_release
from osfsck.model.scope import RunScope


@dataclass(frozen=True)
class SourceStatus:
    """How one source fared for one scope: ok, partial or failed."""

    source: str
    scope: str
    status: str  # "ok" | "partial" | "failed"
    reason: str = ""
    # measured where sources run (engine/collect.py); None for a saved snapshot's scopes.
    # seconds: the source's whole pass, shared by the scopes it read together (a
    # database source reads its cells one after another, a hypervisor source its hosts
    # in parallel); objects: the facts it read for this scope
    seconds: float | None = None
    objects: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.source,
            "scope": self.scope,
            "status": self.status,
            "reason": self.reason,
            "seconds": self.seconds,
            "objects": self.objects,
        }


@dataclass(frozen=True)
class Fixed:
    """A finding of an earlier run that this one looked for and did not find."""

    fingerprint: str
    code: str
    name: str
    kind: str
    id: str
    scope: str
    first_seen: dt.datetime
    last_seen: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "code": self.code,
            "name": self.name,
            "subject": {"kind": self.kind, "id": self.id, "scope": self.scope},
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
        }


@dataclass(frozen=True)
class RunDiff:
    """What changed since the last run, from the state file: when each finding of this
    run was first seen (now: it is new), and what earlier runs found that this one, having
    decided its scope, did not.  A finding whose scope this run did not read or decide is
    neither: it is left out of `fixed`."""

    first_seen: dict[str, dt.datetime]  # by fingerprint, every finding of this run
    new: frozenset[str]
    fixed: tuple[Fixed, ...] = ()

    def status(self, fingerprint: str) -> str | None:
        if fingerprint in self.new:
            return "new"
        return "persists" if fingerprint in self.first_seen else None

    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "persists": len(self.first_seen) - len(self.new), "fixed": len(self.fixed)}


@dataclass
class CheckStats:
    code: str
    name: str
    examined: int = 0
    findings: int = 0
    inconclusive: list[Inconclusive] = field(default_factory=list)
    repair_refused: str = ""  # why the blast-radius guard refused this check's repairs
    severity: str = ""  # the check's own (a finding may have another)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "examined": self.examined,
            "findings": self.findings,
            "inconclusive": [i.as_dict() for i in self.inconclusive],
            "repair_refused": self.repair_refused,
            "severity": self.severity,
        }


@dataclass
class RunResult:
    mode: str
    taken_at: dt.datetime
    findings: list[Finding] = field(default_factory=list)
    checks: list[CheckStats] = field(default_factory=list)
    sources: list[SourceStatus] = field(default_factory=list)
    plans: list[PlanResult] = field(default_factory=list)
    cancelled: bool = False
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (code, name, why) of checks not run
    warnings: list[str] = field(default_factory=list)  # one line each, for stderr
    scope: RunScope | None = None  # --cell/--host/--project: what the run read and reports
    diff: RunDiff | None = None  # since the last run (None: --from, or no state file to compare with)
    # a view of part of a run's findings (--new-only) keeps the run's exit code
    run_exit: int | None = None
    # each database's version table as read (Snapshot.schemas), and what merging several
    # snapshots found about them: the release the report names (`release`)
    schemas: dict[str, SchemaRead] = field(default_factory=dict)
    schema_notes: list[str] = field(default_factory=list)

    @property
    def release(self) -> CloudRelease:
        """Which release the databases read are (model/schema_versions.py)."""
        found = cloud_release(self.schemas.values())
        if not self.schema_notes:
            return found
        return CloudRelease(found.databases, found.releases, found.text, (*found.notes, *self.schema_notes))

    @property
    def incomplete(self) -> list[tuple[str, str]]:
        """(what, why) of every scope a source could not read completely and every scope a
        check could not decide: a run with any is INCOMPLETE, whatever it found."""
        out = [(f"{s.source} {s.scope}", f"{s.status}: {s.reason}") for s in self.sources if s.status != "ok"]
        out += [(f"{i.code} {i.scope}", i.reason) for i in self.inconclusive]
        return out

    @property
    def inconclusive(self) -> list[Inconclusive]:
        return [i for c in self.checks for i in c.inconclusive]

    @property
    def repaired(self) -> list[PlanResult]:
        return [p for p in self.plans if p.outcome is Outcome.APPLIED]

    @property
    def remaining(self) -> list[Finding]:
        """Findings not fixed by an applied repair in this run."""
        fixed = {p.finding.fingerprint for p in self.repaired}
        return [f for f in self.findings if f.fingerprint not in fixed]

    def reclaimable(self) -> dict[str, int]:
        totals = {"vcpus": 0, "memory_mb": 0, "disk_bytes": 0}
        for f in self.findings:
            for k, v in f.reclaim.items():
                totals[k] = totals.get(k, 0) + int(v or 0)
        return totals

    def exit_code(self) -> int:
        """e2fsck-style bitmask (DESIGN §6)."""
        if self.run_exit is not None:
            return self.run_exit
        code = 0
        if self.repaired:
            code |= 1
        if self.remaining:
            code |= 4
        if self.incomplete or any(p.outcome is Outcome.FAILED for p in self.plans):
            code |= 8
        if self.cancelled:
            code |= 32
        return code
