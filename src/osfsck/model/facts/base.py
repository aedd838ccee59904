"""Registry of fact kinds and their (de)serialisation."""

from __future__ import annotations

import datetime as dt
import typing

FACT_TYPES: dict[str, type] = {}


def fact_type(kind: str, *, scope_field: str):
    """Register a NamedTuple as the fact type for `kind`.

    `scope_field` names the field that holds the fact's scope (a cell or a host), the
    unit in which a source reports completeness.
    """

    def register(cls):
        if kind in FACT_TYPES:
            raise ValueError(f"fact kind {kind!r} registered twice")
        cls.kind = kind
        cls.scope_field = scope_field
        cls._datetime_fields = tuple(
            name for name, hint in typing.get_type_hints(cls).items() if "datetime" in str(hint)
        )
        FACT_TYPES[kind] = cls
        return cls

    return register


def kind_of(fact_or_type) -> str:
    return fact_or_type.kind


def to_row(fact) -> list:
    """A fact as a JSON-able list (datetimes as ISO strings)."""
    row = list(fact)
    for name in fact._datetime_fields:
        i = fact._fields.index(name)
        if row[i] is not None:
            row[i] = row[i].isoformat()
    return row


def from_row(cls, row: list):
    values = list(row)
    for name in cls._datetime_fields:
        i = cls._fields.index(name)
        if values[i] is not None:
            values[i] = dt.datetime.fromisoformat(values[i])
    return cls._make(values)
