"""What every part of the configuration shares: its one error, and a database URL that
keeps its password out of sight."""

from __future__ import annotations

from dataclasses import dataclass, field

from osfsck.model.secrets import redact_url


class ConfigError(Exception):
    """Bad configuration: the message is one line an operator can act on."""


@dataclass(frozen=True)
class Database:
    """A database URL.  The password never appears in str() or repr()."""

    url: str = field(repr=False)

    def redacted(self) -> str:
        return redact_url(self.url)

    def __str__(self) -> str:
        return self.redacted()
