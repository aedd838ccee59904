"""`[ovn]`: the OVN northbound database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from osfsck.config.settings import ConfigError


@dataclass(frozen=True)
class OvnSettings:
    nb_connection: str | None = None     # filled in by the OVN work (issue 4)


def parse_ovn(t: dict, base: Path) -> OvnSettings:
    if t:
        raise ConfigError("[ovn] is not supported yet")
    return OvnSettings()
