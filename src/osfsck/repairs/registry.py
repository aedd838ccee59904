"""Every repair, by name."""

from __future__ import annotations

import importlib
import pkgutil

import osfsck.repairs as _pkg
from osfsck.repairs.base import Repair, Runbook


def all_repairs() -> dict[str, type[Repair]]:
    for mod in pkgutil.walk_packages(_pkg.__path__, _pkg.__name__ + "."):
        importlib.import_module(mod.name)
    found: dict[str, type[Repair]] = {}
    stack = list(Repair.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if "name" in cls.__dict__ and cls is not Runbook:
            if cls.name in found and found[cls.name] is not cls:
                raise RuntimeError(f"repair name {cls.name!r} defined twice")
            found[cls.name] = cls
    return dict(sorted(found.items()))
