"""Reads osfsck.toml (and, where asked, the services' own config files) into Settings.

Every key is checked with its type before anything runs.  Every error is a ConfigError
with one line that names the file and the key, and says what is wrong.
"""

from __future__ import annotations

import configparser
import os
import tomllib
from pathlib import Path
from urllib.parse import quote

from osfsck.config.settings import (
    CellOverride,
    CinderSettings,
    ConfigError,
    Database,
    HostOverride,
    HypervisorSettings,
    NeutronSettings,
    NovaSettings,
    RepairSettings,
    Settings,
)
from osfsck.config.values import (
    boolean,
    database_url,
    describe,
    duration,
    expected,
    format_fields,
    http_url,
    integer,
    only,
    parse_duration,
    path,
    read_text,
    required_path,
    required_text,
    show,
    strings,
    tables,
    text,
)

SECTIONS = (
    "nova",
    "cinder",
    "neutron",
    "dns",
    "designate",
    "ovn",
    "nsx",
    "placement",
    "rabbitmq",
    "hypervisors",
    "repair",
    "checks",
)


def load_settings(path: str | None) -> Settings:
    if path is None:
        return Settings()
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"config file {path} does not exist")
    source = read_text(p, "config file")
    try:
        raw = tomllib.loads(source)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    try:
        return _settings(raw, p)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def _settings(raw: dict, p: Path) -> Settings:
    only(raw, SECTIONS, "the top level")
    for name, value in raw.items():
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] must be a table, not {describe(value)}")
        _no_control_characters(value, name, None)
    base = p.parent
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


def _no_control_characters(value, table: str, key: str | None) -> None:
    """No string of the file holds a control character (TOML lets "\\u0000" or "\\n" in):
    no path, URL, name or template needs one, and a NUL or a newline there fails later, far
    from its key (a path with NUL raises in open(), a newline splits an error line)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict):
                _no_control_characters(v, f"{table}.{k}", None)
            else:
                _no_control_characters(v, table, k if key is None else f"{key}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_control_characters(v, table, f"{key}[{i}]")
    elif isinstance(value, str) and any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in value):
        raise ConfigError(f"[{table}].{key}: {show(value)} holds a control character")


def _database(table: dict, key: str, where: str, base: Path) -> Database | None:
    """`key` = URL, with the password optionally from `key_password_env` / `key_password_file`."""
    env_key, file_key = f"{key}_password_env", f"{key}_password_file"
    if table.get(key) is None:
        if env_key in table or file_key in table:
            raise ConfigError(f"{where}.{key}_password_* is set but {where}.{key} is not")
        return None
    url = database_url(table[key], f"{where}.{key}")
    password = _secret(table, env_key, file_key, where, base)
    if password is not None:
        url = _with_password(url, password, f"{where}.{key}")
    return _database_of(url, base)


def _database_of(url: str, base: Path) -> Database:
    """A URL from osfsck.toml, a relative SQLite path taken from the config file's folder."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        # relative SQLite paths are relative to the config file, not the working directory
        url = "sqlite:///" + str((base / url[len("sqlite:///") :]).resolve())
    return Database(url)


def _with_password(url: str, password: str, key: str) -> str:
    scheme, rest = url.split("://", 1)
    if "@" not in rest:
        raise ConfigError(f"{key}: a password is configured but the URL names no user (user@host)")
    userinfo, hostpart = rest.split("@", 1)
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:{quote(password, safe='')}@{hostpart}"


def read_service_conf(conf: Path, section: str, where: str, key: str = "connection") -> str | None:
    """A value from an oslo.config file such as nova.conf (duplicates allowed, no interpolation)."""
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        cp.read_string(read_text(conf, where), source=str(conf))
    except configparser.Error as e:
        raise ConfigError(f"{where}: {conf}: not an INI file: {str(e).splitlines()[0]}") from None
    return cp.get(section, key, fallback=None)


def _conf_database(
    t: dict, conf_key: str, where: str, base: Path, section: str, required: bool = True
) -> Database | None:
    """The `[section] connection` URL of the service's own config file named by `t[conf_key]`."""
    conf = Path(required_path(t, conf_key, where, base))
    found = read_service_conf(conf, section, f"{where}.{conf_key}")
    if not found:
        if required:
            raise ConfigError(f"{where}.{conf_key}: {conf}: no [{section}] connection")
        return None
    # as the service reads it: a relative sqlite path there is the service's, not ours to resolve
    return Database(database_url(found.strip(), f"{where}.{conf_key}: {conf}: [{section}] connection"))


