"""Placement in a lab cloud: resource providers, inventories, allocations and consumers
consistent with the instances, then faults and near misses (issue 5; being written)."""

from __future__ import annotations

from osfsck.lab.cloud import Cloud


def populate(c: Cloud) -> None:
    """Providers for every compute node and allocations for every instance (to come)."""


def inject(c: Cloud, hosts: list[str]) -> None:
    """One fault per Placement check (to come)."""


def near_misses(c: Cloud) -> None:
    """Legitimate states the Placement checks must leave alone (to come)."""


def write(c: Cloud, urls: dict, release: str) -> None:
    """The Placement database's rows (to come)."""
