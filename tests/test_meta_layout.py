"""The layout's rules that import-linter cannot state (docs/design.md "Where things go")."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from osfsck.checks.registry import all_checks
from osfsck.repairs.base import Runbook
from osfsck.repairs.registry import all_repairs

SRC = Path(__file__).resolve().parent.parent / "src" / "osfsck"


def imports_of(text: str) -> set[str]:
    """The absolute modules a file imports, wherever the import statement is."""
    names = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_imports_are_seen_in_functions_and_trys():
    text = "def f():\n    import orjson\ntry:\n    import json\nexcept ImportError:\n    pass\nfrom osfsck.clients.db import x\n"
    assert imports_of(text) == {"orjson", "json", "osfsck.clients.db"}


@pytest.mark.parametrize("package", ["model", "rules"])
def test_the_model_and_the_rules_import_only_the_standard_library_and_the_model(package):
    allowed = set(sys.stdlib_module_names) | {"__future__"}
    files = sorted((SRC / package).rglob("*.py"))
    assert files, package
    outside = {
        str(path.relative_to(SRC)): sorted(
            n
            for n in imports_of(path.read_text())
            if n.split(".")[0] not in allowed and not n.startswith("osfsck.model")
        )
        for path in files
    }
    assert {f: names for f, names in outside.items() if names} == {}


# one folder per code prefix, the linters' rule (ruff's, SQLFluff's): a check's module lives
# in checks/<the folder of its prefix>/; what one folder's checks share is its common.py, and
# what several folders share sits at checks/ itself, named for what it holds
PREFIX_FOLDERS = {
    "DN": "dns",
    "HV": "hypervisor",
    "MQ": "rabbitmq",
    "NT": "network",
    "NV": "nova",
    "NX": "nsx",
    "OV": "ovn",
    "PL": "placement",
    "QU": "quotas",
    "VL": "volumes",
}
PRODUCT_CHECKS = [c for c in all_checks() if c.__module__.startswith("osfsck.checks.")]


@pytest.mark.parametrize("cls", PRODUCT_CHECKS, ids=lambda c: c.code)
def test_each_check_lives_in_the_folder_of_its_code_prefix(cls):
    assert cls.__module__.split(".")[:3] == ["osfsck", "checks", PREFIX_FOLDERS[cls.code[:2]]]


def test_a_folder_holds_checks_of_its_prefix_and_its_common_module_only():
    modules = {c.__module__.removeprefix("osfsck.checks.") for c in PRODUCT_CHECKS}
    folders = sorted(p.name for p in SRC.joinpath("checks").iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(PREFIX_FOLDERS.values())
    for folder in folders:
        others = {
            f.stem for f in SRC.joinpath("checks", folder).glob("*.py") if f"{folder}.{f.stem}" not in modules
        } - {"__init__", "common"}
        assert others == set(), folder


def test_every_runbook_lives_in_runbooks_under_its_checks_folder():
    runbooks = [r for r in all_repairs().values() if issubclass(r, Runbook) and r.__module__.startswith("osfsck.")]
    assert runbooks
    for r in runbooks:
        package, _, folder = r.__module__.rpartition(".")
        assert (package, folder in PREFIX_FOLDERS.values()) == ("osfsck.repairs.runbooks", True), r.__module__
