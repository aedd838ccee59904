"""Findings: what a check found, as data."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from osfsck.model.refs import ObjectRef


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}


class Confidence(str, Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


def fingerprint(code: str, subject: ObjectRef) -> str:
    """Stable across runs: the same bad state of the same object gives the same value."""
    raw = f"{code}|{subject.kind}|{subject.id}|{subject.scope}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class Finding:
    code: str
    name: str
    severity: Severity
    subject: ObjectRef
    message: str
    confidence: Confidence = Confidence.HIGH
    related: tuple[ObjectRef, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    # when the subject last changed, for the grace guard (None: unknown, treated as old)
    changed_at: dt.datetime | None = None
    # what repairing it would give back: {"vcpus": n, "memory_mb": n, "disk_bytes": n}
    reclaim: dict[str, int] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.code, self.subject)

    def sort_key(self) -> tuple[int, str, str, str]:
        return (self.severity.rank, self.code, self.subject.scope, self.subject.id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "confidence": self.confidence.value,
            "subject": self.subject.as_dict(),
            "related": [r.as_dict() for r in self.related],
            "message": self.message,
            "fingerprint": self.fingerprint,
            "evidence": self.evidence,
            "changed_at": self.changed_at.isoformat() if self.changed_at else None,
            "reclaim": self.reclaim,
        }


@dataclass(frozen=True)
class Inconclusive:
    """A check could not decide for a scope because a source it relies on is partial."""

    code: str
    scope: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "scope": self.scope, "reason": self.reason}
