"""Keystone for the tests of osfsck's OpenStack authentication: the real keystone (Identity
v3, `keystone.wsgi.api:application`) from its own virtualenv, on an SQLite database,
served by the stdlib `wsgiref` runner on loopback, as the lab serves placement-api and
neutron-server.

Set up as a deployment guide does it: `keystone-manage db_sync` (keystone's own
migrations, which run on SQLite), `fernet_setup` and `credential_setup` (key repositories
in the folder), `bootstrap` (the admin user, project and role, with the admin role on the
system too, the region and Keystone's own catalog entry).  What a test needs next (a
service in the catalog, an application credential, a revoked token) it asks through the
Identity API, as an operator would with the openstack client.

Keystone and its dependencies live in their own virtualenv (scripts/setup makes
`.venv-keystone` next to osfsck's `.venv`), never in osfsck's.
"""

from __future__ import annotations

import getpass
import grp
import json
import os
import secrets
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from osfsck_lab import wsgi_service
from osfsck_lab.hypervisors import LabError
from osfsck_lab.loopback import free_port
from osfsck_lab.wsgi_service import SERVE, venv_python

KEYSTONE_VERSION = "30.0.0"  # scripts/setup pins the same
ENV = "OSFSCK_KEYSTONE_PYTHON"
START_TIMEOUT = 60.0
REGION = "RegionOne"
NOT_INSTALLED = "Keystone is not installed (scripts/setup makes .venv-keystone; or set OSFSCK_KEYSTONE_PYTHON)"

# The runner: Keystone reads the files OS_KEYSTONE_CONFIG_FILES names when its WSGI module
# is imported.
RUNNER = (
    '''\
"""keystone's WSGI application on the stdlib server (written for osfsck's tests)."""
import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

host, port, pidfile, conf = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(pidfile, "w") as f:
    f.write(f"{os.getpid()}\\n")
os.environ["OS_KEYSTONE_CONFIG_FILES"] = conf
sys.argv = sys.argv[:1]
from keystone.wsgi.api import application  # noqa: E402  (reads keystone.conf)
'''
    + SERVE
)
MANAGE = "import sys; from keystone.cmd.manage import main; sys.exit(main())"


def available() -> str | None:
    """The python of Keystone's virtualenv, or None when Keystone is not installed."""
    return venv_python(ENV, ".venv-keystone")


@dataclass(frozen=True)
class Keystone:
    """A running Keystone: its v3 URL, the admin's password and its lab.json-style entry."""

    url: str  # http://127.0.0.1:PORT/v3
    admin_password: str = field(repr=False)
    entry: dict = field(repr=False)
    folder: Path

    def token(self, username: str = "admin", password: str | None = None, scope: dict | None = None) -> str:
        """A token of `username` (the admin's by default), scoped to the admin project."""
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": username,
                            "domain": {"id": "default"},
                            "password": password or self.admin_password,
                        }
                    },
                },
                "scope": scope or {"project": {"name": "admin", "domain": {"id": "default"}}},
            }
        }
        headers, _ = self._call("POST", "/auth/tokens", body)
        return headers["X-Subject-Token"]

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
        """An Identity API request as the admin; its JSON answer ({} for none)."""
        return self._call(method, path, body, {"X-Auth-Token": self.token(), **(headers or {})})[1]

    def add_endpoint(self, service_type: str, url: str, interface: str = "public", region: str = REGION) -> None:
        """`openstack service create` and `openstack endpoint create`: `url` in the catalog."""
        service = self.call("POST", "/services", {"service": {"type": service_type, "name": service_type}})
        self.call(
            "POST",
            "/endpoints",
            {
                "endpoint": {
                    "service_id": service["service"]["id"],
                    "interface": interface,
                    "url": url,
                    "region_id": region,
                }
            },
        )

    def application_credential(self, name: str) -> tuple[str, str]:
        """A new application credential of the admin (on the admin project): (id, secret)."""
        token = self.token()
        _, me = self._call("GET", "/auth/tokens", None, {"X-Auth-Token": token, "X-Subject-Token": token})
        user = me["token"]["user"]["id"]
        made = self.call("POST", f"/users/{user}/application_credentials", {"application_credential": {"name": name}})
        return made["application_credential"]["id"], made["application_credential"]["secret"]

    def authtoken(self) -> str:
        """The [keystone_authtoken] section of a service behind this Keystone
        (keystonemiddleware): it validates tokens as the admin (these tests have no service
        users) and caches none, so a revoked token is refused at once."""
        return f"""
[keystone_authtoken]
www_authenticate_uri = {self.url}
auth_url = {self.url}
auth_type = password
username = admin
password = {self.admin_password}
user_domain_id = default
project_name = admin
project_domain_id = default
token_cache_time = -1
"""

    def revoke(self, token: str) -> None:
        """`openstack token revoke`."""
        self.call("DELETE", "/auth/tokens", headers={"X-Subject-Token": token})

    def _call(self, method: str, path: str, body: dict | None, headers: dict | None = None) -> tuple[dict, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return dict(r.headers), json.loads(raw) if raw else {}
        except urllib.error.HTTPError as e:
            raise LabError(f"Keystone: {method} {path}: HTTP {e.code} {e.read()[:300]!r}") from None


def start_keystone(
    folder: Path, python: str | None = None, token_expiration: int = 3600, timeout: float = START_TIMEOUT
) -> Keystone:
    """Keystone in `folder` (made here), its tokens valid `token_expiration` seconds."""
    python = python or available()
    if python is None:
        raise LabError(NOT_INSTALLED)
    folder = Path(folder).resolve()
    for sub in ("fernet-keys", "credential-keys"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/v3"
    log = folder / "keystone.log"
    conf = folder / "keystone.conf"
    conf.write_text(_keystone_conf(folder, log, token_expiration))
    password = secrets.token_urlsafe(16)
    owner = ["--keystone-user", getpass.getuser(), "--keystone-group", grp.getgrgid(os.getgid()).gr_name]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for argv in (
        ["db_sync"],
        ["fernet_setup", *owner],
        ["credential_setup", *owner],
        [
            "bootstrap",
            "--bootstrap-password",
            password,
            "--bootstrap-region-id",
            REGION,
            "--bootstrap-public-url",
            url,
            "--bootstrap-internal-url",
            url,
        ],
    ):
        done = subprocess.run(
            [python, "-c", MANAGE, "--config-file", str(conf), *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            cwd=folder,
        )
        if done.returncode != 0:
            raise LabError(f"keystone-manage {argv[0]} failed: {wsgi_service.tail(log)} {done.stderr[-500:]}")
    (folder / "serve.py").write_text(RUNNER)
    pidfile = folder / "keystone.pid"
    argv = [python, str(folder / "serve.py"), "127.0.0.1", str(port), str(pidfile), str(conf)]
    entry = wsgi_service.launch("keystone", folder, argv, pidfile, port, log, urllib.request.Request(url), timeout)
    return Keystone(url=url, admin_password=password, entry=entry, folder=folder)


def stop_keystone(keystone: Keystone) -> None:
    wsgi_service.stop(keystone.entry, keystone.folder)


def _keystone_conf(folder: Path, log: Path, expiration: int) -> str:
    return f"""\
[DEFAULT]
debug = false
use_stderr = false
log_file = {log}

[database]
connection = sqlite:///{folder / "keystone.sqlite"}

[fernet_tokens]
key_repository = {folder / "fernet-keys"}

[fernet_receipts]
key_repository = {folder / "fernet-keys"}

[credential]
key_repository = {folder / "credential-keys"}

[token]
expiration = {expiration}
"""
