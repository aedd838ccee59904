"""Quota accounting in a lab cloud: Cinder's and Neutron's usage rows and reservations
consistent with what the cloud holds, then faults and near misses (issue 5; being written)."""

from __future__ import annotations

from osfsck.lab.cloud import Cloud


def populate(c: Cloud) -> None:
    """Usage rows counting everything the cloud holds (to come)."""


def inject(c: Cloud) -> None:
    """One fault per quota check (to come)."""


def near_misses(c: Cloud) -> None:
    """Legitimate states the quota checks must leave alone (to come)."""


def write(c: Cloud, urls: dict) -> None:
    """The usage and reservation rows (to come)."""
