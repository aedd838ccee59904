"""The lab's Networking API: the real neutron-server (Neutron's own WSGI application,
`neutron.wsgi.api:application`) on loopback, against the lab's Neutron database, so that
delete-port really goes through Neutron.

Standalone, as Neutron runs without Keystone: `auth_strategy = noauth` (every request is an
admin of the project "fake_project_id"), the ML2 plugin with the `logger` mechanism driver
(no agents, no SDN: it only logs), `transport_url = fake:/` (RPC and notifications go
nowhere) and Nova notifications off.  Neutron is served by a small stdlib `wsgiref` runner
written next to its configuration: no uWSGI, no Apache.

Neutron and its ~150 dependencies live in their own virtualenv (scripts/setup makes
`.venv-neutron` next to osfsck's `.venv`), never in osfsck's.  Without it the lab is built
without a Networking API and delete-port falls back to its runbook.

The lab's Neutron database may be MariaDB (`lab build --db-url`) or its SQLite file: Neutron's
migrations do not run on SQLite (ALTER of constraints), but they are not needed here (the
lab writes the schema from the DDL they produce), and Neutron's runtime reads, deletes and
checks revisions (If-Match) on SQLite as on MariaDB.
"""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

from osfsck_lab import wsgi_service
from osfsck_lab.hypervisors import LabError
from osfsck_lab.keystone_server import Keystone
from osfsck_lab.loopback import free_port
from osfsck_lab.wsgi_service import SERVE, venv_python

NEUTRON_VERSION = "29.0.0"  # scripts/setup pins the same
ENV = "OSFSCK_NEUTRON_PYTHON"
START_TIMEOUT = 60.0
NOT_INSTALLED = (
    "Neutron is not installed (scripts/setup makes .venv-neutron; or set OSFSCK_NEUTRON_PYTHON): "
    "the lab has no Networking API, delete-port falls back to its runbook"
)

# The runner: oslo.config reads the configuration files from sys.argv when Neutron's WSGI
# module is imported, so they are put there first.
RUNNER = (
    '''\
"""neutron-server's WSGI application on the stdlib server (written by osfsck lab build)."""
import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

host, port, pidfile, confs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
with open(pidfile, "w") as f:
    f.write(f"{os.getpid()}\\n")
sys.argv = ["neutron-api"] + [a for c in confs for a in ("--config-file", c)]
from neutron.wsgi.api import application  # noqa: E402  (reads the configuration, loads ML2)
'''
    + SERVE
)

ML2_CONF = """\
[ml2]
type_drivers = flat,vlan,vxlan,geneve,local
project_network_types = local
mechanism_drivers = logger
extension_drivers = port_security

[ml2_type_flat]
flat_networks = *

[ml2_type_vlan]
network_vlan_ranges = physnet1:100:200

[ml2_type_vxlan]
vni_ranges = 1000:2000

[ml2_type_geneve]
vni_ranges = 1:65536
"""


def available() -> str | None:
    """The python of Neutron's virtualenv, or None when Neutron is not installed."""
    return venv_python(ENV, ".venv-neutron")


def start_neutron(
    out: Path,
    database_url: str,
    python: str | None = None,
    timeout: float = START_TIMEOUT,
    keystone: Keystone | None = None,
) -> tuple[dict, list[str]]:
    """neutron-server for the lab in `out`, on the Neutron database at `database_url`;
    returns (its lab.json entry, the API lines of the osfsck.toml `[neutron]` section).
    With `keystone`, behind Keystone (`auth_strategy = keystone`: keystonemiddleware, from
    Neutron's own virtualenv) instead of noauth."""
    python = python or available()
    if python is None:
        raise LabError(NOT_INSTALLED)
    out = Path(out).resolve()
    connection = wsgi_service.connection(database_url, out, "Neutron")
    folder = out / "neutron"
    (folder / "state" / "lock").mkdir(parents=True, exist_ok=True)
    # pip installs Neutron's data files under the venv's prefix (not resolving the python:
    # a venv's python is a symlink to the system's)
    paste = Path(python).parent.parent / "etc" / "neutron" / "api-paste.ini"
    if not paste.is_file():
        raise LabError(f"Neutron's api-paste.ini is not where its virtualenv installs it ({paste})")
    shutil.copyfile(paste, folder / "api-paste.ini")
    port = free_port()
    log = folder / "neutron-server.log"
    (folder / "neutron.conf").write_text(_neutron_conf(folder, connection, log, keystone))
    (folder / "ml2_conf.ini").write_text(ML2_CONF)
    (folder / "serve.py").write_text(RUNNER)
    pidfile = folder / "neutron-server.pid"
    argv = [
        python,
        str(folder / "serve.py"),
        "127.0.0.1",
        str(port),
        str(pidfile),
        str(folder / "neutron.conf"),
        str(folder / "ml2_conf.ini"),
    ]
    ready = urllib.request.Request(
        f"http://127.0.0.1:{port}/v2.0/networks?limit=1", headers={"X-Auth-Token": keystone.token()} if keystone else {}
    )
    entry = wsgi_service.launch("neutron-server", folder, argv, pidfile, port, log, ready, timeout)
    # behind Keystone the endpoint is the catalog's (Keystone.add_endpoint)
    return entry, [] if keystone else [f'endpoint = "http://127.0.0.1:{port}"', 'auth = "none"']


stop_neutron = wsgi_service.stop


def _neutron_conf(folder: Path, connection: str, log: Path, keystone: Keystone | None) -> str:
    return f"""\
[DEFAULT]
auth_strategy = {"keystone" if keystone else "noauth"}
core_plugin = ml2
service_plugins = router
api_paste_config = {folder / "api-paste.ini"}
state_path = {folder / "state"}
transport_url = fake:/
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
setproctitle = off
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
debug = false
use_stderr = false
log_file = {log}

[database]
connection = {connection}

[oslo_concurrency]
lock_path = {folder / "state" / "lock"}

[oslo_messaging_notifications]
driver = noop
{keystone.authtoken() if keystone else ""}"""
