"""Recorded database shapes (tests/sources/fixtures/<service>/*.json) into a database.

A fixture is {"about": ..., "written_by": [upstream writers], "phases": {name: {table:
[rows]}}} (or "tables" for a single phase): the rows a service's own write paths leave at
one moment, as docs/write-paths.md records them.  Times are ISO strings; every
"YYYY-MM-DDTHH:MM:SS" value becomes a datetime."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from osfsck.sources.stored_rows import CONVERTERS
from osfsck_lab import database

FIXTURES = Path(__file__).parent / "fixtures"
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def _value(v):
    return dt.datetime.fromisoformat(v) if isinstance(v, str) and _TIME.match(v) else v


def load(url: str, tables: dict) -> None:
    """Insert {table: [rows]} in the order given (parents before children)."""
    for name, rows in tables.items():
        database.insert_rows(url, name, [{k: _value(v) for k, v in r.items()} for r in rows])


def assert_gives_its_fields(kind, stmt) -> None:
    """A query's rows become facts with tuple.__new__, which does not check the length: its
    columns are its fact's fields, or a kind that converts its rows (sources/stored_rows.py)
    takes the query's row and gives all its fields."""
    width = len(stmt.selected_columns)
    if kind in CONVERTERS:
        row = ("",) * width
        assert len(CONVERTERS[kind](row)) == len(kind._fields)
    else:
        assert width == len(kind._fields)
