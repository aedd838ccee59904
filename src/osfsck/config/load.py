"""Reads osfsck.toml (and, where asked, the services' own config files) into Settings.

Every error is a ConfigError with one line that names the file and key.
"""

from __future__ import annotations

import configparser
import os
import re
import tomllib
from dataclasses import fields
from pathlib import Path
from urllib.parse import quote

from osfsck.config.settings import (
    CellOverride, CinderSettings, ConfigError, Database, HostOverride, HypervisorSettings, NeutronSettings,
    NovaSettings,
    RepairSettings, Settings,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNITS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value, key: str) -> float:
    """30, "30s", "30m", "1h", "7d" -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ConfigError(f"{key}: {value!r} is not a duration (use e.g. 90, \"30m\", \"1h\", \"7d\")")
    return float(m.group(1)) * _UNITS[m.group(2)]


def load_settings(path: str | None) -> Settings:
    if path is None:
        return Settings()
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    base = p.parent
    _only(raw, {"nova", "cinder", "neutron", "dns", "designate", "ovn", "nsx", "placement", "rabbitmq",
           "hypervisors", "repair", "checks"},
          str(path))
    from osfsck.config.dns import parse_designate, parse_dns
    from osfsck.config.nsx import parse_nsx
    from osfsck.config.ovn import parse_ovn
    from osfsck.config.placement import parse_placement
    from osfsck.config.rabbitmq import parse_rabbitmq
    return Settings(
        nova=_nova(raw.get("nova", {}), base),
        cinder=CinderSettings(database=_service_database(raw.get("cinder", {}), "cinder", base)),
        neutron=_neutron(raw.get("neutron", {}), base),
        dns=parse_dns(raw.get("dns", {}), base),
        designate=parse_designate(raw.get("designate", {}), base),
        ovn=parse_ovn(raw.get("ovn", {}), base),
        nsx=parse_nsx(raw.get("nsx", {}), base),
        placement=parse_placement(raw.get("placement", {}), base),
        rabbitmq=parse_rabbitmq(raw.get("rabbitmq", {}), base),
        hypervisors=_hypervisors(raw.get("hypervisors", {})),
        repair=_repair(raw.get("repair", {}), base),
        checks=_checks(raw.get("checks", {})),
        source_file=str(p),
    )


def _only(table: dict, allowed: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _database(table: dict, key: str, where: str, base: Path) -> Database | None:
    """`key` = URL, with the password optionally from `key_password_env` / `key_password_file`."""
    url = table.get(key)
    env = table.get(f"{key}_password_env")
    pfile = table.get(f"{key}_password_file")
    if url is None:
        if env or pfile:
            raise ConfigError(f"{where}.{key}_password_* is set but {where}.{key} is not")
        return None
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"{where}.{key}: expected a database URL like mysql+pymysql://user@host/db")
    if env and pfile:
        raise ConfigError(f"{where}: set only one of {key}_password_env and {key}_password_file")
    password = None
    if env:
        password = os.environ.get(env)
        if password is None:
            raise ConfigError(f"{where}.{key}_password_env: environment variable {env} is not set")
    elif pfile:
        fp = Path(pfile) if Path(pfile).is_absolute() else base / pfile
        try:
            password = fp.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ConfigError(f"{where}.{key}_password_file: cannot read {fp}: {e.strerror}") from None
    if password is not None:
        url = _with_password(url, password, f"{where}.{key}")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        # relative SQLite paths are relative to the config file, not the working directory
        url = "sqlite:///" + str((base / url[len("sqlite:///"):]).resolve())
    return Database(url)


def _with_password(url: str, password: str, key: str) -> str:
    scheme, rest = url.split("://", 1)
    if "@" not in rest:
        raise ConfigError(f"{key}: a password is configured but the URL names no user (user@host)")
    userinfo, hostpart = rest.split("@", 1)
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:{quote(password, safe='')}@{hostpart}"


def read_service_conf(path: str, section: str, key: str = "connection") -> str | None:
    """A value from an oslo.config file such as nova.conf (duplicates allowed, no interpolation)."""
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        with open(path, encoding="utf-8") as f:
            cp.read_file(f)
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    except configparser.Error as e:
        raise ConfigError(f"{path}: not an INI file: {str(e).splitlines()[0]}") from None
    return cp.get(section, key, fallback=None)


def _nova(t: dict, base: Path) -> NovaSettings:
    _only(t, {"api_database", "api_database_password_env", "api_database_password_file",
              "cell_url_base", "cell_url_base_password_env", "cell_url_base_password_file",
              "nova_conf", "cells"}, "[nova]")
    api = _database(t, "api_database", "[nova]", base)
    url_base = _database(t, "cell_url_base", "[nova]", base)
    if "nova_conf" in t:
        conf = str(base / t["nova_conf"]) if not Path(t["nova_conf"]).is_absolute() else t["nova_conf"]
        if api is None:
            found = read_service_conf(conf, "api_database")
            if not found:
                raise ConfigError(f"{conf}: no [api_database] connection")
            api = Database(found)
        if url_base is None:
            found = read_service_conf(conf, "database")
            url_base = Database(found) if found else None
    cells = {}
    for name, ct in (t.get("cells") or {}).items():
        where = f"[nova.cells.{name}]"
        _only(ct, {"database", "database_password_env", "database_password_file", "skip"}, where)
        cells[name] = CellOverride(database=_database(ct, "database", where, base), skip=bool(ct.get("skip", False)))
    return NovaSettings(api_database=api, cell_url_base=url_base, cells=cells)


def _service_database(t: dict, service: str, base: Path, conf_section: str = "database") -> Database | None:
    """`[<service>] database = URL` (password from env or file), or `<service>_conf =` the
    service's own config file, whose `[<conf_section>] connection` is read."""
    where = f"[{service}]"
    conf_key = f"{service}_conf"
    _only(t, {"database", "database_password_env", "database_password_file", conf_key}, where)
    db = _database(t, "database", where, base)
    if db is None and conf_key in t:
        conf = str(base / t[conf_key]) if not Path(t[conf_key]).is_absolute() else t[conf_key]
        found = read_service_conf(conf, conf_section)
        if not found:
            raise ConfigError(f"{conf}: no [{conf_section}] connection")
        db = Database(found)
    return db


