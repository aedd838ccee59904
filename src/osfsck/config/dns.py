"""`[dns]` and `[designate]`: the DNS servers osfsck reads zones from, and Designate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from osfsck.config.settings import ConfigError


@dataclass(frozen=True)
class DnsSettings:
    zones: tuple = ()            # filled in by the DNS work (issue 4)


@dataclass(frozen=True)
class DesignateSettings:
    database: object = None      # a Database, or None


def parse_dns(t: dict, base: Path) -> DnsSettings:
    if t:
        raise ConfigError("[dns] is not supported yet")
    return DnsSettings()


def parse_designate(t: dict, base: Path) -> DesignateSettings:
    if t:
        raise ConfigError("[designate] is not supported yet")
    return DesignateSettings()
