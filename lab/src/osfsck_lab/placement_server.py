"""The lab's Placement API: the real placement-api (Placement's own WSGI application,
`placement.wsgi.api:application`) on loopback, against the lab's placement database, so
that the allocation and provider repairs really go through Placement.

Standalone, as Placement runs without Keystone: `[api] auth_strategy = noauth2` (a request
needs an X-Auth-Token, whose value names the user; "admin" is an admin).  Served by a
small stdlib `wsgiref` runner written next to its configuration, found by Placement
through OS_PLACEMENT_CONFIG_DIR.  At start-up Placement syncs its standard resource
classes and traits into the database (placement/deploy.py update_database), as in a cloud.

Placement and its dependencies live in their own virtualenv (scripts/setup makes
`.venv-placement` next to osfsck's `.venv`), never in osfsck's.  Without it the lab has no
Placement API and the Placement repairs fall back to their runbooks.

The database may be MariaDB or PostgreSQL (`lab build --db-url`) or the lab's SQLite file:
Placement's runtime works on all three (its migrations are not needed: the lab writes the
schema they make).
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

from osfsck_lab import wsgi_service
from osfsck_lab.hypervisors import LabError
from osfsck_lab.keystone_server import Keystone
from osfsck_lab.loopback import free_port
from osfsck_lab.wsgi_service import SERVE, venv_python

PLACEMENT_VERSION = "16.0.0"  # scripts/setup pins the same (Placement of OpenStack 2026.2)
ENV = "OSFSCK_PLACEMENT_PYTHON"
START_TIMEOUT = 60.0
NOT_INSTALLED = (
    "Placement is not installed (scripts/setup makes .venv-placement; or set OSFSCK_PLACEMENT_PYTHON): "
    "the lab has no Placement API, the Placement repairs fall back to their runbooks"
)

# The runner: Placement reads placement.conf from OS_PLACEMENT_CONFIG_DIR when its WSGI
# module is imported.
RUNNER = (
    '''\
"""placement-api's WSGI application on the stdlib server (written by osfsck lab build)."""
import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

host, port, pidfile, confdir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(pidfile, "w") as f:
    f.write(f"{os.getpid()}\\n")
os.environ["OS_PLACEMENT_CONFIG_DIR"] = confdir
sys.argv = sys.argv[:1]
from placement.wsgi.api import application  # noqa: E402  (reads placement.conf, syncs classes)
'''
    + SERVE
)


def available() -> str | None:
    """The python of Placement's virtualenv, or None when Placement is not installed."""
    return venv_python(ENV, ".venv-placement")


def start_placement(
    out: Path,
    database_url: str,
    python: str | None = None,
    timeout: float = START_TIMEOUT,
    keystone: Keystone | None = None,
    name: str = "placement",
) -> tuple[dict, list[str]]:
    """placement-api for the lab in `out` (in its folder `name`), on the placement database
    at `database_url`; returns (its lab.json entry, the API lines of the osfsck.toml
    `[placement]` section).  With `keystone`, behind Keystone as in a cloud (keystonemiddleware's
    auth_token, from Placement's own virtualenv, validating every token with that Keystone)
    instead of noauth2."""
    python = python or available()
    if python is None:
        raise LabError(NOT_INSTALLED)
    out = Path(out).resolve()
    connection = wsgi_service.connection(database_url, out, "Placement")
    folder = out / name
    (folder / "lock").mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "placement-api.log"
    (folder / "placement.conf").write_text(_placement_conf(folder, connection, log, keystone))
    (folder / "serve.py").write_text(RUNNER)
    pidfile = folder / "placement-api.pid"
    argv = [python, str(folder / "serve.py"), "127.0.0.1", str(port), str(pidfile), str(folder)]
    # the application is loaded, the database read and the standard classes synced
    ready = urllib.request.Request(
        f"http://127.0.0.1:{port}/resource_providers?name=osfsck-ready",
        headers={"X-Auth-Token": keystone.token() if keystone else "admin"},
    )
    entry = wsgi_service.launch("placement-api", folder, argv, pidfile, port, log, ready, timeout)
    # behind Keystone the endpoint is the catalog's (Keystone.add_endpoint) and the
    # credentials are the caller's
    return entry, [] if keystone else [f'endpoint = "http://127.0.0.1:{port}"', 'auth = "none"']


stop_placement = wsgi_service.stop


def _placement_conf(folder: Path, connection: str, log: Path, keystone: Keystone | None) -> str:
    return f"""\
[DEFAULT]
debug = false
use_stderr = false
log_file = {log}

[api]
auth_strategy = {"keystone" if keystone else "noauth2"}
{keystone.authtoken() if keystone else ""}

[placement_database]
connection = {connection}
sync_on_startup = false

[oslo_concurrency]
lock_path = {folder / "lock"}
"""
