"""Registry of fact kinds and their (de)serialisation."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable
from typing import Any, TypeVar

# A NamedTuple class registered by fact_type(): it has `kind`, `scope_field` and
# `_datetime_fields`, which the decorator sets and a type checker cannot see (a NamedTuple
# declares no class attributes), hence Any
FactType = type[Any]
_T = TypeVar("_T", bound=FactType)

FACT_TYPES: dict[str, FactType] = {}


def fact_type(kind: str, *, scope_field: str, retired: tuple[str, ...] = ()) -> Callable[[_T], _T]:
    """Register a NamedTuple as the fact type for `kind`.

    `scope_field` names the field that holds the fact's scope (a cell or a host), the
    unit in which a source reports completeness.  `retired`: fields the type had and let
    go of, whose columns a snapshot written then may still hold (model/snapshot.py drops them).
    """

    def register(cls: _T) -> _T:
        if kind in FACT_TYPES:
            raise ValueError(f"fact kind {kind!r} registered twice")
        cls.kind = kind
        cls.scope_field = scope_field
        cls.retired_fields = retired
        cls._datetime_fields = tuple(
            name for name, hint in typing.get_type_hints(cls).items() if "datetime" in str(hint)
        )
        FACT_TYPES[kind] = cls
        return cls

    return register


def kind_of(fact_or_type: Any) -> str:
    """The kind of a fact, or of a fact type (set by fact_type(), unseen by a type checker)."""
    kind: str = fact_or_type.kind
    return kind


def to_row(fact: Any) -> list[Any]:
    """A fact as a JSON-able list (datetimes as ISO strings)."""
    row = list(fact)
    for name in fact._datetime_fields:
        i = fact._fields.index(name)
        if row[i] is not None:
            row[i] = row[i].isoformat()
    return row


def from_row(cls: FactType, row: list[Any]) -> Any:
    values = list(row)
    for name in cls._datetime_fields:
        i = cls._fields.index(name)
        if values[i] is not None:
            values[i] = dt.datetime.fromisoformat(values[i])
    return cls._make(values)
