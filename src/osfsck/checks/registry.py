"""Finds every check class in the catalogue and selects among them."""

from __future__ import annotations

import importlib
import pkgutil

import osfsck.checks as _pkg
from osfsck.checks.base import Check


def all_checks() -> list[type[Check]]:
    """Every concrete check, sorted by code."""
    for mod in pkgutil.walk_packages(_pkg.__path__, _pkg.__name__ + "."):
        importlib.import_module(mod.name)
    found = {}
    stack = list(Check.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        # only the catalogue's own modules: a test's stand-in check must not join it
        if "code" in cls.__dict__ and cls.__module__.startswith(_pkg.__name__ + "."):
            found[cls.code] = cls
    return [found[c] for c in sorted(found)]


def find(key: str) -> type[Check] | None:
    key_l = key.lower()
    for cls in all_checks():
        if cls.code.lower() == key_l or cls.name == key_l:
            return cls
    return None


def matches(cls: type[Check], pattern: str) -> bool:
    """A selector matches a check by exact code, code prefix (e.g. "HV", "HV1") or name."""
    p = pattern.strip()
    return cls.name == p.lower() or cls.code.upper().startswith(p.upper())


def select(select: list[str] | None = None, ignore: list[str] | None = None) -> list[type[Check]]:
    """Checks chosen by --select/--ignore; an unknown selector is an error (ValueError)."""
    checks = all_checks()
    for p in (select or []) + (ignore or []):
        if not any(matches(c, p) for c in checks):
            raise ValueError(f"no check matches {p!r} (see `osfsck checks`)")
    chosen = [c for c in checks if not select or any(matches(c, p) for p in select)]
    return [c for c in chosen if not any(matches(c, p) for p in (ignore or []))]
