"""When Nova and Cinder take a service for down (Nova's servicegroup database driver,
nova/servicegroup/drivers/db.py `is_up`; Cinder's `Service.is_up`)."""

from __future__ import annotations

import datetime as dt
from typing import Any


def heartbeat(service: Any) -> dt.datetime | None:
    """When a service last reported: Nova's servicegroup DB driver reads last_seen_up
    (Mitaka+), falling back on updated_at; Cinder's services have updated_at only."""
    when: dt.datetime | None = getattr(service, "last_seen_up", None) or service.updated_at
    return when


def is_down(service: Any, taken_at: dt.datetime, down_time: float) -> bool:
    """Down as Nova and Cinder judge it: forced down, or no heartbeat within `down_time`
    seconds of the snapshot's instant."""
    if getattr(service, "forced_down", 0):
        return True
    seen = heartbeat(service)
    return seen is None or (taken_at - seen).total_seconds() > down_time
