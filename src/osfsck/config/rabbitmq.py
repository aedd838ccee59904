"""`[rabbitmq]`: the RabbitMQ management API(s) that the stale-RPC checks read.

Stub: the RPC work fills in the keys (see issue 5)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RabbitSettings:
    pass


def parse_rabbitmq(t: dict, base: Path) -> RabbitSettings:
    from osfsck.config.load import _only
    _only(t, set(), "[rabbitmq]")
    return RabbitSettings()
