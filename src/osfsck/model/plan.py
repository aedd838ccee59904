"""Repair plans and what became of them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from osfsck.model.finding import Finding
from osfsck.model.refs import ObjectRef


class Safety(str, Enum):
    SAFE = "safe"  # bookkeeping, no tenant-visible effect
    UNSAFE = "unsafe"  # destructive or tenant-visible
    MANUAL = "manual"  # no automation: the plan is a runbook


@dataclass(frozen=True, eq=False)
class RepairPlan:
    repair: str  # the repair's name, e.g. "undefine-domain"
    safety: Safety
    finding: Finding
    target: ObjectRef
    action: str  # one sentence: what applying it does
    params: dict[str, Any] = field(default_factory=dict)
    runbook: str = ""  # for manual plans: the steps an operator follows
    touches: tuple[str, ...] = ()  # scopes it writes beyond the finding's own (re-read to verify)
    # why the check's repairs listed before this one could not be used (a runbook that
    # stands in for a repair whose API is not configured says what would enable it)
    fallback: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "repair": self.repair,
            "safety": self.safety.value,
            "fingerprint": self.finding.fingerprint,
            "code": self.finding.code,
            "target": self.target.as_dict(),
            "action": self.action,
            "params": self.params,
            "runbook": self.runbook,
            "touches": list(self.touches),
            "fallback": self.fallback,
        }


class Outcome(str, Enum):
    PLANNED = "planned"  # check mode, or a safety class the mode does not apply
    APPLIED = "applied"  # applied and verified: the finding is gone
    FAILED = "failed"  # applying raised, or the finding persisted after it
    SKIPPED = "skipped"  # a guard or the operator said no (reason says which)
    NONE = "none"  # no repair applies to this finding (reason says why)
    MANUAL = "manual"  # a runbook for a person
    LEFT = "left"  # would have been applied, but the run's batch (--max-count) was full


@dataclass
class PlanResult:
    """What became of one finding's repair.  `plan` is None when no repair could be
    planned (the reason says why)."""

    finding: Finding
    plan: RepairPlan | None
    outcome: Outcome
    reason: str = ""
    journal_id: str | None = None
    # when a plan the grace guard held back becomes repairable (None: now, or never by age)
    repairable_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        base = (
            self.plan.as_dict()
            if self.plan
            else {
                "repair": None,
                "safety": None,
                "fingerprint": self.finding.fingerprint,
                "code": self.finding.code,
                "target": self.finding.subject.as_dict(),
                "action": None,
                "params": {},
                "runbook": "",
                "fallback": "",
            }
        )
        return {
            **base,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "journal_id": self.journal_id,
            "repairable_at": self.repairable_at.isoformat() if self.repairable_at else None,
        }
