"""`[rabbitmq]`: the RabbitMQ management API(s) that the stale-RPC checks read.

    [rabbitmq]
    url = "https://rabbit1.example.net:15671"   # the management API (plain http on 15672 too)
    username = "osfsck"                          # the `monitoring` tag reads; deleting needs more
    password_env = "RABBIT_PASSWORD"             # or password_file; never the password itself
    vhosts = ["/"]                               # default: every vhost the user may see
    ca_file = "rabbit-ca.pem"                    # TLS is verified; verify = false turns that off
    timeout = "30s"
    page_size = 500                              # the API's maximum

    # several brokers (one per cell is common): each table is one broker, named in the
    # scopes ("rabbitmq:<name>/<vhost>"); keys it lacks come from [rabbitmq] itself
    [rabbitmq.brokers.cell1]
    url = "http://rabbit-cell1:15672"
    vhosts = ["nova_cell1"]

With `url` in [rabbitmq] itself, that broker is named by `name` (default "default").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from osfsck.config.common import ConfigError
from osfsck.config.service import required_secret
from osfsck.config.values import boolean, describe, duration, expected, http_url, integer, only, path, text

MAX_PAGE_SIZE = 500  # rabbit_mgmt_util ?MAX_PAGE_SIZE
_COMMON = {"username", "password_env", "password_file", "vhosts", "ca_file", "verify", "timeout", "page_size"}
_KEYS = _COMMON | {"url", "name", "brokers"}


@dataclass(frozen=True)
class Broker:
    name: str
    url: str
    username: str
    password: str = field(default="", repr=False)
    vhosts: tuple = ()  # empty: every vhost the user may see
    ca_file: str | None = None
    verify: bool = True
    timeout: float = 30.0
    page_size: int = MAX_PAGE_SIZE

    def client_kwargs(self) -> dict:
        """What osfsck.clients.rabbitmq.RabbitClient is made from (the source and repairs alike)."""
        verify = False if not self.verify else (self.ca_file or True)
        return {
            "url": self.url,
            "username": self.username,
            "password": self.password,
            "verify": verify,
            "timeout": self.timeout,
            "page_size": self.page_size,
            "name": self.name,
        }


@dataclass(frozen=True)
class RabbitSettings:
    brokers: tuple = ()  # Broker, in name order

    def broker(self, name: str) -> Broker | None:
        return next((b for b in self.brokers if b.name == name), None)


def parse_rabbitmq(t: dict, base: Path) -> RabbitSettings:
    if not t:
        return RabbitSettings()
    only(t, _KEYS | {"password"}, "[rabbitmq]")
    named = t.get("brokers", {})
    if not isinstance(named, dict):
        raise ConfigError(
            f"[rabbitmq.brokers] must be tables, one per broker: [rabbitmq.brokers.<name>], not {describe(named)}"
        )
    common = {k: v for k, v in t.items() if k in _COMMON}
    brokers = []
    if "url" in t:
        name = t.get("name", "default")
        if not isinstance(name, str) or not name or "/" in name:
            raise ConfigError("[rabbitmq].name: a broker name, without '/'")
        brokers.append(_broker(name, t, "[rabbitmq]", base))
    elif "name" in t:
        raise ConfigError("[rabbitmq].name names the broker of [rabbitmq].url, which is not set")
    for name, table in sorted(named.items()):
        where = f"[rabbitmq.brokers.{name}]"
        if "/" in name:
            raise ConfigError(f"{where}: a broker name cannot contain '/'")
        only(table, _COMMON | {"url", "password"}, where)
        if any(b.name == name for b in brokers):
            raise ConfigError(f"{where}: the name {name!r} is already [rabbitmq].name")
        inherited = dict(common)
        if {"password_env", "password_file"} & set(table):
            # a broker's own secret replaces the common one, whichever way each is given
            inherited.pop("password_env", None)
            inherited.pop("password_file", None)
        brokers.append(_broker(name, {**inherited, **table}, where, base))
    if not brokers:
        raise ConfigError("[rabbitmq]: set url, or one [rabbitmq.brokers.<name>] table per broker")
    return RabbitSettings(brokers=tuple(brokers))


def _broker(name: str, t: dict, where: str, base: Path) -> Broker:

    if "password" in t:
        raise ConfigError(f"{where}.password: never put the password in the file; use password_env or password_file")
    url = http_url(t.get("url"), f"{where}.url", "http://rabbit1:15672")
    username = text(t, "username", where)
    if username is None:
        raise ConfigError(f"{where}.username is required")
    vhosts = t.get("vhosts", [])
    if isinstance(vhosts, str):
        vhosts = [vhosts]
    if not isinstance(vhosts, list) or not all(isinstance(v, str) and v for v in vhosts):
        raise expected(f"{where}.vhosts", 'a list of vhost names, like ["/"]', vhosts)
    verify = boolean(t, "verify", where, True)
    ca_file = path(t, "ca_file", where, base, must_exist=True)
    return Broker(
        name=name,
        url=url.rstrip("/"),
        username=username,
        password=required_secret(t, where, base),
        vhosts=tuple(dict.fromkeys(vhosts)),
        ca_file=ca_file,
        verify=verify,
        timeout=duration(t, "timeout", where, 30, positive=True),
        page_size=integer(t, "page_size", where, MAX_PAGE_SIZE, lo=1, hi=MAX_PAGE_SIZE),
    )
