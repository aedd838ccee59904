"""`[placement]`: the Placement database (read by the checks) and its API (used by repairs).

Stub: the Placement work fills in the keys (see issue 5)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from osfsck.config.settings import Database


@dataclass(frozen=True)
class PlacementSettings:
    database: Database | None = None


def parse_placement(t: dict, base: Path) -> PlacementSettings:
    from osfsck.config.load import _only, _service_database
    if not t:
        return PlacementSettings()
    _only(t, {"database", "database_password_env", "database_password_file", "placement_conf"}, "[placement]")
    return PlacementSettings(database=_service_database(t, "placement", base, "placement_database"))
