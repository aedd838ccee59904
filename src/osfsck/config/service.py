"""What the sections of osfsck.toml share: database URLs (with a password from the
environment or a file, or read from the service's own config file), secrets, and an
OpenStack service's API keys.  load.py and the per-service modules (dns, nsx, placement,
rabbitmq...) import it; it imports neither."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from osfsck.config.common import ConfigError, Database
from osfsck.config.oslo_conf import ServiceConf, read_service_conf
from osfsck.config.values import (
    database_url,
    duration,
    expected,
    http_url,
    only,
    path,
    paths,
    read_text,
    required_path,
    required_text,
    text,
)


def database(table: dict, key: str, where: str, base: Path) -> Database | None:
    """`key` = URL, with the password optionally from `key_password_env` / `key_password_file`."""
    env_key, file_key = f"{key}_password_env", f"{key}_password_file"
    if table.get(key) is None:
        if env_key in table or file_key in table:
            raise ConfigError(f"{where}.{key}_password_* is set but {where}.{key} is not")
        return None
    url = database_url(table[key], f"{where}.{key}")
    password = secret(table, env_key, file_key, where, base)
    if password is not None:
        url = with_password(url, password, f"{where}.{key}")
    return database_of(url, base)


def database_of(url: str, base: Path) -> Database:
    """A URL from osfsck.toml, a relative SQLite path taken from the config file's folder."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        # relative SQLite paths are relative to the config file, not the working directory
        url = "sqlite:///" + str((base / url[len("sqlite:///") :]).resolve())
    return Database(url)


def with_password(url: str, password: str, key: str) -> str:
    scheme, rest = url.split("://", 1)
    if "@" not in rest:
        raise ConfigError(f"{key}: a password is configured but the URL names no user (user@host)")
    userinfo, hostpart = rest.split("@", 1)
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:{quote(password, safe='')}@{hostpart}"


def service_conf(t: dict, conf_key: str, where: str, base: Path) -> ServiceConf | None:
    """The service's own config files: `conf_key` names a file or several, read in order,
    and `<conf_key>_dir` a folder or several whose `*.conf` files are read after them
    (oslo.config's --config-file and --config-dir); None when neither is set."""
    files = paths(t, conf_key, where, base)
    folders = paths(t, f"{conf_key}_dir", where, base, folders=True)
    if not files and not folders:
        return None
    return read_service_conf(files, folders, f"{where}.{conf_key}", f"{where}.{conf_key}_dir")


def conf_database(conf: ServiceConf, section: str, required: bool = True) -> Database | None:
    """The `[section] connection` URL of a service's config files."""
    where = conf.where
    try:
        found = conf.get(section, "connection")
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    if found is None or not found.text.strip():
        if required:
            read = ", ".join(conf.files) if conf.files else "no file (the folders hold no *.conf)"
            raise ConfigError(f"{where}: no [{section}] connection in {read}")
        return None
    url = found.text.strip()
    key = f"{where}: {found.at}: [{section}] connection"
    if any(ord(c) < 32 or ord(c) == 127 for c in url):  # a continuation line's newline, a NUL
        raise ConfigError(f"{key}: the URL holds a control character")
    # as the service reads it: a relative sqlite path there is the service's, not ours to resolve
    return Database(database_url(url, key))


def service_database(t: dict, service: str, base: Path, conf_section: str = "database") -> Database | None:
    """`[<service>] database = URL` (password from env or file), or `<service>_conf =` the
    service's own config files (and `<service>_conf_dir`), whose `[<conf_section>]
    connection` is read."""
    where = f"[{service}]"
    conf_key = f"{service}_conf"
    only(t, {"database", "database_password_env", "database_password_file", *conf_keys(service)}, where)
    db = database(t, "database", where, base)
    if db is None:
        conf = service_conf(t, conf_key, where, base)
        if conf is not None:
            db = conf_database(conf, conf_section)
    return db


def conf_keys(service: str) -> set[str]:
    """The keys that name a service's own config files and folders."""
    return {f"{service}_conf", f"{service}_conf_dir"}


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
    token = secret(api, "token_env", None, where, base)
    password = secret(api, "password_env", "password_file", where, base)
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


def secret(t: dict, env_key: str, file_key: str | None, where: str, base: Path) -> str | None:
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
    """`secret`, which must be given."""
    value = secret(t, env_key, file_key, where, base)
    if value is None:
        raise ConfigError(f"{where}: set {env_key} or {file_key}")
    return value
