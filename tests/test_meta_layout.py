"""The layout's rules that import-linter cannot state (docs/design.md "Where things go")."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

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