_NEUTRON_DB_KEYS = {"database", "database_password_env", "database_password_file", "neutron_conf"}
API_KEYS = {"endpoint", "auth_url", "username", "password_env", "password_file", "project_name",
                     "user_domain_name", "project_domain_name", "region_name", "interface", "token_env",
                     "verify", "ca_file", "timeout"}


def _neutron(t: dict, base: Path) -> NeutronSettings:
    """`[neutron]`: the database, and optionally the Networking API (endpoint and Keystone
    v3 password auth, or a ready-made token from the environment; or, with auth = "none",
    an endpoint that takes no token: a standalone neutron-server with auth_strategy = noauth)."""
    where = "[neutron]"
    _only(t, _NEUTRON_DB_KEYS | API_KEYS | {"auth"}, where)
    db = _service_database({k: v for k, v in t.items() if k in _NEUTRON_DB_KEYS}, "neutron", base)
    return NeutronSettings(database=db, **service_api(t, where, base, "neutron-server"))


def service_api(t: dict, where: str, base: Path, server: str) -> dict:
    """The keys of an OpenStack service's API in section `where` (API_KEYS and `auth`), as
    the keyword arguments of its settings: endpoint and Keystone v3 password auth, or a
    ready-made token from the environment, or with auth = "none" an endpoint that takes
    no token (a standalone `server` without Keystone).  Shared by [neutron] and [placement]."""
    api = {k: v for k, v in t.items() if k in API_KEYS}
    auth = t.get("auth", "keystone")
    if auth not in ("keystone", "none"):
        raise ConfigError(f'{where}.auth: expected "keystone" or "none", not {auth!r}')
    for k, v in api.items():
        if k not in ("verify", "timeout") and not (isinstance(v, str) and v):
            raise ConfigError(f"{where}.{k}: expected a non-empty string")
    for k in ("endpoint", "auth_url"):
        if k in api and not re.match(r"^https?://[^/]", api[k]):
            raise ConfigError(f"{where}.{k}: expected an http(s) URL, not {api[k]!r}")
    if api.get("interface", "public") not in ("public", "internal", "admin"):
        raise ConfigError(f"{where}.interface: expected public, internal or admin")
    if auth == "none":
        keystone = sorted(set(api) - {"endpoint", "verify", "ca_file", "timeout"})
        if keystone:
            raise ConfigError(f'{where}: auth = "none" takes no {keystone[0]} ({server} has no Keystone then)')
        if "endpoint" not in api:
            raise ConfigError(f'{where}: auth = "none" needs endpoint (there is no catalog to ask)')
    token = _secret(api, "token_env", None, where, base)
    password = _secret(api, "password_env", "password_file", where, base)
    if "auth_url" in api and token is not None:
        raise ConfigError(f"{where}: set only one of auth_url (password auth) and token_env")
    if "auth_url" in api:
        missing = [k for k in ("username", "project_name") if k not in api] + ([] if password else ["password_env"])
        if missing:
            raise ConfigError(f"{where}: auth_url is set but {missing[0]} is not (Keystone v3 password auth)")
    elif token is not None and "endpoint" not in api:
        raise ConfigError(f"{where}: token_env without auth_url needs endpoint (there is no catalog to ask)")
    elif "endpoint" in api and token is None and auth != "none":
        raise ConfigError(f"{where}: endpoint is set but neither auth_url nor token_env says how to authenticate")
    verify = api.get("verify", True)
    if not isinstance(verify, bool):
        raise ConfigError(f"{where}.verify: expected true or false (a CA bundle goes in ca_file)")
    if "ca_file" in api:
        if not verify:
            raise ConfigError(f"{where}: ca_file is set but verify is false")
        ca = Path(api["ca_file"]) if Path(api["ca_file"]).is_absolute() else base / api["ca_file"]
        if not ca.is_file():
            raise ConfigError(f"{where}.ca_file: {ca} is not a file")
        verify = str(ca)
    return dict(
        endpoint=api.get("endpoint", "").rstrip("/") or None, auth_url=api.get("auth_url"),
        username=api.get("username"), password=password, project_name=api.get("project_name"),
        user_domain_name=api.get("user_domain_name", "Default"),
        project_domain_name=api.get("project_domain_name", "Default"), region_name=api.get("region_name"),
        interface=api.get("interface", "public"), token=token, verify=verify,
        timeout=parse_duration(api.get("timeout", 30), f"{where}.timeout"), auth=auth,
    )


