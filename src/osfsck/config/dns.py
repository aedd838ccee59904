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
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from osfsck.config.load import _only, _service_database, parse_duration
from osfsck.config.settings import ConfigError, Database
from osfsck.model.facts.dns import absolute

DEFAULT_TEMPLATE = "{hostname}.{zone}"
DEFAULT_PORT = 53
TEMPLATE_VARIABLES = frozenset({"hostname", "display_name", "instance_id", "project_id", "tenant_id", "zone",
                                "ip_address", "octet0", "octet1", "octet2", "octet3"})
# the algorithms dnspython and BIND share (RFC 8945 §6; hmac-md5 for old servers)
ALGORITHMS = frozenset({"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"})


@dataclass(frozen=True)
class TsigKey:
    """A TSIG key.  The secret never appears in str() or repr()."""

    name: str
    algorithm: str
    secret: str = field(repr=False)     # base64, as tsig-keygen prints it


@dataclass(frozen=True)
class ZoneSettings:
    zone: str                          # absolute, lower-case
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
    zones: tuple = ()                  # ZoneSettings, in the order configured
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
    _only(t, {"server", "key", "timeout", "hostname_template", "keys", "zones"}, "[dns]")
    timeout = parse_duration(t.get("timeout", 10), "[dns].timeout")
    if timeout <= 0:
        raise ConfigError("[dns].timeout must be more than 0")
    keys = {name: _key(name, kt, base) for name, kt in _table(t, "keys", "[dns]").items()}
    zones_t = _table(t, "zones", "[dns]")
    if not zones_t:
        raise ConfigError("[dns]: no zone configured (add [dns.zones.\"<zone>\"])")
    default_template = _template(t.get("hostname_template", DEFAULT_TEMPLATE), "[dns].hostname_template")
    zones = []
    for name, zt in zones_t.items():
        where = f'[dns.zones."{name}"]'
        _only(zt, {"server", "key", "hostname_template", "designate"}, where)
        server = zt.get("server", t.get("server"))
        if server is None:
            raise ConfigError(f"{where}: no server (set server here or in [dns])")
        host, port = _server(server, f"{where}.server")
        key_name = zt.get("key", t.get("key"))
        if key_name is not None and key_name not in keys:
            raise ConfigError(f"{where}.key: no key {key_name!r} in [dns.keys]")
        template = _template(zt.get("hostname_template", default_template), f"{where}.hostname_template")
        designate = zt.get("designate", False)
        if not isinstance(designate, bool):
            raise ConfigError(f"{where}.designate must be true or false")
        zones.append(ZoneSettings(absolute(name), host, port, keys[key_name] if key_name else None,
                                  template, designate))
    if len({z.zone for z in zones}) != len(zones):
        raise ConfigError("[dns.zones]: a zone is named twice (with and without its trailing dot?)")
    return DnsSettings(zones=tuple(zones), timeout=timeout)


def parse_designate(t: dict, base: Path) -> DesignateSettings:
    if not t:
        return DesignateSettings()
    # designate.conf keeps its database under [storage:sqlalchemy]
    return DesignateSettings(database=_service_database(t, "designate", base, "storage:sqlalchemy"))


def _table(t: dict, key: str, where: str) -> dict:
    value = t.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ConfigError(f"{where}.{key} must be a table of tables ([{where.strip('[]')}.{key}.<name>])")
    return value


def _server(value, key: str) -> tuple[str, int]:
    """"host", "host:port", "[v6]:port" or "v6" -> (host, port)."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}: expected \"host\" or \"host:port\"")
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
    return host, int(port) if port else DEFAULT_PORT


def _template(value, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}: expected a template such as \"{DEFAULT_TEMPLATE}\"")
    value = re.sub(r"%\((\w+)\)s", r"{\1}", value)      # designate-sink's spelling
    names = re.findall(r"\{(\w*)\}", value)
    unknown = sorted(set(names) - TEMPLATE_VARIABLES)
    if unknown:
        raise ConfigError(f"{key}: unknown variable {{{unknown[0]}}} (known: {', '.join(sorted(TEMPLATE_VARIABLES))})")
    if "{zone}" not in value and not value.rstrip().endswith("."):
        raise ConfigError(f"{key}: the template must end with {{zone}} or be an absolute name ending in '.'")
    return value


def _key(name: str, t: dict, base: Path) -> TsigKey:
    where = f"[dns.keys.{name}]"
    _only(t, {"algorithm", "secret_file", "secret_env"}, where)
    algorithm = str(t.get("algorithm", "hmac-sha256")).lower()
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"{where}.algorithm: {algorithm!r} is not one of {', '.join(sorted(ALGORITHMS))}")
    env, sfile = t.get("secret_env"), t.get("secret_file")
    if bool(env) == bool(sfile):
        raise ConfigError(f"{where}: set exactly one of secret_file and secret_env (never the secret itself)")
    if env:
        secret = os.environ.get(env)
        if secret is None:
            raise ConfigError(f"{where}.secret_env: environment variable {env} is not set")
    else:
        path = Path(sfile) if Path(sfile).is_absolute() else base / sfile
        try:
            secret = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"{where}.secret_file: cannot read {path}: {e.strerror}") from None
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