def _nova(t: dict, base: Path) -> NovaSettings:
    where = "[nova]"
    only(
        t,
        {
            "api_database",
            "api_database_password_env",
            "api_database_password_file",
            "cell_url_base",
            "cell_url_base_password_env",
            "cell_url_base_password_file",
            "nova_conf",
            "cells",
        },
        where,
    )
    api = _database(t, "api_database", where, base)
    url_base = _database(t, "cell_url_base", where, base)
    if "nova_conf" in t:
        if api is None:
            api = _conf_database(t, "nova_conf", where, base, "api_database")
        if url_base is None:
            url_base = _conf_database(t, "nova_conf", where, base, "database", required=False)
    cells = {}
    for name, ct in tables(t, "cells", where).items():
        cw = f"[nova.cells.{name}]"
        only(ct, {"database", "database_password_env", "database_password_file", "skip"}, cw)
        cells[name] = CellOverride(database=_database(ct, "database", cw, base), skip=boolean(ct, "skip", cw))
    return NovaSettings(api_database=api, cell_url_base=url_base, cells=cells)


def _service_database(t: dict, service: str, base: Path, conf_section: str = "database") -> Database | None:
    """`[<service>] database = URL` (password from env or file), or `<service>_conf =` the
    service's own config file, whose `[<conf_section>] connection` is read."""
    where = f"[{service}]"
    conf_key = f"{service}_conf"
    only(t, {"database", "database_password_env", "database_password_file", conf_key}, where)
    db = _database(t, "database", where, base)
    if db is None and conf_key in t:
        db = _conf_database(t, conf_key, where, base, conf_section)
    return db


_NEUTRON_DB_KEYS = {"database", "database_password_env", "database_password_file", "neutron_conf"}
API_KEYS = {
    "endpoint",
    "auth_url",
    "username",
    "password_env",
    "password_file",
    "project_name",
    "user_domain_name",
    "project_domain_name",
    "region_name",
    "interface",
    "token_env",
    "verify",
    "ca_file",
    "timeout",
}


def _neutron(t: dict, base: Path) -> NeutronSettings:
    """`[neutron]`: the database, and optionally the Networking API (endpoint and Keystone
    v3 password auth, or a ready-made token from the environment; or, with auth = "none",
    an endpoint that takes no token: a standalone neutron-server with auth_strategy = noauth)."""
    where = "[neutron]"
    only(t, _NEUTRON_DB_KEYS | API_KEYS | {"auth"}, where)
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
        raise expected(f"{where}.auth", '"keystone" or "none"', auth)
    for k in api:
        if k not in ("verify", "timeout"):
            text(api, k, where)
    for k in ("endpoint", "auth_url"):
        if k in api:
            http_url(api[k], f"{where}.{k}")
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
        raise expected(f"{where}.verify", "true or false (a CA bundle goes in ca_file)", verify)
    if "ca_file" in api:
        if not verify:
            raise ConfigError(f"{where}: ca_file is set but verify is false")
        verify = path(api, "ca_file", where, base, must_exist=True)
    return dict(
        endpoint=api.get("endpoint", "").rstrip("/") or None,
        auth_url=api.get("auth_url"),
        username=api.get("username"),
        password=password,
        project_name=api.get("project_name"),
        user_domain_name=api.get("user_domain_name", "Default"),
        project_domain_name=api.get("project_domain_name", "Default"),
        region_name=api.get("region_name"),
        interface=api.get("interface", "public"),
        token=token,
        verify=verify,
        timeout=duration(api, "timeout", where, 30, positive=True),
        auth=auth,
    )


def _secret(t: dict, env_key: str, file_key: str | None, where: str, base: Path) -> str | None:
    """A secret from the environment variable named by `t[env_key]` or the file `t[file_key]`."""
    if env_key in t and file_key in t:
        raise ConfigError(f"{where}: set only one of {env_key} and {file_key}")
    if env_key in t:
        name = required_text(t, env_key, where)
        value = os.environ.get(name)
        if not value:
            raise ConfigError(f"{where}.{env_key}: environment variable {name} is not set")
        return value
    if file_key is not None and file_key in t:
        return read_text(Path(required_path(t, file_key, where, base)), f"{where}.{file_key}").strip()
    return None


def required_secret(
    t: dict, where: str, base: Path, env_key: str = "password_env", file_key: str = "password_file"
) -> str:
    """`_secret`, which must be given."""
    value = _secret(t, env_key, file_key, where, base)
    if value is None:
        raise ConfigError(f"{where}: set {env_key} or {file_key}")
    return value


_URI_EXAMPLE = "qemu+ssh://{host}/system"
_STRING_KEYS = ("ssh_user", "ssh_key", "python", "iscsiadm")
_LIST_KEYS = ("ssh_options", "hypervisor_types", "extra_hosts")