def _secret(t: dict, env_key: str, file_key: str | None, where: str, base: Path) -> str | None:
    """A secret from the environment variable `t[env_key]` or the file `t[file_key]`."""
    if env_key in t and file_key in t:
        raise ConfigError(f"{where}: set only one of {env_key} and {file_key}")
    if env_key in t:
        value = os.environ.get(t[env_key])
        if not value:
            raise ConfigError(f"{where}.{env_key}: environment variable {t[env_key]} is not set")
        return value
    if file_key in t:
        fp = Path(t[file_key]) if Path(t[file_key]).is_absolute() else base / t[file_key]
        try:
            return fp.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ConfigError(f"{where}.{file_key}: cannot read {fp}: {e.strerror}") from None
    return None


def required_secret(t: dict, where: str, base: Path, env_key: str = "password_env",
                    file_key: str = "password_file") -> str:
    """`_secret`, which must be given."""
    value = _secret(t, env_key, file_key, where, base)
    if value is None:
        raise ConfigError(f"{where}: set {env_key} or {file_key}")
    return value


def _hypervisors(t: dict) -> HypervisorSettings:
    names = {f.name for f in fields(HypervisorSettings)}
    _only(t, names, "[hypervisors]")
    kw = {}
    for k, v in t.items():
        if k == "hosts":
            continue
        if k in ("ssh_options", "hypervisor_types", "extra_hosts"):
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ConfigError(f"[hypervisors].{k} must be a list of strings")
            v = tuple(v)
        elif k == "timeout":
            v = parse_duration(v, "[hypervisors].timeout")
        elif k in ("concurrency", "ssh_port"):
            if not isinstance(v, int) or v < 1:
                raise ConfigError(f"[hypervisors].{k} must be a positive integer")
        elif k == "transport":
            _transport(v, "[hypervisors].transport")
        kw[k] = v
    hosts = {}
    host_keys = {f.name for f in fields(HostOverride)}
    for host, ht in (t.get("hosts") or {}).items():
        where = f"[hypervisors.hosts.{host}]"
        _only(ht, host_keys, where)
        if "transport" in ht:
            _transport(ht["transport"], where + ".transport")
        hosts[host] = HostOverride(**ht)
    return HypervisorSettings(**kw, hosts=hosts)


def _transport(v, key):
    if v not in ("ssh", "local", "inprocess"):
        raise ConfigError(f"{key}: {v!r} is not one of ssh, local, inprocess")


def _repair(t: dict, base: Path) -> RepairSettings:
    _only(t, {f.name for f in fields(RepairSettings)}, "[repair]")
    kw = dict(t)
    for k in ("grace", "quarantine_retention"):
        if k in kw:
            kw[k] = parse_duration(kw[k], f"[repair].{k}")
    for k in ("journal", "state_file"):
        if kw.get(k) and not Path(kw[k]).is_absolute():
            kw[k] = str((base / kw[k]).resolve())
    for k in ("max_per_check", "confirm_runs", "implausible_min_examined"):
        if k in kw and (not isinstance(kw[k], int) or kw[k] < 0):
            raise ConfigError(f"[repair].{k} must be a non-negative integer")
    return RepairSettings(**kw)


def _checks(t: dict) -> dict:
    out = {}
    for key, params in t.items():
        if not isinstance(params, dict):
            raise ConfigError(f"[checks.{key}] must be a table")
        p = dict(params)
        for k, v in p.items():
            if k == "grace" or k.endswith("_age") or k.endswith("_after"):
                p[k] = parse_duration(v, f"[checks.{key}].{k}")
        out[key] = p
    return out
