"""RPC in a lab cloud: service heartbeats, instance actions and RabbitMQ queues consistent
with the cloud, then faults and near misses (issue 5; being written)."""

from __future__ import annotations

from osfsck.lab.cloud import Cloud


def inject(c: Cloud, hosts: list[str]) -> None:
    """One fault per RPC check (to come)."""


def near_misses(c: Cloud) -> None:
    """Legitimate transitional states the RPC checks must leave alone (to come)."""


def write(c: Cloud, urls: dict) -> None:
    """Instance actions and service rows (to come)."""