def _hypervisors(t: dict) -> HypervisorSettings:
    where = "[hypervisors]"
    only(
        t,
        {
            "uri_template",
            "instances_path",
            "transport",
            "concurrency",
            "timeout",
            "ssh_port",
            "hosts",
            *_STRING_KEYS,
            *_LIST_KEYS,
        },
        where,
    )
    kw: dict = {k: text(t, k, where) for k in _STRING_KEYS if k in t}
    kw.update({k: strings(t, k, where) for k in _LIST_KEYS if k in t})
    if "uri_template" in t:
        kw["uri_template"] = _libvirt_uri(t, "uri_template", where, template=True)
    if "instances_path" in t:
        kw["instances_path"] = _absolute(t, "instances_path", where)
    if "transport" in t:
        kw["transport"] = _transport(t["transport"], f"{where}.transport")
    if "concurrency" in t:
        kw["concurrency"] = integer(t, "concurrency", where, None, lo=1)
    if "ssh_port" in t:
        kw["ssh_port"] = integer(t, "ssh_port", where, None, lo=1, hi=65535, what="a port number (1-65535)")
    if "timeout" in t:
        kw["timeout"] = duration(t, "timeout", where, 60, positive=True)
    hosts = {}
    for host, ht in tables(t, "hosts", where).items():
        hw = f"[hypervisors.hosts.{host}]"
        only(ht, {"uri", "instances_path", "transport", "ssh_target", "storage", "iscsiadm", "skip"}, hw)
        hosts[host] = HostOverride(
            uri=_libvirt_uri(ht, "uri", hw) if "uri" in ht else None,
            instances_path=_absolute(ht, "instances_path", hw) if "instances_path" in ht else None,
            transport=_transport(ht["transport"], f"{hw}.transport") if "transport" in ht else None,
            ssh_target=text(ht, "ssh_target", hw),
            storage=text(ht, "storage", hw),
            iscsiadm=text(ht, "iscsiadm", hw),
            skip=boolean(ht, "skip", hw),
        )
    return HypervisorSettings(**kw, hosts=hosts)


def _libvirt_uri(t: dict, key: str, where: str, template: bool = False) -> str:
    """A libvirt connection URI (driver[+transport]://[host]/path); a template's one field
    is {host} (formatted with each hypervisor's name)."""
    value = t[key]
    if not isinstance(value, str):
        raise expected(f"{where}.{key}", f"a libvirt URI like {_URI_EXAMPLE}", value)
    uri = value
    if template:
        format_fields(value, f"{where}.{key}", {"host"}, _URI_EXAMPLE)
        uri = value.format(host="compute-1")
    scheme, sep, _ = uri.partition("://")
    if not sep or not scheme or not scheme[0].isalpha() or not all(c.isalnum() or c in "+.-" for c in scheme):
        raise ConfigError(
            f"{where}.{key}: expected a libvirt URI like {_URI_EXAMPLE} or qemu:///system, not {show(value)}"
        )
    return value


def _absolute(t: dict, key: str, where: str) -> str:
    value = t[key]
    if not isinstance(value, str) or not value.startswith("/") or "\0" in value:
        raise expected(f"{where}.{key}", "an absolute path (as on the hypervisors)", value)
    return value


def _transport(v, key):
    if v not in ("ssh", "local", "inprocess"):
        raise ConfigError(f"{key}: {show(v)} is not one of ssh, local, inprocess")
    return v


def _repair(t: dict, base: Path) -> RepairSettings:
    where = "[repair]"
    only(
        t,
        {
            "journal",
            "max_per_check",
            "implausible_share",
            "implausible_min_examined",
            "grace",
            "confirm_runs",
            "state_file",
            "quarantine_retention",
        },
        where,
    )
    d = RepairSettings()
    share = t.get("implausible_share", d.implausible_share)
    if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 < share <= 1:
        raise expected(
            f"{where}.implausible_share",
            "a number in (0, 1]: the share of a check's examined objects it may flag",
            share,
        )
    return RepairSettings(
        journal=path(t, "journal", where, base) or d.journal,
        max_per_check=integer(t, "max_per_check", where, d.max_per_check),
        implausible_share=float(share),
        implausible_min_examined=integer(t, "implausible_min_examined", where, d.implausible_min_examined),
        grace=duration(t, "grace", where, d.grace),
        confirm_runs=integer(t, "confirm_runs", where, d.confirm_runs),
        state_file=path(t, "state_file", where, base),
        quarantine_retention=duration(t, "quarantine_retention", where, d.quarantine_retention),
    )


def _is_duration(param: str) -> bool:
    """Check settings that are durations, by their names: every check's ages, grace,
    intervals and down times are seconds."""
    return param == "grace" or param.endswith(("_age", "_after", "_time", "_interval"))


def _checks(t: dict) -> dict:
    """[checks.<code or name>] tables, durations parsed; which keys each check takes, and
    their types, are checked against the catalogue when the checks are built
    (engine.wiring.build_checks), before anything runs."""
    out = {}
    for key, params in t.items():
        if not isinstance(params, dict):
            raise ConfigError(f"[checks.{key}] must be a table, not {describe(params)}")
        p = dict(params)
        for k, v in params.items():
            if _is_duration(k):
                p[k] = parse_duration(v, f"[checks.{key}].{k}")
            elif k == "thresholds" and isinstance(v, dict):  # seconds per task_state
                p[k] = {task: parse_duration(s, f"[checks.{key}].thresholds.{task}") for task, s in v.items()}
        out[key] = p
    return out
