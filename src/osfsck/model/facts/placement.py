"""Facts read from Placement: resource providers, allocations, consumers (issue 5)."""

from __future__ import annotations
