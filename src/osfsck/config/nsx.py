"""`[nsx]`: a VMware NSX manager."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from osfsck.config.settings import ConfigError


@dataclass(frozen=True)
class NsxSettings:
    url: str | None = None               # filled in by the NSX work (issue 4)


def parse_nsx(t: dict, base: Path) -> NsxSettings:
    if t:
        raise ConfigError("[nsx] is not supported yet")
    return NsxSettings()
