"""Reads osfsck.toml (and, where asked, the services' own config files) into Settings.

Every key is checked with its type before anything runs.  Every error is a ConfigError
with one line that names the file and the key, and says what is wrong.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # tomllib is tomli, taken into the standard library in 3.11 (PEP 680)
    import tomli as tomllib

from osfsck.config.dns import parse_designate, parse_dns
from osfsck.config.nsx import parse_nsx
from osfsck.config.ovn import parse_ovn
from osfsck.config.placement import parse_placement
from osfsck.config.rabbitmq import parse_rabbitmq
from osfsck.config.service import (
    API_KEYS,
    conf_database,
    conf_keys,
    conf_option,
    database,
    service_api,
    service_conf,
    service_database,
)
from osfsck.config.settings import (
    CellOverride,
    CinderSettings,
    ConfigError,
    HostOverride,
    HypervisorSettings,
    NeutronSettings,
    NovaSettings,
    RepairSettings,
    Settings,
)
from osfsck.config.values import (
    boolean,
    describe,
    duration,
    expected,
    format_fields,
    integer,
    only,
    parse_duration,
    path,
    read_text,
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
    return Settings(
        nova=_nova(raw.get("nova", {}), base),
        cinder=CinderSettings(database=service_database(raw.get("cinder", {}), "cinder", base)),
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
            "nova_conf_dir",
            "cells",
        },
        where,
    )
    api = database(t, "api_database", where, base)
    url_base = database(t, "cell_url_base", where, base)
    conf = service_conf(t, "nova_conf", where, base) if api is None or url_base is None else None
    if conf is not None:
        if api is None:
            api = conf_database(conf, "api_database")
        if url_base is None:
            url_base = conf_database(conf, "database", required=False)
    cells = {}
    for name, ct in tables(t, "cells", where).items():
        cw = f"[nova.cells.{name}]"
        only(ct, {"database", "database_password_env", "database_password_file", "skip"}, cw)
        cells[name] = CellOverride(database=database(ct, "database", cw, base), skip=boolean(ct, "skip", cw))
    return NovaSettings(api_database=api, cell_url_base=url_base, cells=cells)


_NEUTRON_DB_KEYS = {"database", "database_password_env", "database_password_file", *conf_keys("neutron")}


def _neutron(t: dict, base: Path) -> NeutronSettings:
    """`[neutron]`: the database, and optionally the Networking API (endpoint and Keystone
    v3 password auth, or a ready-made token from the environment; or, with auth = "none",
    an endpoint that takes no token: a standalone neutron-server with auth_strategy = noauth)."""
    where = "[neutron]"
    only(t, _NEUTRON_DB_KEYS | API_KEYS | {"auth", "quota_driver"}, where)
    db = service_database({k: v for k, v in t.items() if k in _NEUTRON_DB_KEYS}, "neutron", base)
    api = service_api(t, where, base, "neutron-server", "network")
    return NeutronSettings(database=db, quota_driver=_quota_driver(t, where, base), **api)


def _quota_driver(t: dict, where: str, base: Path) -> str | None:
    """Neutron's quota driver: `quota_driver` here, else neutron.conf's `[quotas]
    quota_driver` (oslo.config's group QUOTAS; group names are case-insensitive there)."""
    if "quota_driver" in t:
        return text(t, "quota_driver", where, "").strip()
    conf = service_conf(t, "neutron_conf", where, base)
    found = conf_option(conf, "quotas", "quota_driver") if conf is not None else None
    if found is None:
        return None
    return found.text.strip() or None


_URI_EXAMPLE = "qemu+ssh://{host}/system"
_STRING_KEYS = ("ssh_user", "ssh_key", "python")
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
            "iscsiadm",
            "ssh_multiplex",
            "ssh_control_persist",
            *_STRING_KEYS,
            *_LIST_KEYS,
        },
        where,
    )
    kw: dict = {k: text(t, k, where) for k in _STRING_KEYS if k in t}
    if "iscsiadm" in t:
        kw["iscsiadm"] = _command(t, "iscsiadm", where)
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
    if "ssh_multiplex" in t:
        kw["ssh_multiplex"] = boolean(t, "ssh_multiplex", where, True)
    if "ssh_control_persist" in t:
        kw["ssh_control_persist"] = duration(t, "ssh_control_persist", where, 10, positive=True)
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
            iscsiadm=_command(ht, "iscsiadm", hw),
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


def _command(t: dict, key: str, where: str) -> str | None:
    """A command line for the host agent: a program's path, or a prefix that runs it
    elsewhere ("docker exec iscsid iscsiadm"), split as a shell would, run without one."""
    value = text(t, key, where)
    if value is not None:
        try:
            words = shlex.split(value)
        except ValueError as e:
            raise ConfigError(f"{where}.{key}: {show(value)}: {e} (it is split into words as a shell would)") from None
        if not words or not words[0]:
            raise expected(f"{where}.{key}", "a command", value)
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
