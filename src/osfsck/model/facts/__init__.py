"""Fact types: one small immutable record per thing as one system sees it.

Every fact type is a NamedTuple registered under a `kind` string.  NamedTuples are
used rather than frozen dataclasses because collection builds hundreds of thousands of
them from database rows (`tuple.__new__(Fact, row)` costs a tuple allocation, nothing more).
"""

from osfsck.model.facts import (  # noqa: F401  (registers the kinds)
    cinder,
    dns,
    hypervisor,
    neutron,
    nova,
    nsx,
    ovn,
    placement,
    quota,
    rpc,
)
from osfsck.model.facts.base import FACT_TYPES, fact_type, kind_of

__all__ = ["FACT_TYPES", "fact_type", "kind_of"]
