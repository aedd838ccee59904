"""What the sections of osfsck.toml share: database URLs (with a password from the
environment or a file, or read from the service's own config file), secrets, and an
OpenStack service's API keys.  load.py and the per-service modules (dns, nsx, placement,
rabbitmq...) import it; it imports neither."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from osfsck.config.clouds import from_clouds_yaml
from osfsck.config.common import ConfigError, Database
from osfsck.config.oslo_conf import ServiceConf, Value, read_service_conf
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
from osfsck.model.wording import show


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


def conf_option(conf: ServiceConf, section: str, key: str) -> Value | None:
    """`[section] key` of a service's config files (None when unset); an error names the
    osfsck.toml key that named the files."""
    try:
        return conf.get(section, key)
    except ConfigError as e:
        raise ConfigError(f"{conf.where}: {e}") from None


def conf_database(conf: ServiceConf, section: str, required: bool = True) -> Database | None:
    """The `[section] connection` URL of a service's config files."""
    where = conf.where
    found = conf_option(conf, section, "connection")
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


# the keys of an OpenStack API in a service's section; the credentials among them are
# what `cloud` (clouds.yaml) replaces, the rest may refine it
CREDENTIAL_KEYS = {
    "auth_url",
    "username",
    "password_env",
    "password_file",
    "project_name",
    "user_domain_name",
    "project_domain_name",
    "system_scope",
    "application_credential_id",
    "application_credential_name",
    "application_credential_secret_env",
    "application_credential_secret_file",
    "token_env",
}
API_KEYS = CREDENTIAL_KEYS | {"cloud", "endpoint", "region_name", "interface", "verify", "ca_file", "timeout"}
INTERFACES = ("public", "internal", "admin")


