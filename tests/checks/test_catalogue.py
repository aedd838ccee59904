"""Catalogue tests (DESIGN §4, §7): walk the live registry of checks and hold every check to
the house rules: one well-formed identity, a documented docstring, declared needs, a
scenario file at the mirrored path with the four kinds of case, and deterministic output."""

from __future__ import annotations

import importlib
import inspect
import json
from collections import Counter

import pytest

from osfsck.checks.base import CODE_RE, DOC_SECTIONS, NAME_RE, Check
from osfsck.checks.registry import all_checks
from osfsck.model.facts import FACT_TYPES
from osfsck.model.facts.nova import ArchivedInstance, Cell, Instance, Migration
from osfsck.model.finding import Severity
from osfsck.model.snapshot import Snapshot
from tests.checks.scenario import KINDS, scenario_modules

CHECKS = all_checks()


def _id(cls):
    return f"{cls.code}-{cls.name}"


def _scenario_module_name(cls) -> str:
    # osfsck.checks.hypervisor.zombie_domain -> tests.checks.hypervisor.zombie_domain
    assert cls.__module__.startswith("osfsck.checks.")
    return "tests." + cls.__module__[len("osfsck.") :]


def test_the_registry_finds_checks():
    assert CHECKS, "no check registered"
    assert all(issubclass(c, Check) for c in CHECKS)


def test_codes_and_names_are_unique():
    codes = Counter(c.code for c in CHECKS)
    names = Counter(c.name for c in CHECKS)
    assert [c for c, n in codes.items() if n > 1] == []
    assert [c for c, n in names.items() if n > 1] == []


@pytest.mark.parametrize("cls", CHECKS, ids=_id)
def test_identity(cls):
    assert CODE_RE.match(cls.code), cls.code
    assert NAME_RE.match(cls.name), cls.name
    assert isinstance(cls.severity, Severity)
    assert cls.summary(), "the docstring starts with a summary line"


@pytest.mark.parametrize("cls", CHECKS, ids=_id)
def test_docstring_has_every_section(cls):
    sections = cls.doc_sections()
    missing = [s for s in DOC_SECTIONS if not sections.get(s)]
    assert missing == [], f"{cls.code} docstring lacks {missing}"


@pytest.mark.parametrize("cls", CHECKS, ids=_id)
def test_declares_what_it_reads(cls):
    assert cls.needs, "a check declares the fact kinds it needs"
    for kind in cls.needs + cls.relies_on:
        assert FACT_TYPES.get(kind.kind) is kind, f"{kind} is not a registered fact type"
    assert set(cls.relies_on) <= set(cls.needs), "a check relies only on kinds it needs"
    groups = [set(g) for g in cls.needs_one_of]
    assert all(g and g <= set(cls.needs) for g in groups), "a check's parts are groups of the kinds it needs"
    assert len(groups) != 1, "one part alone is just what the check needs"
    assert sum(map(len, groups)) == len(set().union(*groups)), "a kind belongs to one part"
    assert isinstance(cls.repairs, tuple)
    cls()  # its defaults make a valid configuration


@pytest.mark.parametrize("cls", CHECKS, ids=_id)
def test_has_a_scenario_file_with_the_four_kinds(cls):
    mod = importlib.import_module(_scenario_module_name(cls))
    assert mod.CHECK is cls
    kinds = {case.kind for case in mod.CASES if not case.bug}
    assert kinds == set(KINDS), f"missing kinds (known-bug cases do not count): {set(KINDS) - kinds}"
    names = Counter(case.name for case in mod.CASES)
    assert [n for n, k in names.items() if k > 1] == [], "case names are unique within a file"


def test_every_scenario_module_belongs_to_a_registered_check():
    registered = {_scenario_module_name(c): c for c in CHECKS}
    for name, mod in scenario_modules().items():
        assert registered.get(name) is mod.CHECK, f"{name} tests {mod.CHECK}, which lives elsewhere"


def _cases():
    for cls in CHECKS:
        mod = importlib.import_module(_scenario_module_name(cls))
        for case in mod.CASES:
            yield pytest.param(cls, case, id=f"{cls.code}:{case.kind}:{case.name}")


def _output(out):
    return ([f.as_dict() for f in out.findings], [i.as_dict() for i in out.inconclusive_list], out.examined)


@pytest.mark.parametrize(("cls", "case"), list(_cases()))
def test_deterministic(cls, case):
    """The same snapshot gives the same output, in the same order, whether evaluated again
    (with the snapshot's shared indexes built), from a fresh build, after a round trip
    through the snapshot file format (`osfsck check --from`), or with every list of facts
    in the reverse order (collection order must not leak into the result)."""
    snap = case.build()
    first = _output(cls(case.params).evaluate(snap))
    assert _output(cls(case.params).evaluate(snap)) == first
    assert _output(cls(case.params).evaluate(case.build())) == first
    saved = json.loads(json.dumps(case.build().to_json()))
    assert _output(cls(case.params).evaluate(Snapshot.from_json(saved))) == first
    reversed_snap = case.build()
    for kind in reversed_snap.facts:
        reversed_snap.facts[kind].reverse()
    assert _output(cls(case.params).evaluate(reversed_snap)) == first


def _asks_the_index_about_cells(cls) -> bool:
    source = inspect.getsource(inspect.getmodule(cls))
    return "instance_index(" in source and any(f in source for f in ("idx.status(", "cell_complete(", "orphan_port("))


@pytest.mark.parametrize("cls", [c for c in CHECKS if _asks_the_index_about_cells(c)], ids=_id)
def test_a_check_on_the_instance_index_needs_what_decides_a_cell_complete(cls):
    # `--select` collects only what the selected checks need: without these kinds every
    # cell looks partial to the index and the check can only be inconclusive
    assert {Instance, ArchivedInstance, Migration, Cell} <= set(cls.needs)
