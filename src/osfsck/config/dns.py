"""`[dns]` and `[designate]`: the DNS servers osfsck reads zones from, and Designate.

    [dns]
    server = "192.0.2.53:53"            # default server of every zone
    key = "osfsck"                      # default TSIG key of every zone
    timeout = "10s"
    hostname_template = "{hostname}.{zone}"   # Designate's nova_fixed default

    [dns.keys.osfsck]
    algorithm = "hmac-sha256"
    secret_file = "osfsck.key"          # or secret_env = "OSFSCK_TSIG"; never the secret here

    [dns.zones."cloud.example.com."]    # a forward zone
    [dns.zones."0.20.10.in-addr.arpa."] # a reverse zone
    server = "192.0.2.54"               # overrides per zone: server, key, hostname_template,
    designate = true                    # designate (Designate writes it: change it there)

    [designate]
    database = "mysql+pymysql://designate@db/designate"   # or designate_conf = "designate.conf"

A secret file holds the base64 secret, or a key clause as `tsig-keygen` prints it.
Template variables: hostname, display_name, instance_id, project_id, zone, ip_address
(dots or colons as "-") and octet0..octet3, as designate-sink's formats; `%(hostname)s`
spelling is accepted too.  Neutron's external DNS names (`dns_name.dns_domain` of a
port) are always understood besides the template.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path

from osfsck.config.common import ConfigError, Database
from osfsck.config.service import secret as read_secret
from osfsck.config.service import service_database
from osfsck.config.values import boolean, duration, expected, format_fields, only, tables, text
from osfsck.model.facts.dns import absolute
from osfsck.model.wording import show

DEFAULT_TEMPLATE = "{hostname}.{zone}"
DEFAULT_PORT = 53
TEMPLATE_VARIABLES = frozenset(
    {
        "hostname",
        "display_name",
        "instance_id",
        "project_id",
        "tenant_id",
        "zone",
        "ip_address",
        "octet0",
        "octet1",
        "octet2",
        "octet3",
    }
)
# the algorithms dnspython and BIND share (RFC 8945 §6; hmac-md5 for old servers)
ALGORITHMS = frozenset({"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"})


@dataclass(frozen=True)
class TsigKey:
    """A TSIG key.  The secret never appears in str() or repr()."""

    name: str
    algorithm: str
    secret: str = field(repr=False)  # base64, as tsig-keygen prints it


@dataclass(frozen=True)
class ZoneSettings:
    zone: str  # absolute, lower-case
    host: str
    port: int
    key: TsigKey | None
    name_template: str
    designate: bool = False

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class DnsSettings:
    zones: tuple = ()  # ZoneSettings, in the order configured
    timeout: float = 10.0

    def zone(self, name: str) -> ZoneSettings | None:
        name = absolute(name)
        return next((z for z in self.zones if z.zone == name), None)


@dataclass(frozen=True)
class DesignateSettings:
    database: Database | None = None


def parse_dns(t: dict, base: Path) -> DnsSettings:
    if not t:
        return DnsSettings()
    where = "[dns]"
    only(t, {"server", "key", "timeout", "hostname_template", "keys", "zones"}, where)
    timeout = duration(t, "timeout", where, 10, positive=True)
    keys = {name: _key(name, kt, base) for name, kt in tables(t, "keys", where).items()}
    zones_t = tables(t, "zones", where)
    if not zones_t:
        raise ConfigError('[dns]: no zone configured (add [dns.zones."<zone>"])')
    default_template = _template(t.get("hostname_template", DEFAULT_TEMPLATE), "[dns].hostname_template")
    default_key = text(t, "key", where)
    zones = []
    for name, zt in zones_t.items():
        zw = f'[dns.zones."{name}"]'
        _zone_name(name, zw)
        only(zt, {"server", "key", "hostname_template", "designate"}, zw)
        server = zt.get("server", t.get("server"))
        if server is None:
            raise ConfigError(f"{zw}: no server (set server here or in [dns])")
        host, port = _server(server, f"{zw}.server")
        key_name = text(zt, "key", zw, default_key)
        if key_name is not None and key_name not in keys:
            raise ConfigError(f"{zw}.key: no key {key_name!r} in [dns.keys]")
        template = _template(zt.get("hostname_template", default_template), f"{zw}.hostname_template")
        zones.append(
            ZoneSettings(
                absolute(name), host, port, keys[key_name] if key_name else None, template, boolean(zt, "designate", zw)
            )
        )
    if len({z.zone for z in zones}) != len(zones):
        raise ConfigError("[dns.zones]: a zone is named twice (with and without its trailing dot?)")
    return DnsSettings(zones=tuple(zones), timeout=timeout)


def parse_designate(t: dict, base: Path) -> DesignateSettings:
    if not t:
        return DesignateSettings()
    # designate.conf keeps its database under [storage:sqlalchemy]
    return DesignateSettings(database=service_database(t, "designate", base, "storage:sqlalchemy"))


def _zone_name(name: str, where: str) -> None:
    """A DNS name as a zone's (RFC 1035 §2.3.4 lengths; no spaces or control characters)."""
    labels = name.rstrip(".").split(".")
    if (
        not name.strip(".")
        or len(name.rstrip(".")) > 253
        or any(not 0 < len(lb) <= 63 for lb in labels)
        or any(c.isspace() or ord(c) < 33 or c in '"\\()' for c in name)
    ):
        raise ConfigError(f"{where}: {show(name)} is not a DNS name")


def _server(value, key: str) -> tuple[str, int]:
    """ "host", "host:port", "[v6]:port" or "v6" -> (host, port)."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f'{key}: expected "host" or "host:port"')
    value = value.strip()
    m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", value)
    if m:
        host, port = m.group(1), m.group(2)
    elif value.count(":") == 1:
        host, port = value.split(":")
    else:
        host, port = value, None
    if port is not None and (not port.isdigit() or not 0 < int(port) < 65536):
        raise ConfigError(f"{key}: {port!r} is not a port number")
    if not host.strip():
        raise ConfigError(f"{key}: {value!r} names no host")
    return host, int(port) if port else DEFAULT_PORT


def _template(value, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise expected(key, f'a template such as "{DEFAULT_TEMPLATE}"', value)
    value = re.sub(r"%\((\w+)\)s", r"{\1}", value)  # designate-sink's spelling
    format_fields(value, key, TEMPLATE_VARIABLES, DEFAULT_TEMPLATE)
    if "{zone}" not in value and not value.rstrip().endswith("."):
        raise ConfigError(f"{key}: the template must end with {{zone}} or be an absolute name ending in '.'")
    return value


def _key(name: str, t: dict, base: Path) -> TsigKey:
    where = f"[dns.keys.{name}]"
    only(t, {"algorithm", "secret_file", "secret_env"}, where)
    algorithm = text(t, "algorithm", where, "hmac-sha256").lower()
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"{where}.algorithm: {algorithm!r} is not one of {', '.join(sorted(ALGORITHMS))}")
    secret = read_secret(t, "secret_env", "secret_file", where, base)
    if secret is None:
        raise ConfigError(f"{where}: set exactly one of secret_file and secret_env (never the secret itself)")
    # a key clause as tsig-keygen prints it: key "name" { algorithm ...; secret "..."; };
    m = re.search(r'secret\s+"([^"]+)"', secret)
    if m:
        secret = m.group(1)
    secret = secret.strip()
    try:
        base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{where}: the secret is not base64 (as tsig-keygen prints it)") from None
    if not secret:
        raise ConfigError(f"{where}: the secret is empty")
    return TsigKey(name, algorithm, secret)