@dataclass(frozen=True)
class ApiSettings:
    """How osfsck reaches an OpenStack service's API (the [neutron] and [placement] keys):
    at `endpoint`, or at the service's endpoint in the Keystone catalog (`region_name`,
    `interface`), authenticated as `keystone_auth()` says; with `auth = "none"` at
    `endpoint` without Keystone.  `cloud`: the clouds.yaml cloud the credentials and
    defaults came from (`cloud_auth` holds them as openstacksdk resolved them)."""

    endpoint: str | None = None  # e.g. https://neutron.example:9696
    auth_url: str | None = None  # Keystone, e.g. https://keystone.example:5000/v3
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    project_name: str | None = None
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    system_scope: str | None = None  # "all": a system-scoped token instead of a project's
    application_credential_id: str | None = None
    application_credential_name: str | None = None  # with username (an id needs none)
    application_credential_secret: str | None = field(default=None, repr=False)
    region_name: str | None = None  # which catalog endpoint, when there are several regions
    interface: str = "public"  # ... and which interface: public, internal or admin
    token: str | None = field(default=None, repr=False)
    verify: bool | str = True  # TLS verification; a CA bundle's path
    cert: str | tuple[str, str] | None = None  # a client certificate (clouds.yaml's cert and key)
    timeout: float = 30.0
    auth: str = "keystone"  # "keystone", or "none" for a service that runs without Keystone
    cloud: str | None = None
    cloud_auth: tuple[str, dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    @property
    def api_configured(self) -> bool:
        if self.auth == "none":
            return bool(self.endpoint)
        return bool(self.cloud or self.auth_url or (self.token and self.endpoint))

    def keystone_auth(self) -> tuple[str, dict[str, Any]] | None:
        """keystoneauth1's plugin name and its options (for `loading.get_plugin_loader(name)
        .load_from_options(**options)`), or None without Keystone (`auth = "none"`, or
        nothing configured)."""
        if self.auth == "none":
            return None
        if self.cloud_auth is not None:
            return self.cloud_auth
        if self.auth_url is None:
            # a ready-made token for a fixed endpoint: nothing to renew it with
            return ("admin_token", {"endpoint": self.endpoint, "token": self.token}) if self.token else None
        if self.application_credential_secret is not None:
            # keystoneauth's application-credential plugin is v3-only and takes the v3 URL
            # (its generic password plugin finds the version itself)
            url = self.auth_url.rstrip("/")
            opts: dict[str, Any] = {
                "auth_url": url if url.endswith("/v3") else url + "/v3",
                "application_credential_secret": self.application_credential_secret,
            }
            if self.application_credential_id:
                opts["application_credential_id"] = self.application_credential_id
            else:
                opts.update(
                    application_credential_name=self.application_credential_name,
                    username=self.username,
                    user_domain_name=self.user_domain_name,
                )
            return "v3applicationcredential", opts
        opts = {
            "auth_url": self.auth_url,
            "username": self.username,
            "password": self.password,
            "user_domain_name": self.user_domain_name,
        }
        if self.system_scope:
            opts["system_scope"] = self.system_scope
        else:
            opts.update(project_name=self.project_name, project_domain_name=self.project_domain_name)
        return "password", opts


def service_api(t: dict, where: str, base: Path, server: str, service_type: str) -> dict:
    """The keys of an OpenStack service's API in section `where` (API_KEYS and `auth`), as
    the keyword arguments of its ApiSettings: Keystone password auth, an application
    credential or a ready-made token from the section's keys; or a clouds.yaml cloud
    (`cloud`, else OS_CLOUD or OS_AUTH_URL from the environment when the section names no
    credentials); or with auth = "none" an endpoint that takes no token (a standalone
    `server` without Keystone).  Shared by [neutron] and [placement]."""
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
    if api.get("interface", "public") not in INTERFACES:
        raise ConfigError(f"{where}.interface: expected public, internal or admin")
    if auth == "none":
        keystone = sorted(set(api) - {"endpoint", "verify", "ca_file", "timeout"})
        if keystone:
            raise ConfigError(f'{where}: auth = "none" takes no {keystone[0]} ({server} has no Keystone then)')
        if "endpoint" not in api:
            raise ConfigError(f'{where}: auth = "none" needs endpoint (there is no catalog to ask)')
    settings = {**_transport(api, where, base), "auth": auth}
    if "endpoint" in api:
        settings["endpoint"] = api["endpoint"].rstrip("/")
    cloud = api.get("cloud") or (None if auth == "none" or CREDENTIAL_KEYS & set(api) else environment_cloud())
    if cloud is not None:
        given = sorted(CREDENTIAL_KEYS & set(api))
        if given:
            raise ConfigError(f"{where}: cloud = {show(cloud)} takes its credentials from clouds.yaml, not {given[0]}")
        return {**from_clouds_yaml(cloud, service_type, where, api.get("region_name")), **settings}
    return {**settings, **_credentials(api, where, base, auth)}


def _transport(api: dict, where: str, base: Path) -> dict:
    """What the section sets of region, interface, TLS and timeout (a cloud's own apply
    where it sets none)."""
    out: dict[str, Any] = {k: api[k] for k in ("region_name", "interface") if k in api}
    verify = api.get("verify", True)
    if not isinstance(verify, bool):
        raise expected(f"{where}.verify", "true or false (a CA bundle goes in ca_file)", verify)
    if "ca_file" in api:
        if not verify:
            raise ConfigError(f"{where}: ca_file is set but verify is false")
        verify = path(api, "ca_file", where, base, must_exist=True)
    if "verify" in api or "ca_file" in api:
        out["verify"] = verify
    if "timeout" in api:
        out["timeout"] = duration(api, "timeout", where, 30, positive=True)
    return out


def _credentials(api: dict, where: str, base: Path, auth: str) -> dict:
    """The section's own Keystone credentials: a password, an application credential or a
    ready-made token (each from the environment or a file, never the config file)."""
    token = secret(api, "token_env", None, where, base)
    password = secret(api, "password_env", "password_file", where, base)
    app_secret = secret(api, "application_credential_secret_env", "application_credential_secret_file", where, base)
    app = "application_credential_id" in api or "application_credential_name" in api
    if "auth_url" in api and token is not None:
        raise ConfigError(f"{where}: set only one of auth_url (password auth) and token_env")
    if app:
        _application_credential(api, where, app_secret is not None)
    elif app_secret is not None:
        raise ConfigError(f"{where}: an application credential secret is set but application_credential_id is not")
    elif "auth_url" in api:
        scopes = [k for k in ("project_name", "system_scope") if k in api]
        missing = [k for k in ("username",) if k not in api] + ([] if scopes else ["project_name"])
        missing += [] if password else ["password_env"]
        if missing:
            raise ConfigError(
                f"{where}: auth_url is set but {missing[0]} is not (Keystone password auth: username, "
                "password_env or password_file, and project_name or system_scope; or an application credential)"
            )
        if len(scopes) > 1:
            raise ConfigError(f"{where}: set only one of project_name and system_scope")
    elif token is not None and "endpoint" not in api:
        raise ConfigError(f"{where}: token_env without auth_url needs endpoint (there is no catalog to ask)")
    elif "endpoint" in api and token is None and auth != "none":
        raise ConfigError(
            f"{where}: endpoint is set but neither auth_url nor token_env (nor cloud) says how to authenticate"
        )
    if api.get("system_scope", "all") != "all":
        raise ConfigError(f'{where}.system_scope: expected "all" (Keystone\'s one system)')
    return dict(
        auth_url=api.get("auth_url"),
        username=api.get("username"),
        password=password,
        project_name=api.get("project_name"),
        user_domain_name=api.get("user_domain_name", "Default"),
        project_domain_name=api.get("project_domain_name", "Default"),
        system_scope=api.get("system_scope"),
        application_credential_id=api.get("application_credential_id"),
        application_credential_name=api.get("application_credential_name"),
        application_credential_secret=app_secret,
        token=token,
    )


def _application_credential(api: dict, where: str, has_secret: bool) -> None:
    """An application credential: its id (or its name and its user's), its secret, and
    Keystone's URL; it carries its own project and roles, so no password or scope."""
    if "auth_url" not in api:
        raise ConfigError(f"{where}: an application credential needs auth_url (Keystone)")
    if not has_secret:
        raise ConfigError(f"{where}: an application credential needs application_credential_secret_env or _secret_file")
    if "application_credential_id" in api and "application_credential_name" in api:
        raise ConfigError(f"{where}: set only one of application_credential_id and application_credential_name")
    if "application_credential_name" in api and "username" not in api:
        raise ConfigError(f"{where}: application_credential_name needs username (names are per user)")
    extra = sorted({"password_env", "password_file", "project_name", "project_domain_name", "system_scope"} & set(api))
    if extra:
        raise ConfigError(f"{where}: an application credential carries its own scope and secret: remove {extra[0]}")


def environment_cloud() -> str | None:
    """The cloud the environment names, as the openstack client reads it: OS_CLOUD (a
    clouds.yaml entry), else the OS_* variables (openstacksdk's cloud "envvars")."""
    if os.environ.get("OS_CLOUD"):
        return os.environ["OS_CLOUD"]
    return "envvars" if os.environ.get("OS_AUTH_URL") else None


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
