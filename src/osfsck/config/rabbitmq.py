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

from osfsck.config.settings import ConfigError

MAX_PAGE_SIZE = 500          # rabbit_mgmt_util ?MAX_PAGE_SIZE
_COMMON = {"username", "password_env", "password_file", "vhosts", "ca_file", "verify", "timeout", "page_size"}
_KEYS = _COMMON | {"url", "name", "brokers"}


@dataclass(frozen=True)
class Broker:
    name: str
    url: str
    username: str
    password: str = field(default="", repr=False)
    vhosts: tuple = ()               # empty: every vhost the user may see
    ca_file: str | None = None
    verify: bool = True
    timeout: float = 30.0
    page_size: int = MAX_PAGE_SIZE

    def client_kwargs(self) -> dict:
        """What osfsck.clients.rabbitmq.RabbitClient is made from (the source and repairs alike)."""
        verify = False if not self.verify else (self.ca_file or True)
        return {"url": self.url, "username": self.username, "password": self.password, "verify": verify,
                "timeout": self.timeout, "page_size": self.page_size, "name": self.name}


@dataclass(frozen=True)
class RabbitSettings:
    brokers: tuple = ()              # Broker, in name order

    def broker(self, name: str) -> Broker | None:
        return next((b for b in self.brokers if b.name == name), None)


def parse_rabbitmq(t: dict, base: Path) -> RabbitSettings:
    if not t:
        return RabbitSettings()
    from osfsck.config.load import _only
    _only(t, _KEYS | {"password"}, "[rabbitmq]")
    named = t.get("brokers", {})
    if not isinstance(named, dict):
        raise ConfigError("[rabbitmq.brokers] must be tables, one per broker: [rabbitmq.brokers.<name>]")
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
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table")
        if "/" in name:
            raise ConfigError(f"{where}: a broker name cannot contain '/'")
        _only(table, _COMMON | {"url", "password"}, where)
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
    from osfsck.config.load import parse_duration, required_secret
    if "password" in t:
        raise ConfigError(f"{where}.password: never put the password in the file; use password_env or password_file")
    url = t.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ConfigError(f"{where}.url: expected the management API's URL, like http://rabbit1:15672")
    username = t.get("username")
    if not isinstance(username, str) or not username:
        raise ConfigError(f"{where}.username is required")
    vhosts = t.get("vhosts", [])
    if isinstance(vhosts, str):
        vhosts = [vhosts]
    if not isinstance(vhosts, list) or not all(isinstance(v, str) and v for v in vhosts):
        raise ConfigError(f"{where}.vhosts: a list of vhost names, like [\"/\"]")
    verify = t.get("verify", True)
    if not isinstance(verify, bool):
        raise ConfigError(f"{where}.verify must be true or false")
    ca_file = t.get("ca_file")
    if ca_file is not None:
        fp = Path(ca_file) if Path(ca_file).is_absolute() else base / ca_file
        if not fp.is_file():
            raise ConfigError(f"{where}.ca_file: {fp} is not a file")
        ca_file = str(fp.resolve())
    page_size = t.get("page_size", MAX_PAGE_SIZE)
    if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ConfigError(f"{where}.page_size must be an integer from 1 to {MAX_PAGE_SIZE}")
    timeout = parse_duration(t.get("timeout", 30), f"{where}.timeout")
    if timeout <= 0:
        raise ConfigError(f"{where}.timeout must be positive")
    return Broker(name=name, url=url.rstrip("/"), username=username,
                  password=required_secret(t, where, base),
                  vhosts=tuple(dict.fromkeys(vhosts)), ca_file=ca_file, verify=verify, timeout=timeout,
                  page_size=page_size)

