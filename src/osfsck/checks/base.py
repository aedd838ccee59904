"""What every check is: an identity stated once, what it needs, and a pure `run`."""

from __future__ import annotations

import datetime as dt
import inspect
import math
import re
from collections.abc import Iterable
from typing import Any, ClassVar

from osfsck.model.facts.base import FactType
from osfsck.model.finding import Confidence, Finding, Inconclusive, Severity
from osfsck.model.refs import ObjectRef
from osfsck.model.snapshot import ANYWHERE, Snapshot
from osfsck.model.wording import closest, show

CODE_RE = re.compile(r"^[A-Z]{2}[0-9]{3}$")
NAME_RE = re.compile(r"^[a-z]+(-[a-z0-9]+)+$")
DOC_SECTIONS = ("Why it matters", "How it is detected", "Known false positives", "Repair")


class CheckOutput:
    """Where a check puts what it found, what it examined and where it could not decide."""

    def __init__(self, check: Check):
        self.check = check
        self.findings: list[Finding] = []
        self.examined = 0
        self.undecided: dict[str, Inconclusive] = {}
        # scope -> the objects it was left undecided for (None: not said), so that a run
        # scoped to some cells or hosts reports only what concerns them (checks/scoping.py)
        self.grounds: dict[str, set[ObjectRef | None]] = {}

    def examine(self, n: int = 1) -> None:
        self.examined += n

    def inconclusive(self, scope: str, reason: str, about: ObjectRef | None = None) -> None:
        """`scope` could not be read (completely), so the check could not decide there, or
        could not decide `about` (an object it judged, which needs `scope`)."""
        self.undecided.setdefault(scope, Inconclusive(self.check.code, scope, reason))
        self.grounds.setdefault(scope, set()).add(about)

    @property
    def inconclusive_list(self) -> list[Inconclusive]:
        return [self.undecided[s] for s in sorted(self.undecided)]

    def found(
        self,
        subject: ObjectRef,
        message: str,
        *,
        related: Iterable[ObjectRef] = (),
        evidence: dict[str, Any] | None = None,
        confidence: Confidence = Confidence.HIGH,
        changed_at: dt.datetime | None = None,
        reclaim: dict[str, int] | None = None,
        severity: Severity | None = None,
    ) -> None:
        c = self.check
        self.findings.append(
            Finding(
                code=c.code,
                name=c.name,
                severity=severity or c.severity,
                subject=subject,
                message=message,
                confidence=confidence,
                related=tuple(related),
                evidence=evidence or {},
                changed_at=changed_at,
                reclaim=reclaim or {},
            )
        )


class Check:
    """Subclasses set the class attributes and implement `run`.

    The class docstring is the check's documentation: a summary line, then the sections
    "Why it matters:", "How it is detected:", "Known false positives:" and "Repair:".
    """

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    # fact types read (an instance's may be narrowed to the parts that can run: engine/wiring.py)
    needs: tuple[FactType, ...] = ()
    relies_on: ClassVar[tuple[FactType, ...]] = ()  # fact types whose completeness absence depends on
    # fact types read when their source is configured, never required: evidence that makes
    # a finding clearer (what the hypervisor shows), not what decides it
    uses: ClassVar[tuple[FactType, ...]] = ()
    # groups of kinds in `needs` that are alternatives, one per service the check has a part
    # for (Cinder's quota rows, Neutron's): it runs when the sources of at least one group
    # are configured and reads only those groups' kinds; each part runs on what was
    # collected (see `collected`)
    needs_one_of: ClassVar[tuple[tuple[FactType, ...], ...]] = ()
    repairs: ClassVar[tuple[str, ...]] = ()  # names of repairs that can fix a finding
    # a TypedDict: the keys (and their values' types) of every finding's evidence -- the
    # contract with its repairs, which read nothing else (tests/checks/test_evidence_shapes.py)
    evidence_shape: ClassVar[type]
    defaults: ClassVar[dict[str, Any]] = {}  # tunable parameters (ages in seconds)

    def __init__(self, params: dict[str, Any] | None = None):
        self.params = {**self.defaults, **_valid_params(self, params or {})}

    def run(self, snap: Snapshot, out: CheckOutput) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def evaluate(self, snap: Snapshot) -> CheckOutput:
        out = CheckOutput(self)
        self.run(snap, out)
        # a kind it needs that its source found no scope of to read (no host listed, so
        # no host read): having examined nothing there is not being clean there
        for kind in self.needs:
            nowhere = snap.coverage.get((kind.kind, ANYWHERE))
            if nowhere is not None and not nowhere.complete:
                out.inconclusive(ANYWHERE, nowhere.reason)
        out.findings.sort(key=Finding.sort_key)
        return out

    @classmethod
    def summary(cls) -> str:
        return (inspect.getdoc(cls) or "").split("\n", 1)[0].strip()

    @classmethod
    def doc_sections(cls) -> dict[str, str]:
        """The docstring's sections, by heading."""
        sections: dict[str, list[str]] = {}
        current = None
        for line in (inspect.getdoc(cls) or "").splitlines()[1:]:
            heading = line.strip().rstrip(":")
            if line.strip().endswith(":") and heading in DOC_SECTIONS:
                current = heading
                sections[current] = []
            elif current:
                sections[current].append(line.strip())
        return {k: " ".join(" ".join(v).split()) for k, v in sections.items()}


