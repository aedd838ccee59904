"""A finding's evidence against its check's declared shape (Check.evidence_shape, a
TypedDict): what it must hold, what it may, and what a repair reads of it."""

from __future__ import annotations

import dataclasses
import types
import typing

from osfsck.checks.registry import find
from osfsck.model.finding import Finding


def declared(code: str) -> tuple[frozenset, frozenset]:
    """(required keys, every declared key) of the check `code`'s evidence."""
    shape = find(code).evidence_shape
    return shape.__required_keys__, shape.__required_keys__ | shape.__optional_keys__


def shape_problems(f: Finding) -> list[str]:
    """How `f`'s evidence departs from its check's shape: keys missing or undeclared,
    values of another type (checked one level deep: nested objects are the shared
    builders' of checks/evidence.py)."""
    shape = find(f.code).evidence_shape
    required, known = declared(f.code)
    hints = typing.get_type_hints(shape)
    out = [f"{f.code}: missing {k}" for k in sorted(required - set(f.evidence))]
    out += [f"{f.code}: undeclared {k}" for k in sorted(set(f.evidence) - known)]
    for k, v in f.evidence.items():
        if k in hints and not _is(v, hints[k]):
            out.append(f"{f.code}: {k} is {type(v).__name__}, declared {hints[k]}")
    return out


def _is(value, hint) -> bool:
    """`value` of the type `hint` at its top level: one of a union's members, the origin of
    a generic (list for list[str]: the items are not looked at)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is(value, a) for a in typing.get_args(hint))
    return value is None if hint is type(None) else isinstance(value, origin or hint)


class ReadTracking(dict):
    """A finding's evidence that remembers which keys were read."""

    def __init__(self, data: dict):
        super().__init__(data)
        self.read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


def tracked(f: Finding) -> tuple[Finding, ReadTracking]:
    """`f` whose evidence records what is read of it."""
    evidence = ReadTracking(f.evidence)
    return dataclasses.replace(f, evidence=evidence), evidence


def undeclared_reads(f: Finding, evidence: ReadTracking) -> set[str]:
    return evidence.read - declared(f.code)[1]
