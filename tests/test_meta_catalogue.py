"""Meta-tests over the whole catalogue, as Cloud Custodian runs over its resources: every
repair says how safe it is and what it writes, every fact kind a check reads has a source
that provides it, and every source says what it reads.  (The checks' own identity, docs and
scenario kinds: tests/checks/test_catalogue.py; their evidence: test_evidence_shapes.py;
every repair planning every finding: tests/repairs/test_planning_catalogue.py.)"""

from __future__ import annotations

import inspect

import pytest

from osfsck.checks.registry import all_checks
from osfsck.engine.wiring import source_classes
from osfsck.model.plan import Safety
from osfsck.repairs.base import Repair
from osfsck.repairs.registry import all_repairs

# the product's repairs (test modules define stand-ins of their own, which register too)
REPAIRS = sorted((n, c) for n, c in all_repairs().items() if c.__module__.startswith("osfsck.repairs."))
SOURCES = source_classes()


@pytest.mark.parametrize(("name", "cls"), REPAIRS, ids=[n for n, _ in REPAIRS])
def test_every_repair_declares_its_safety_and_what_it_writes(name, cls):
    assert cls.name == name and name == name.lower() and " " not in name
    assert isinstance(cls.safety, Safety)
    assert isinstance(cls.writes, str) and len(cls.writes.split()) >= 3, "writes: what it changes, for permissions"
    assert isinstance(cls.undoable, bool)
    assert (inspect.getdoc(cls) or "").strip(), f"{name}: no docstring (what it does and why it is safe)"
    if cls.undoable:
        assert cls.undo is not Repair.undo, f"{name} says it can be undone but has no undo"
    if cls.safety is not Safety.MANUAL:
        assert cls.apply is not Repair.apply, f"{name} applies nothing"


def test_every_repair_is_named_by_a_check():
    named = {r for c in all_checks() for r in c.repairs}
    assert {n for n, _ in REPAIRS} - named == set()


@pytest.mark.parametrize("cls", all_checks(), ids=lambda c: c.code)
def test_every_kind_a_check_reads_has_a_source(cls):
    provided = {k.kind for s in SOURCES for k in s.provides}
    read = {k.kind for k in (*cls.needs, *cls.uses, *cls.relies_on)}
    assert read - provided == set(), f"{cls.code} reads kinds no source provides"
    assert {k.kind for k in cls.relies_on} <= {k.kind for k in cls.needs}, "relies on what it does not read"


@pytest.mark.parametrize("cls", SOURCES, ids=lambda s: s.name)
def test_every_source_says_what_it_provides_and_what_it_needs(cls):
    assert cls.name and cls.provides and cls.settings_attr
    provided = {k.kind for s in SOURCES for k in s.provides}
    assert {k.kind for k in cls.requires} <= provided
    assert (inspect.getdoc(cls) or "").strip()


def test_no_kind_is_provided_by_two_sources():
    seen: dict[str, str] = {}
    for s in SOURCES:
        for k in set(s.provides):  # one source may read a kind in several scopes (Nova's API and cells)
            assert k.kind not in seen, f"{k.kind} provided by {seen[k.kind]} and {s.name}"
            seen[k.kind] = s.name