class ParamError(ValueError):
    """A check setting osfsck cannot use: `param` ("" for the settings as a whole) and what
    is wrong with it, for the caller to name the table the operator wrote it in."""

    def __init__(self, param: str, problem: str):
        super().__init__(f"{param}: {problem}" if param else problem)
        self.param, self.problem = param, problem


def _valid_params(check: Check, params: dict[str, Any]) -> dict[str, Any]:
    """`params` checked against the check's `defaults`, whose values give each setting's
    type (a number of seconds, a flag, a table of seconds), plus `grace` (seconds) and
    `repair` (one of the check's repairs): a wrong type must fail here, before anything
    runs, not as a TypeError in the middle of a repair run."""
    if not isinstance(params, dict):
        raise ParamError("", f"expected a table of settings, not {show(params)}")
    allowed = {**check.defaults, "grace": 0.0}
    for key, value in params.items():
        if key == "repair":
            if value not in check.repairs:
                raise ParamError(key, f"expected one of {', '.join(check.repairs) or '(none)'}, not {show(value)}")
        elif key not in allowed:
            raise ParamError(
                "", f"unknown setting {key!r}{closest(key, allowed)} (settings: {', '.join(sorted(allowed))}, repair)"
            )
        else:
            _valid_value(key, value, allowed[key])
    return params


def _valid_value(key: str, value: object, default: object) -> None:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ParamError(key, f"expected true or false, not {show(value)}")
    elif isinstance(default, (int, float)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ParamError(key, f"expected a number of seconds, not {show(value)}")
        if value < 0:
            raise ParamError(key, f"cannot be negative ({value!r})")
    elif isinstance(default, dict):
        if not isinstance(value, dict):
            raise ParamError(key, f"expected a table like {{ {next(iter(default), 'x')} = ... }}, not {show(value)}")
        for k, v in value.items():
            if k not in default:
                raise ParamError(key, f"unknown key {k!r}{closest(k, default)}")
            try:
                _valid_value(k, v, default[k])
            except ParamError as e:
                raise ParamError(f"{key}.{e.param}", e.problem) from None
    elif not isinstance(value, type(default)):
        raise ParamError(key, f"expected {type(default).__name__}, not {show(value)}")


def recent(snap: Snapshot, when: dt.datetime | None, min_age: float) -> bool:
    """Changed within `min_age` seconds: an operation may still be in flight."""
    age = age_seconds(snap, when)
    return age is not None and age < min_age


def scope_complete(
    snap: Snapshot, out: CheckOutput, scope: str, kinds: Iterable[FactType], about: ObjectRef | None = None
) -> bool:
    """True when every one of `kinds` was read completely in `scope`; otherwise the scope
    is recorded inconclusive (with the first incomplete kind's reason, for `about` when it
    is one object's judgement that needs it): a check that judges absence against it must
    not judge anything there."""
    for kind in kinds:
        if not snap.is_complete(kind, scope):
            out.inconclusive(scope, snap.why_incomplete(kind, scope), about)
            return False
    return True


def place_ref(scope: str) -> ObjectRef:
    """A host, a cell or a service's database as an object, by its scope ("host:<name>"):
    what an undecided scope is recorded `about` when the check walks what lies there."""
    what, _, name = scope.partition(":")
    return ObjectRef(what, name or scope, scope)


def collected(snap: Snapshot, kinds: Iterable[FactType]) -> bool:
    """Whether any of `kinds` was collected at all (their source configured and read, fully
    or not): the part of a check that `needs_one_of` them runs only then, and judges
    completeness with `scope_complete` as any other."""
    return any(snap.scopes(k) for k in kinds)


def age_seconds(snap: Snapshot, when: dt.datetime | None) -> float | None:
    """How long before the snapshot was taken `when` was; None if unknown."""
    if when is None:
        return None
    return (snap.taken_at - when).total_seconds()
