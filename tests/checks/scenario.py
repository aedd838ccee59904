"""The shape of a check scenario (DESIGN §7).

A scenario module sits at the path mirroring its check (tests/checks/hypervisor/zombie_domain.py
for osfsck/checks/hypervisor/zombie_domain.py), has no `test_` prefix, and defines

    CHECK = TheCheckClass
    CASES = [Case("found", "...", build, expect), ...]

with at least one case of each kind.  test_scenarios.py runs every case exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from osfsck.checks.base import CheckOutput
from osfsck.model.snapshot import Snapshot

FOUND, CLEAN, NEAR_MISS, PARTIAL = "found", "clean", "near-miss", "partial"
KINDS = (FOUND, CLEAN, NEAR_MISS, PARTIAL)


@dataclass(frozen=True)
class Case:
    """One story told to one check.

    kind: "found" (a real inconsistency), "clean" (nothing wrong), "near-miss" (a documented
        legitimate state that looks wrong) or "partial" (a source could not read everything
        and the check must say it could not decide).
    build: returns the Snapshot (usually through tests.support.world.World).
    expect: for "partial", the scopes expected inconclusive; otherwise the findings
        expected, as (code, subject id) pairs (none for "clean"; usually none for a near
        miss, unless it sits beside a real finding).  Exactly these, no more, no fewer.
    verify: optional further assertions on the CheckOutput (messages, evidence, reclaim).
    params: the check's settings for this case.
    bug: a known bug of the check that makes this case fail today; the case is then run
        as a strict xfail, which turns red once the check is fixed (drop `bug` then).
    """

    kind: str
    name: str
    build: Callable[[], Snapshot]
    expect: tuple | list = ()
    verify: Callable[[CheckOutput], None] | None = None
    params: dict | None = None
    bug: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"case {self.name!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.kind == PARTIAL and not self.expect:
            raise ValueError(f"partial case {self.name!r} must name the scopes expected inconclusive")
        if self.kind == FOUND and not self.expect:
            raise ValueError(f"found case {self.name!r} must name the findings expected")
        if self.kind == CLEAN and self.expect:
            raise ValueError(f"clean case {self.name!r} expects no finding")

    def expected(self) -> set:
        if self.kind == PARTIAL:
            return set(self.expect)
        return {tuple(e) for e in self.expect}


def scenario_modules() -> dict[str, object]:
    """Every scenario module under tests/checks, by dotted name, sorted.  A module is a
    scenario when it defines CHECK and CASES; test modules and helpers are skipped."""
    import importlib
    import pkgutil

    import tests.checks as pkg

    found = {}
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        leaf = info.name.rsplit(".", 1)[1]
        if info.ispkg or leaf.startswith("test_") or leaf in ("scenario", "conftest"):
            continue
        mod = importlib.import_module(info.name)
        if hasattr(mod, "CHECK") and hasattr(mod, "CASES"):
            found[info.name] = mod
    return dict(sorted(found.items()))
