"""Plan files: `check --plan-out FILE` writes the plans a repair would apply, a reviewer
removes what must not be done, and `repair --plan FILE` applies exactly what is left.

The file can only choose among osfsck's own plans: every entry is matched, by its finding's
fingerprint, to the plan the repair run makes for the finding it finds now.  An entry whose
finding is gone, or changed (its evidence digest differs), is not applied; an entry whose
finding is unchanged but whose repair, target, action or params differ from osfsck's plan
was edited, and the whole file is refused before anything is written.  Nothing that the
file does not name is applied, whatever the run finds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osfsck.checks import registry
from osfsck.config.settings import ConfigError
from osfsck.engine.files import write_private
from osfsck.model.finding import Finding
from osfsck.model.plan import PlanResult, RepairPlan, Safety
from osfsck.model.result import RunResult
from osfsck.model.scope import RunScope

FORMAT = "osfsck-plan/1"
# what an entry must hold, and its type; "note" (why the run that wrote it held it back) and
# "message" are for the reviewer, read but not compared
_ENTRY = {
    "fingerprint": str,
    "code": str,
    "check": str,
    "repair": str,
    "safety": str,
    "action": str,
    "target": dict,
    "params": dict,
    "evidence_digest": str,
    "subject": dict,
    "message": str,
    "note": str,
}
_MAX_BYTES = 64 << 20  # a plan of every finding of a large cloud is a few MB


class PlanFileError(ConfigError):
    """A plan file osfsck cannot use, or one edited beyond removing entries: one line."""


@dataclass(frozen=True)
class PlanFile:
    path: str
    scope: RunScope | None
    entries: dict[str, dict[str, Any]]  # fingerprint -> entry

    @property
    def codes(self) -> list[str]:
        return sorted({e["code"] for e in self.entries.values()})


# -- what the digest and the comparison see --------------------------------------------------
def evidence_digest(f: Finding) -> str:
    """A digest of what the check saw: its evidence, without the durations measured against
    the run's own clock (seconds_building, age_seconds...), which change every run."""
    return "sha256:" + hashlib.sha256(_canonical(_steady(f.evidence)).encode()).hexdigest()


def _steady(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _steady(v) for k, v in value.items() if not _clocked(str(k))}
    if isinstance(value, (list, tuple)):
        return [_steady(v) for v in value]
    return value


def _clocked(key: str) -> bool:
    return key.startswith(("seconds_", "age_")) or key.endswith(("_seconds", "_age"))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def what_it_does(plan: RepairPlan) -> dict[str, Any]:
    """The parts of a plan a reviewer may not change: which repair, on what, how."""
    return {
        "repair": plan.repair,
        "safety": plan.safety.value,
        "action": plan.action,
        "target": plan.target.as_dict(),
        "params": json.loads(_canonical(plan.params)),
    }


def _unstamped(value: Any, writing: bool = False) -> Any:
    """Params without the time a conditional write stamps its row with (`updated_at`,
    `deleted_at`... under "values": the moment it writes, taken when it is planned), which
    differs between the run that wrote the file and the run that applies it; what a write
    expects to find ("expect", from the database) is compared whole."""
    if isinstance(value, dict):
        return {
            k: "<when written>" if writing and str(k).endswith("_at") else _unstamped(v, writing or k == "values")
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_unstamped(v, writing) for v in value]
    return value


# -- writing --------------------------------------------------------------------------------
def write(path: str, result: RunResult) -> int:
    """Write the automatic plans of `result` (not runbooks) to `path` (0600, atomically);
    how many."""
    entries = []
    for pr in sorted(result.plans, key=lambda p: p.finding.sort_key()):
        plan = pr.plan
        if plan is None or plan.safety is Safety.MANUAL:
            continue
        f = pr.finding
        entries.append(
            {
                "fingerprint": f.fingerprint,
                "code": f.code,
                "check": f.name,
                **what_it_does(plan),
                "evidence_digest": evidence_digest(f),
                "subject": f.subject.as_dict(),
                "message": f.message,
                "note": "" if pr.reason == "read-only run" else pr.reason,
            }
        )
    data = {
        "format": FORMAT,
        "taken_at": result.taken_at.isoformat(),
        "scope": result.scope.as_dict() if result.scope else None,
        "plans": entries,
    }
    write_private(Path(path), (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
    return len(entries)


# -- reading --------------------------------------------------------------------------------
def read(path: str) -> PlanFile:
    """A plan file, every entry checked (its check and repair exist and belong together);
    PlanFileError names the file and what is wrong."""
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_BYTES + 1)
    except OSError as e:
        raise PlanFileError(f"cannot read the plan file {path}: {e.strerror or e}") from None
    if len(raw) > _MAX_BYTES:
        raise PlanFileError(f"{path}: larger than {_MAX_BYTES >> 20} MB: not a plan file osfsck wrote")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PlanFileError(f"{path}: not UTF-8 text: not a plan file") from None
    except (ValueError, RecursionError) as e:
        raise PlanFileError(f"{path}: not JSON ({' '.join(str(e).split())[:120]})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = f" (its format is {data.get('format')!r})" if isinstance(data, dict) and "format" in data else ""
        raise PlanFileError(f"{path}: not an osfsck plan file{found}; expected format {FORMAT}")
    plans = data.get("plans")
    if not isinstance(plans, list):
        raise PlanFileError(f"{path}: plans: expected a list")
    scope = data.get("scope")
    try:
        run_scope = RunScope.from_dict(scope) or None if isinstance(scope, dict) else None
    except ValueError as e:
        raise PlanFileError(f"{path}: scope.{e}") from None
    if scope is not None and not isinstance(scope, dict):
        raise PlanFileError(f"{path}: scope: expected an object or null")
    entries: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(plans):
        _check_entry(path, i, entry)
        if entry["fingerprint"] in entries:
            raise PlanFileError(f"{path}: plans[{i}]: fingerprint {entry['fingerprint']} is given twice")
        entries[entry["fingerprint"]] = entry
    return PlanFile(path, run_scope, entries)


def _check_entry(path: str, i: int, e: object) -> None:
    where = f"{path}: plans[{i}]"
    if not isinstance(e, dict):
        raise PlanFileError(f"{where}: expected an object")
    for key, typ in _ENTRY.items():
        if not isinstance(e.get(key), typ):
            raise PlanFileError(f"{where}.{key}: expected {'a string' if typ is str else 'an object'}")
    extra = sorted(set(e) - set(_ENTRY))
    if extra:
        raise PlanFileError(f"{where}: unknown key {extra[0]!r}")
    cls = registry.find(e["code"])
    if cls is None or cls.code != e["code"]:
        raise PlanFileError(f"{where}.code: no check {e['code']!r} (see `osfsck checks`)")
    if e["repair"] not in cls.repairs:
        raise PlanFileError(f"{where}.repair: {cls.code} {cls.name} has no repair {e['repair']!r}")
    if e["safety"] not in (Safety.SAFE.value, Safety.UNSAFE.value):
        raise PlanFileError(f"{where}.safety: expected safe or unsafe, not {e['safety']!r}")


# -- matching what a repair run finds now ----------------------------------------------------
def edited(entry: dict[str, Any], plan: RepairPlan) -> str | None:
    """What of `entry` differs from osfsck's own plan for the same, unchanged finding (an
    edit beyond removing entries), or None."""
    mine = what_it_does(plan)
    for key in ("repair", "safety", "target", "action", "params"):
        theirs, ours = entry[key], mine[key]
        if key == "params":
            theirs, ours = _unstamped(theirs), _unstamped(ours)
        if _canonical(theirs) != _canonical(ours):
            return key
    return None


def verdict(entry: dict[str, Any], pr: PlanResult | None) -> str | None:
    """Why `entry` is not applied in this run (None: it may be): its finding is gone, or
    changed, or osfsck plans no automatic repair for it now.  Raises PlanFileError when
    the entry was edited: the finding is unchanged and osfsck's plan for it differs."""
    if pr is None:
        return "not applied: its finding is gone"
    if entry["code"] != pr.finding.code:
        raise PlanFileError(
            f"plan {entry['fingerprint']}: its code {entry['code']} is not its finding's ({pr.finding.code}): "
            "the file was edited beyond removing entries: nothing applied"
        )
    if evidence_digest(pr.finding) != entry["evidence_digest"]:
        return "not applied: its finding changed since the plan was made (its evidence differs)"
    if pr.plan is None or pr.plan.safety is Safety.MANUAL:
        return "not applied: osfsck plans no automatic repair for it now"
    key = edited(entry, pr.plan)
    if key is not None:
        fp = entry["fingerprint"]
        raise PlanFileError(
            f"plan {fp} ({entry['code']} {entry['subject'].get('id', '?')}): its {key} is not what osfsck plans for "
            "this finding (the file was edited beyond removing entries): nothing applied"
        )
    return None
